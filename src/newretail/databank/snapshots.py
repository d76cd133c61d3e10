"""Materialising daily AIPL snapshots in the warehouse: full, incremental and backfill."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import ibis

from newretail.databank import queries
from newretail.databank import state as state_queries
from newretail.databank.config import DatabankConfig
from newretail.databank.errors import (
    InvalidOrganization,
    InvalidPeriod,
    SnapshotMissing,
    SnapshotOutOfOrder,
)
from newretail.databank.tables import (
    SNAPSHOT_RUN_TABLE,
    STATE_ROW_COLUMNS,
    STATE_TABLE,
    ensure_databank_tables,
)
from newretail.warehouse.sql import run_sql

# Engines that run UPDATE and DELETE. On the others (PySpark over Parquet) dates are
# materialised in order only, and closing rows rewrites the state table.
_UPDATING_ENGINES = {"duckdb", "postgres"}


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
        raise InvalidOrganization("not an organisation id", field="organization_id") from exc


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


def latest_materialised(con: Any, organization_id: str) -> date | None:
    """The last materialised date of the organisation, if any."""
    runs = con.table(SNAPSHOT_RUN_TABLE)
    value = runs.filter(runs.organization_id == organization_id).date.max().execute()
    return None if value is None or value != value else _as_date(value)  # NaT != NaT


def stage_table(
    con: Any, organization_id: str, brands: Sequence[str], on: date, config: DatabankConfig
) -> Any:
    """The snapshot of a date: the materialised rows, or the full computation when absent."""
    if is_materialised(con, organization_id, on):
        return queries.stored_snapshot(con, organization_id, on)
    state = state_queries.full_state(con, organization_id, brands, on, config)
    return queries.snapshot_rows(state, organization_id, on)


def _cut(con: Any, organization_id: str, on: date, *, keep_later: bool) -> None:
    """Forget the materialised snapshot of `on`: no state row holds on that day any more.

    Rows that held on `on` end the day before; with `keep_later` (a later date is
    materialised) their part after `on` is kept as a row starting the day after.
    """
    if con.name not in _UPDATING_ENGINES:
        raise SnapshotOutOfOrder(
            f"the {con.name} warehouse materialises dates in order only: {on} is not after "
            "the last materialised date",
            field="date",
        )
    org, day = organization_id, on.isoformat()  # a validated UUID and a date: no user text
    next_day = (on + timedelta(days=1)).isoformat()
    holds = f"organization_id = '{org}' AND valid_from <= DATE '{day}' AND valid_to > DATE '{day}'"
    statements = [
        f"DELETE FROM {SNAPSHOT_RUN_TABLE} WHERE organization_id = '{org}' "  # noqa: S608
        f"AND date = DATE '{day}'"
    ]
    if keep_later:
        tail = ", ".join(STATE_ROW_COLUMNS).replace(
            "valid_from", f"DATE '{next_day}' AS valid_from"
        )
        statements.append(
            f"INSERT INTO {STATE_TABLE} SELECT {tail} FROM {STATE_TABLE} "  # noqa: S608
            f"WHERE {holds} AND valid_to > DATE '{next_day}'"
        )
    statements += [
        f"UPDATE {STATE_TABLE} SET valid_to = DATE '{day}' "  # noqa: S608
        f"WHERE {holds} AND valid_from < DATE '{day}'",
        f"DELETE FROM {STATE_TABLE} WHERE organization_id = '{org}' "  # noqa: S608
        f"AND valid_from = DATE '{day}'",
    ]
    for statement in statements:
        run_sql(con, statement)


def _close(con: Any, organization_id: str, on: date, *, only_rewritten: bool) -> None:
    """End on `on` the rows that began before it and hold on it.

    With `only_rewritten`, only the rows of members that have a new row starting on `on`
    (an incremental day); otherwise every such row (a full day in order).
    """
    org, day = organization_id, on.isoformat()
    condition = (
        f"s.organization_id = '{org}' AND s.valid_from < DATE '{day}' AND s.valid_to > DATE '{day}'"
    )
    if con.name in _UPDATING_ENGINES:
        if only_rewritten:
            statement = (
                f"UPDATE {STATE_TABLE} AS s SET valid_to = DATE '{day}' FROM ("  # noqa: S608
                f"SELECT brand_id, member_id FROM {STATE_TABLE} WHERE organization_id = "
                f"'{org}' AND valid_from = DATE '{day}') AS n WHERE {condition} "
                "AND s.brand_id = n.brand_id AND s.member_id = n.member_id"
            )
        else:
            statement = (
                f"UPDATE {STATE_TABLE} AS s SET valid_to = DATE '{day}' "  # noqa: S608
                f"WHERE {condition}"
            )
        run_sql(con, statement)
        return
    _rewrite_closing(con, org, on, only_rewritten=only_rewritten)


def _rewrite_closing(con: Any, organization_id: str, on: date, *, only_rewritten: bool) -> None:
    """`_close` on an engine without UPDATE: write the table anew and swap it in."""
    table = con.table(STATE_TABLE)
    day = ibis.literal(on, type="date")
    closing = (
        (table.organization_id == organization_id)
        & (table.valid_from < day)
        & (table.valid_to > day)
    )
    if only_rewritten:
        starting = (
            table.filter(table.organization_id == organization_id, table.valid_from == day)
            .select(n_brand="brand_id", n_member="member_id")
            .distinct()
        )
        table = table.left_join(
            starting, [table.brand_id == starting.n_brand, table.member_id == starting.n_member]
        )
        closing = closing & table.n_member.notnull()
    rewritten = table.mutate(valid_to=ibis.ifelse(closing, day, table.valid_to)).select(
        *STATE_ROW_COLUMNS
    )
    fresh = f"{STATE_TABLE}_rewrite"
    con.create_table(fresh, rewritten, overwrite=True)
    con.drop_table(STATE_TABLE)
    con.rename_table(fresh, STATE_TABLE)


def _write_rows(
    con: Any,
    org: str,
    brands: Sequence[str],
    on: date,
    config: DatabankConfig,
    mode: SnapshotMode,
    in_order: bool,
    latest: date | None,
) -> None:
    """Insert the state rows starting on `on` and close the rows they replace."""
    later = not in_order and latest is not None and latest > on
    until = on + timedelta(days=1) if later else None
    if mode != SnapshotMode.INCREMENTAL:
        state = state_queries.full_state(con, org, brands, on, config)
        _insert(con, state_queries.state_rows(state, org, on, config, until))
        if in_order:
            _close(con, org, on, only_rewritten=False)
        return
    with _Scratch(con) as scratch:
        # the news is cheap to compute twice; inserting from a temporary copy of it measured
        # slower (DuckDB's checkpoint at commit took longer)
        news = state_queries.day_news(con, org, brands, on, config)
        stored = con.table(STATE_TABLE)
        by_row_id = con.name == "duckdb"
        if by_row_id:  # the rows to close are found once and closed again by rowid
            stored = stored.mutate(row_id=stored.rowid())
        previous = queries.rows_valid_on(con, org, on - timedelta(days=1), stored)
        carried = scratch.keep(state_queries.carried_rows(previous, news, on, in_order=in_order))
        state = state_queries.incremental_state(news, carried, on, config)
        _insert(con, state_queries.state_rows(state, org, on, config, until))
        if not in_order:
            return  # the cut already ended the rows that held on `on`
        if by_row_id:
            run_sql(
                con,
                f"UPDATE {STATE_TABLE} SET valid_to = DATE '{on.isoformat()}' "  # noqa: S608
                f"WHERE rowid IN (SELECT row_id FROM {scratch.name(carried)})",
            )
        else:
            _close(con, org, on, only_rewritten=True)


def _insert(con: Any, rows: Any) -> None:
    # raw SQL: compiling ibis's INSERT re-parses the SELECT, which costs more
    con._run_pre_execute_hooks(rows)  # registers the brands memtable the SQL refers to
    run_sql(con, f"INSERT INTO {STATE_TABLE} {con.compile(rows)}")


class _Scratch:
    """Intermediate results computed once and read twice: temporary tables on DuckDB.

    Elsewhere the expressions are simply inlined (PostgreSQL plans them again; PySpark
    evaluates lazily anyway).
    """

    def __init__(self, con: Any):
        self.con = con
        self.tables: dict[int, str] = {}

    def __enter__(self) -> _Scratch:
        return self

    def keep(self, expr: Any) -> Any:
        if self.con.name != "duckdb":
            return expr
        name = f"aipl_scratch_{uuid.uuid4().hex}"
        self.con._run_pre_execute_hooks(expr)
        run_sql(self.con, f"CREATE TEMPORARY TABLE {name} AS {self.con.compile(expr)}")
        table = self.con.table(name)
        self.tables[id(table)] = name
        return table

    def name(self, table: Any) -> str:
        return self.tables[id(table)]

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is not None:
            return  # created inside the transaction, which is rolled back
        for name in self.tables.values():
            run_sql(self.con, f"DROP TABLE IF EXISTS temp.main.{name}")


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

    In date order (the usual daily job and backfill) an incremental day writes only the
    state rows of the members with events that day and closes their previous rows; the
    other members' rows stay valid. Recomputing a materialised or earlier date first cuts
    the rows that hold on it (later dates keep theirs). `previous_known` skips checking
    that the day before is materialised (backfill just wrote it).
    """
    org = organisation_key(organization_id)
    ensure_databank_tables(con)
    previous_day = on - timedelta(days=1)
    latest = latest_materialised(con, org)
    in_order = latest is None or latest < on
    has_previous = latest == previous_day or (
        latest is not None and not in_order and is_materialised(con, org, previous_day)
    )
    if mode == SnapshotMode.AUTO:
        mode = SnapshotMode.INCREMENTAL if has_previous else SnapshotMode.FULL
    if mode == SnapshotMode.INCREMENTAL and not (previous_known or has_previous):
        raise SnapshotMissing(
            f"an incremental snapshot of {on} needs the snapshot of {previous_day}",
            field="date",
        )
    if not in_order:
        _cut(con, org, on, keep_later=latest is not None and latest > on)
    transaction = mode == SnapshotMode.INCREMENTAL and con.name == "duckdb"
    if transaction:  # the rows to close found once, closed again by rowid: one transaction
        run_sql(con, "BEGIN TRANSACTION")
    try:
        _write_rows(con, org, brands, on, config, mode, in_order, latest)
        if transaction:
            run_sql(con, "COMMIT")
    except BaseException:
        if transaction:
            run_sql(con, "ROLLBACK")
        raise
    # a row is valid only while one of its dates counts, so this is the snapshot's size
    count = int(queries.rows_valid_on(con, org, on).count().execute())
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    # Literal values only: a validated UUID, a date, an enum value, an int and a timestamp.
    run_sql(
        con,
        f"INSERT INTO {SNAPSHOT_RUN_TABLE} VALUES ('{org}', DATE '{on.isoformat()}', "  # noqa: S608
        f"'{mode.value}', {count}, TIMESTAMP '{now}')",
    )
    return SnapshotRun(date=on, mode=mode, rows=count)


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
        raise InvalidPeriod("the end date is before the start date", field="end")
    if (end - start).days > 3660:
        raise InvalidPeriod("backfill at most ten years at a time", field="end")
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
