"""Data Bank read models: stage counts, flows, FAST, trends and breakdowns as plain data."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa

from newretail.databank import fast as fast_queries
from newretail.databank import queries
from newretail.databank.config import STAGES, DatabankConfig, Stage
from newretail.databank.errors import (
    InvalidPeriod,
    InvalidStage,
    MemberListNotFound,
)
from newretail.databank.snapshots import _as_date, materialised_dates, stage_table
from newretail.databank.tables import (
    MEMBER_LIST_INFO_SCHEMA,
    MEMBER_LIST_INFO_TABLE,
    MEMBER_LIST_TABLE,
    ensure_databank_tables,
)

STAGE_NAMES = [s.value for s in STAGES]
MAX_RANGE_DAYS = 3660


def _records(expr: Any) -> list[dict[str, Any]]:
    return list(expr.to_pyarrow().to_pylist())


def _empty_stages() -> dict[str, int]:
    return dict.fromkeys(STAGE_NAMES, 0)


def stage_counts(
    con: Any, organization_id: str, brands: Sequence[str], on: date, config: DatabankConfig
) -> dict[str, dict[str, int]]:
    """Members per stage for each brand on a date (every brand listed, zeros included)."""
    ensure_databank_tables(con)
    counts: dict[str, dict[str, int]] = {str(b): _empty_stages() for b in brands}
    snapshot = stage_table(con, organization_id, brands, on, config)
    for row in _records(queries.stage_counts(snapshot)):
        counts.setdefault(row["brand_id"], _empty_stages())[row["stage"]] = int(row["members"])
    return counts


# ---------------------------------------------------------------- flows
@dataclass
class StageFlow:
    """Where the members of one start stage went: start = stayed + Σ moved + churned."""

    stage: str
    start: int = 0
    stayed: int = 0
    moved: dict[str, int] = field(default_factory=dict)
    churned: int = 0

    def check(self) -> None:
        total = self.stayed + sum(self.moved.values()) + self.churned
        if total != self.start:
            raise AssertionError(f"flow identity broken for {self.stage}: {self.start} != {total}")


@dataclass
class BrandFlow:
    brand_id: str
    stages: list[StageFlow]
    new: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "brand_id": self.brand_id,
            "stages": [
                {
                    "stage": f.stage,
                    "start": f.start,
                    "stayed": f.stayed,
                    "moved": f.moved,
                    "churned": f.churned,
                }
                for f in self.stages
            ],
            "new": self.new,
        }


def flows(
    con: Any,
    organization_id: str,
    brands: Sequence[str],
    start: date,
    end: date,
    config: DatabankConfig,
) -> list[BrandFlow]:
    """Per brand and start stage: stayed, moved to each other stage, churned; and new."""
    if end <= start:
        raise InvalidPeriod("the end date must be after the start date", field="to")
    ensure_databank_tables(con)
    first = stage_table(con, organization_id, brands, start, config)
    last = stage_table(con, organization_id, brands, end, config)
    result: dict[str, BrandFlow] = {}

    def brand_flow(brand_id: str) -> BrandFlow:
        if brand_id not in result:
            result[brand_id] = BrandFlow(
                brand_id,
                [StageFlow(s, moved={o: 0 for o in STAGE_NAMES if o != s}) for s in STAGE_NAMES],
                _empty_stages(),
            )
        return result[brand_id]

    for brand_id in brands:
        brand_flow(str(brand_id))
    for row in _records(queries.flow_counts(first, last)):
        flow = brand_flow(row["brand_id"])
        members = int(row["members"])
        source, target = row["from_stage"], row["to_stage"]
        if source is None:
            flow.new[target] += members
            continue
        cell = flow.stages[STAGE_NAMES.index(source)]
        if target is None:
            cell.churned += members
        elif target == source:
            cell.stayed += members
        else:
            cell.moved[target] += members
    # The identity is checked against the start snapshot counted on its own.
    for row in _records(queries.stage_counts(first)):
        brand_flow(row["brand_id"]).stages[STAGE_NAMES.index(row["stage"])].start = int(
            row["members"]
        )
    for flow in result.values():
        for cell in flow.stages:
            cell.check()
    return [result[k] for k in sorted(result)]


def _stage_or_none(value: str | None, field_name: str) -> str | None:
    if value in (None, "", "none"):
        return None
    if value not in STAGE_NAMES:
        raise InvalidStage(f"a stage is one of A, I, P, L or none, not {value!r}", field=field_name)
    return value


@dataclass(frozen=True)
class FlowCell:
    brand_id: str
    start: date
    end: date
    from_stage: str | None
    to_stage: str | None


def save_member_list(
    con: Any,
    organization_id: str,
    brands: Sequence[str],
    cell: FlowCell,
    name: str,
    config: DatabankConfig,
) -> dict[str, Any]:
    """Save the members of one flow cell as a static list (audiences reuse it)."""
    if cell.end <= cell.start:
        raise InvalidPeriod("the end date must be after the start date", field="to")
    from_stage = _stage_or_none(cell.from_stage, "from_stage")
    to_stage = _stage_or_none(cell.to_stage, "to_stage")
    if from_stage is None and to_stage is None:
        raise InvalidStage("name a start stage, an end stage or both", field="from_stage")
    ensure_databank_tables(con)
    first = stage_table(con, organization_id, brands, cell.start, config)
    last = stage_table(con, organization_id, brands, cell.end, config)
    members = queries.flow_cell(
        queries.flow_pairs(first, last), cell.brand_id, from_stage, to_stage
    )
    list_id = str(uuid.uuid4())
    rows = members.select(
        organization_id=ibis.literal(organization_id, type="string"),
        list_id=ibis.literal(list_id, type="string"),
        brand_id=members.brand_id,
        member_id=members.member_id,
    )
    con.insert(MEMBER_LIST_TABLE, rows)
    stored = con.table(MEMBER_LIST_TABLE)
    size = int(
        stored.filter(stored.organization_id == organization_id, stored.list_id == list_id)
        .count()
        .execute()
    )
    definition = {
        "kind": "aipl_flow",
        "brand_id": cell.brand_id,
        "from": cell.start.isoformat(),
        "to": cell.end.isoformat(),
        "from_stage": from_stage,
        "to_stage": to_stage,
    }
    info = {
        "organization_id": organization_id,
        "list_id": list_id,
        "name": name,
        "definition": json.dumps(definition),
        "size": size,
        "created_at": datetime.now(UTC),
    }
    table = pa.Table.from_pylist([info], schema=MEMBER_LIST_INFO_SCHEMA.to_pyarrow())
    con.insert(MEMBER_LIST_INFO_TABLE, ibis.memtable(table))
    return _list_info(info)


def _list_info(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["list_id"],
        "name": row["name"],
        "definition": json.loads(row["definition"]),
        "size": int(row["size"]),
        "created_at": row["created_at"],
    }


def member_list(
    con: Any, organization_id: str, list_id: str, limit: int, offset: int
) -> dict[str, Any]:
    """A saved list's definition and a page of its members."""
    ensure_databank_tables(con)
    infos = con.table(MEMBER_LIST_INFO_TABLE)
    found = _records(
        infos.filter(infos.organization_id == organization_id, infos.list_id == list_id)
    )
    if not found:
        raise MemberListNotFound("member list not found", field="list_id")
    table = con.table(MEMBER_LIST_TABLE)
    rows = (
        table.filter(table.organization_id == organization_id, table.list_id == list_id)
        .order_by("member_id")
        .limit(limit, offset=offset)
        .member_id
    )
    return {**_list_info(found[0]), "members": rows.to_pyarrow().to_pylist()}


# ---------------------------------------------------------------- FAST and trends
def week_ends(end: date, weeks: int) -> list[date]:
    """The last days of `weeks` consecutive 7-day periods ending on `end`, oldest first."""
    if not 1 <= weeks <= 260:
        raise InvalidPeriod("weeks is between 1 and 260", field="weeks")
    return [end - timedelta(days=7 * k) for k in range(weeks - 1, -1, -1)]


def fast(
    con: Any,
    organization_id: str,
    brands: Sequence[str],
    end: date,
    weeks: int,
    config: DatabankConfig,
) -> list[dict[str, Any]]:
    """FAST per brand per week (a week is the 7 days ending on its `week_end`).

    F: members in AIPL on week_end; A: members whose stage deepened from week_end−7 to
    week_end ÷ F on week_end−7; S: members who joined the brand's membership on or before
    week_end; T: those members with a thriving event in the last N days ÷ S. F and A read
    materialised snapshots (null when a needed snapshot is missing).
    """
    ensure_databank_tables(con)
    ends = week_ends(end, weeks)
    starts = [e - timedelta(days=7) for e in ends]
    dates = sorted(set(ends) | set(starts))
    have = materialised_dates(con, organization_id, dates[0], dates[-1])
    days = queries.materialised_days(con, organization_id, dates[0], dates[-1], only=dates)
    fertility: dict[tuple[date, str], int] = {}
    for row in _records(fast_queries.fertility(con, organization_id, days)):
        fertility[(_as_date(row["date"]), row["brand_id"])] = int(row["members"])
    advancing: dict[tuple[date, str], int] = {}
    complete = [e for e in ends if e in have and e - timedelta(days=7) in have]
    if complete:
        for row in _records(fast_queries.deepened(con, organization_id, days, complete)):
            advancing[(_as_date(row["week_end"]), row["brand_id"])] = int(row["members"])
    membership: dict[tuple[date, str], tuple[int, int]] = {}
    for row in _records(fast_queries.membership(con, organization_id, brands, ends, config)):
        key = (_as_date(row["week_end"]), row["brand_id"])
        membership[key] = (int(row["members"]), int(row["thriving"]))
    brand_ids = sorted(
        {str(b) for b in brands} | {k[1] for k in fertility} | {k[1] for k in membership}
    )
    result: list[dict[str, Any]] = []
    for brand_id in brand_ids:
        for week_end in ends:
            period_start = week_end - timedelta(days=7)
            f_end = fertility.get((week_end, brand_id), 0) if week_end in have else None
            f_start = fertility.get((period_start, brand_id), 0) if period_start in have else None
            moved = advancing.get((week_end, brand_id), 0)
            members, thriving = membership.get((week_end, brand_id), (0, 0))
            result.append(
                {
                    "brand_id": brand_id,
                    "week_end": week_end,
                    "fertility": f_end,
                    "advancing": (
                        None
                        if f_end is None or f_start is None
                        else (round(moved / f_start, 6) if f_start else 0.0)
                    ),
                    "advanced_members": None if f_end is None or f_start is None else moved,
                    "superiority": members,
                    "thriving": round(thriving / members, 6) if members else 0.0,
                    "thriving_members": thriving,
                }
            )
    return result


def trends(con: Any, organization_id: str, start: date, end: date) -> list[dict[str, Any]]:
    """Members per day, brand and stage from the materialised snapshots."""
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        raise InvalidPeriod("give a range of at most ten years, start first", field="to")
    ensure_databank_tables(con)
    rows = _records(queries.trend_counts(con, organization_id, start, end))
    table: dict[tuple[date, str], dict[str, int]] = {}
    for row in rows:
        key = (_as_date(row["date"]), row["brand_id"])
        table.setdefault(key, _empty_stages())[row["stage"]] = int(row["members"])
    return [
        {"date": day, "brand_id": brand, **counts} for (day, brand), counts in sorted(table.items())
    ]


__all__ = ["STAGE_NAMES", "Stage"]
