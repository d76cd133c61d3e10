"""Materialising daily AIPL snapshots in the warehouse: full, incremental and backfill."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import ibis

from newretail.core.errors import Conflict, InvalidInput
from newretail.databank import queries
from newretail.databank.config import DatabankConfig
from newretail.databank.tables import (
    SNAPSHOT_RUN_TABLE,
    SNAPSHOT_TABLE,
    ensure_databank_tables,
)

# Engines that run DELETE; on the others a materialised date cannot be recomputed in place.
_DELETING_ENGINES = {"duckdb", "postgres"}


class SnapshotMode(StrEnum):
    AUTO = "auto"  # incremental when the day before is materialised, full otherwise
    FULL = "full"
    INCREMENTAL = "incremental"


@dataclass(frozen=True)
class SnapshotRun:
    date: date
    mode: SnapshotMode
    rows: int


def organisation_key(organization_id: uuid.UUID | str) -> str:
    """The organisation id as the warehouse stores it (a canonical UUID string)."""
    try:
        return str(uuid.UUID(str(organization_id)))
    except ValueError as exc:
        raise InvalidInput("not an organisation id", field="organization_id") from exc


def materialised_dates(con: Any, organization_id: str, start: date, end: date) -> set[date]:
    """Dates between start and end (inclusive) that hold a materialised snapshot."""
    ensure_databank_tables(con)
    runs = con.table(SNAPSHOT_RUN_TABLE)
    found = runs.filter(
        runs.organization_id == organization_id,
        runs.date >= ibis.literal(start, type="date"),
        runs.date <= ibis.literal(end, type="date"),
    ).date
    return {_as_date(value) for value in found.to_pyarrow().to_pylist()}


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def is_materialised(con: Any, organization_id: str, on: date) -> bool:
    return on in materialised_dates(con, organization_id, on, on)


def stage_table(
    con: Any, organization_id: str, brands: Sequence[str], on: date, config: DatabankConfig
) -> Any:
    """The snapshot of a date: the materialised rows, or the full computation when absent."""
    if is_materialised(con, organization_id, on):
        return queries.stored_snapshot(con, organization_id, on)
    state = queries.full_state(con, organization_id, brands, on, config)
    return queries.snapshot_rows(state, organization_id, on)


def _forget(con: Any, organization_id: str, on: date) -> None:
    if con.name not in _DELETING_ENGINES:
        if not is_materialised(con, organization_id, on):
            return
        raise Conflict(
            f"the snapshot of {on} exists and the {con.name} warehouse cannot replace it",
            field="date",
        )
    day = on.isoformat()  # a date and a validated UUID: nothing user-typed reaches the SQL
    for table in (SNAPSHOT_RUN_TABLE, SNAPSHOT_TABLE):
        statement = (
            f"DELETE FROM {table} WHERE organization_id = '{organization_id}' "  # noqa: S608
            f"AND date = DATE '{day}'"
        )
        _execute(con, statement)


def materialise(
    con: Any,
    organization_id: uuid.UUID | str,
    brands: Sequence[str],
    on: date,
    config: DatabankConfig,
    mode: SnapshotMode = SnapshotMode.AUTO,
    *,
    previous_known: bool = False,
) -> SnapshotRun:
    """Compute the snapshot of `on` and store it in place of any earlier one.

    `previous_known` skips checking that the day before is materialised (backfill just
    wrote it).
    """
    org = organisation_key(organization_id)
    ensure_databank_tables(con)
    previous_day = on - timedelta(days=1)
    if mode == SnapshotMode.AUTO:
        has_previous = is_materialised(con, org, previous_day)
        mode = SnapshotMode.INCREMENTAL if has_previous else SnapshotMode.FULL
    if mode == SnapshotMode.INCREMENTAL:
        if not previous_known and not is_materialised(con, org, previous_day):
            raise InvalidInput(
                f"an incremental snapshot of {on} needs the snapshot of {previous_day}",
                field="date",
            )
        previous = queries.stored_snapshot(con, org, previous_day)
        state = queries.incremental_state(con, org, brands, previous, on, config)
    else:
        state = queries.full_state(con, org, brands, on, config)
    rows = queries.snapshot_rows(state, org, on)
    _forget(con, org, on)
    con._run_pre_execute_hooks(rows)  # registers the brands memtable the SQL refers to
    _execute(con, f"INSERT INTO {SNAPSHOT_TABLE} {con.compile(rows)}")
    count = int(queries.stored_snapshot(con, org, on).count().execute())
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    # Literal values only: a validated UUID, a date, an enum value, an int and a timestamp.
    _execute(
        con,
        f"INSERT INTO {SNAPSHOT_RUN_TABLE} VALUES ('{org}', DATE '{on.isoformat()}', "  # noqa: S608
        f"'{mode.value}', {count}, TIMESTAMP '{now}')",
    )
    return SnapshotRun(date=on, mode=mode, rows=count)


def _execute(con: Any, statement: str) -> None:
    """Run a statement; compiling ibis's INSERT re-parses the SELECT, which costs more."""
    result = con.raw_sql(statement)
    if con.name == "postgres":  # a cursor there; DuckDB hands back the connection itself
        result.close()


def backfill(
    con: Any,
    organization_id: uuid.UUID | str,
    brands: Sequence[str],
    start: date,
    end: date,
    config: DatabankConfig,
    on_day: Callable[[SnapshotRun], None] | None = None,
) -> list[SnapshotRun]:
    """Snapshots of every day from start to end: the first in full, then incrementally."""
    if end < start:
        raise InvalidInput("the end date is before the start date", field="end")
    if (end - start).days > 3660:
        raise InvalidInput("backfill at most ten years at a time", field="end")
    runs: list[SnapshotRun] = []
    day = start
    while day <= end:
        mode = SnapshotMode.AUTO if day == start else SnapshotMode.INCREMENTAL
        run = materialise(
            con, organization_id, brands, day, config, mode, previous_known=day != start
        )
        runs.append(run)
        if on_day is not None:
            on_day(run)
        day += timedelta(days=1)
    return runs
