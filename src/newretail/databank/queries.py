"""AIPL read models as Ibis expressions: one pushed-down query per question, on any engine.

Dates are the organisation's local calendar days of the event's `ts` (the zone of the
settings, `DatabankConfig.time_zone`; see localdays). "In the last N days" on date D means
event dates D−(N−1) … D inclusive; events after D are ignored. See docs/databank.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from newretail.databank.config import STAGE_RANK, DatabankConfig, Stage
from newretail.databank.localdays import day_start, local_date
from newretail.databank.tables import (
    SNAPSHOT_RUN_TABLE,
    STATE_COLUMNS,
    STATE_TABLE,
    UNTIL_COLUMNS,
)
from newretail.warehouse.connection import EVENT_TABLE

Expr = Any  # an Ibis table expression (ibis ships no type stubs)

_RATING = r'"rating"\s*:\s*"?(-?[0-9]+(?:\.[0-9]+)?)'
_POSITIVE = r'"positive"\s*:\s*true'
_CITY = r'"city"\s*:\s*"([^"]*)"'
# the top of the category path, as written (see event_category)
_CATEGORY_TOP = r'"category"\s*:\s*"([^"/]*)'
DIMENSIONS = ("channel", "store_id", "city", "category")


def event_category(properties: ir.StringValue) -> ir.StringValue:
    """The category an event counts for: the top of its `category` path, lower case ("Tea/Green"
    and "tea" are both `tea`). It is the catalogue's rule (catalog.pricing.category_of, which
    names the category of order lines and earn rules) read from the JSON text of the properties;
    tests/databank/test_categories.py checks that both forms agree."""
    return properties.re_extract(_CATEGORY_TOP, 1).strip().lower().nullif("")


def date_literal(day: date) -> ir.DateScalar:
    """A date as an Ibis literal."""
    return ibis.literal(day, type="date")


def null_date() -> ir.DateValue:
    """A typed null date."""
    return ibis.null().cast("date")


def brand_events(
    con: Any,
    organization_id: str,
    brands: Sequence[str],
    start: date,
    end: date,
    types: Sequence[str] | None,
    time_zone: str,
    columns: Sequence[str] = (
        "brand_id",
        "member_id",
        "type",
        "date",
        "ts",
        "message_id",
        "store_id",
        "channel",
        "properties",
    ),
) -> Expr:
    """The organisation's member events of the local days start … end, one per brand they count for.

    An event with a brand_id counts for that brand only; an event without one counts for
    every brand in `brands` (the organisation's brands).
    """
    event = con.table(EVENT_TABLE)
    base = event.filter(
        event.organization_id == organization_id,
        event.member_id.notnull(),
        event.ts >= day_start(start, time_zone),
        event.ts < day_start(end + timedelta(days=1), time_zone),
    )
    if types is not None:
        base = base.filter(base.type.isin(list(types)))
    base = base.mutate(date=local_date(base.ts, time_zone, start, end, con.name))
    specific = base.filter(base.brand_id.notnull()).select(*columns)
    rest = [c for c in columns if c != "brand_id"]
    if not brands:
        return specific
    brand_table = ibis.memtable({"brand_key": [str(b) for b in brands]})
    generic = base.filter(base.brand_id.isnull()).cross_join(brand_table)
    generic = generic.select(*rest, brand_id=generic.brand_key.cast("string")).select(*columns)
    return specific.union(generic, distinct=False)


def _positive_rating(events: Expr, config: DatabankConfig) -> ir.BooleanValue:
    """`properties` rated at least the threshold, or flagged `"positive": true`."""
    rating = events.properties.re_extract(_RATING, 1).nullif("").cast("float64")
    flagged = events.properties.re_search(_POSITIVE)
    return (rating >= config.positive_review_min_rating).fill_null(False) | flagged.fill_null(False)


def is_advocacy(events: Expr, config: DatabankConfig) -> ir.BooleanValue:
    """Loyalty evidence other than repeat purchase: a share, or a positive review."""
    shared = (
        events.type.isin(config.advocacy_events) if config.advocacy_events else ibis.literal(False)
    )
    if not config.review_events:
        return shared
    # the regex runs on reviews only (a CASE evaluates its branch for matching rows)
    review = events.type.isin(config.review_events)
    return shared | ibis.ifelse(review, _positive_rating(events, config), False)


def of_types(events: Expr, types: Sequence[str]) -> ir.BooleanValue:
    """The event is of one of these types (false when there are none)."""
    return events.type.isin(list(types)) if types else ibis.literal(False)


def with_a_stage(state: Expr) -> Expr:
    """The state rows that hold at least one date, i.e. a stage."""
    return state.filter(
        state.last_aware_date.notnull()
        | state.last_interest_date.notnull()
        | state.last_purchase_date.notnull()
        | state.previous_purchase_date.notnull()
        | state.last_advocacy_date.notnull()
    )


def rows_valid_on(con: Any, organization_id: str, on: date, table: Expr | None = None) -> Expr:
    """The stored state rows of the organisation that hold on `on` (dates not clipped)."""
    table = con.table(STATE_TABLE) if table is None else table
    day = date_literal(on)
    return table.filter(
        table.organization_id == organization_id,
        table.valid_from <= day,
        table.valid_to > day,
    )


def _clipped(rows: Expr, day: Any) -> dict[str, ir.DateValue]:
    return {
        c: ibis.ifelse(rows[UNTIL_COLUMNS[c]] > day, rows[c], null_date()) for c in STATE_COLUMNS
    }


def stage_of(state: Expr) -> ir.StringValue:
    """The highest stage the state meets (its dates are already clipped to their windows)."""
    return ibis.cases(
        (
            state.previous_purchase_date.notnull() | state.last_advocacy_date.notnull(),
            Stage.L.value,
        ),
        (state.last_purchase_date.notnull(), Stage.P.value),
        (state.last_interest_date.notnull(), Stage.I.value),
        (state.last_aware_date.notnull(), Stage.A.value),
        else_=ibis.null().cast("string"),
    )


def snapshot_rows(state: Expr, organization_id: str, on: date | None) -> Expr:
    """One row per member with a stage on a date: stage and state dates (on=None: `date`)."""
    return state.select(
        organization_id=ibis.literal(organization_id, type="string"),
        brand_id=state.brand_id,
        member_id=state.member_id,
        date=state.date.cast("date") if on is None else date_literal(on),
        stage=stage_of(state),
        last_aware_date=state.last_aware_date,
        last_interest_date=state.last_interest_date,
        last_purchase_date=state.last_purchase_date,
        previous_purchase_date=state.previous_purchase_date,
        last_advocacy_date=state.last_advocacy_date,
    )


def stored_snapshot(con: Any, organization_id: str, on: date) -> Expr:
    """The materialised snapshot of one date, in the `snapshot_rows` layout."""
    rows = rows_valid_on(con, organization_id, on)
    day = date_literal(on)
    state = rows.select("brand_id", "member_id", **_clipped(rows, day))
    return snapshot_rows(with_a_stage(state), organization_id, on)


def stored_snapshots(con: Any, organization_id: str, days: Expr) -> Expr:
    """The materialised snapshots of several dates (`days` has a `date` column)."""
    table = con.table(STATE_TABLE)
    rows = table.filter(table.organization_id == organization_id)
    days = days.select(day="date")
    joined = rows.inner_join(days, [rows.valid_from <= days.day, rows.valid_to > days.day])
    state = joined.select("brand_id", "member_id", **_clipped(joined, joined.day), date="day")
    return snapshot_rows(with_a_stage(state), organization_id, None)


def materialised_days(
    con: Any, organization_id: str, start: date, end: date, only: Sequence[date] | None = None
) -> Expr:
    """The materialised dates start … end (or those of `only`), as a table with `date`."""
    runs = con.table(SNAPSHOT_RUN_TABLE)
    runs = runs.filter(
        runs.organization_id == organization_id,
        runs.date >= date_literal(start),
        runs.date <= date_literal(end),
    )
    if only is not None:
        runs = runs.filter(runs.date.isin([date_literal(d) for d in only]))
    return runs.select("date").distinct()


def stage_counts(snapshot: Expr) -> Expr:
    """Members per brand and stage."""
    return snapshot.group_by("brand_id", "stage").aggregate(members=snapshot.count())


def _rank(stage: ir.StringValue) -> ir.IntegerValue:
    return ibis.cases(*((stage == s.value, rank) for s, rank in STAGE_RANK.items()), else_=0)


def flow_pairs(start: Expr, end: Expr) -> Expr:
    """(brand, member, from_stage, to_stage) for members in either snapshot (null: outside)."""
    a = start.select(a_brand="brand_id", a_member="member_id", from_stage="stage")
    b = end.select(b_brand="brand_id", b_member="member_id", to_stage="stage")
    joined = a.outer_join(b, [a.a_brand == b.b_brand, a.a_member == b.b_member])
    return joined.select(
        brand_id=ibis.coalesce(joined.a_brand, joined.b_brand),
        member_id=ibis.coalesce(joined.a_member, joined.b_member),
        from_stage=joined.from_stage,
        to_stage=joined.to_stage,
    )


def flow_counts(start: Expr, end: Expr) -> Expr:
    """Members per brand, from_stage and to_stage between two snapshots."""
    pairs = flow_pairs(start, end)
    return pairs.group_by("brand_id", "from_stage", "to_stage").aggregate(members=pairs.count())


def flow_cell(pairs: Expr, brand_id: str, from_stage: str | None, to_stage: str | None) -> Expr:
    """The members of one flow cell (None: outside AIPL, i.e. new or churned)."""
    condition = [pairs.brand_id == brand_id]
    condition.append(
        pairs.from_stage.isnull() if from_stage is None else pairs.from_stage == from_stage
    )
    condition.append(pairs.to_stage.isnull() if to_stage is None else pairs.to_stage == to_stage)
    return pairs.filter(*condition).select("brand_id", "member_id")


def deepened(start: Expr, end: Expr) -> Expr:
    """Members per brand whose stage deepened between two snapshots (from a stage)."""
    pairs = flow_pairs(start, end)
    moved = pairs.filter(
        pairs.from_stage.notnull(),
        pairs.to_stage.notnull(),
        _rank(pairs.to_stage) > _rank(pairs.from_stage),
    )
    return moved.group_by("brand_id").aggregate(members=moved.count())


def members_joined(
    con: Any, organization_id: str, brands: Sequence[str], on: date, config: DatabankConfig
) -> Expr:
    """Distinct members per brand that joined its membership on or before `on`."""
    events = brand_events(
        con,
        organization_id,
        brands,
        date(1970, 1, 1),
        on,
        config.membership_events,
        config.time_zone,
    )
    return events.select("brand_id", "member_id").distinct()


def thriving_counts(
    con: Any, organization_id: str, brands: Sequence[str], on: date, config: DatabankConfig
) -> Expr:
    """Per brand: members (joined) and those active (thriving events) in the last N days."""
    members = members_joined(con, organization_id, brands, on, config)
    start = config.window_start(on, config.thriving_days)
    active = (
        brand_events(
            con, organization_id, brands, start, on, config.thriving_events, config.time_zone
        )
        .select(t_brand="brand_id", t_member="member_id")
        .distinct()
    )
    joined = members.left_join(
        active, [members.brand_id == active.t_brand, members.member_id == active.t_member]
    )
    return joined.group_by("brand_id").aggregate(
        members=joined.count(),
        thriving=joined.t_member.notnull().sum(),
    )


def earning_events(
    con: Any,
    organization_id: str,
    brands: Sequence[str],
    snapshot: Expr,
    on: date,
    config: DatabankConfig,
) -> Expr:
    """For each member in the snapshot, the latest touchpoint that earned their stage.

    A and I: the latest event of that stage's types in its window; P: the latest purchase in
    the P window; L: the latest purchase or advocacy in the L window. Ties on `ts` are broken
    by the larger message_id, so every engine picks the same event.
    """
    first = config.window_start(on, config.longest_window)
    events = brand_events(
        con, organization_id, brands, first, on, config.stage_event_types, config.time_zone
    )
    s = snapshot.select(s_brand="brand_id", s_member="member_id", stage="stage")
    joined = events.inner_join(s, [events.brand_id == s.s_brand, events.member_id == s.s_member])
    d = joined.date

    def inside(days: int) -> ir.BooleanValue:
        return d >= date_literal(config.window_start(on, days))

    purchase = of_types(joined, config.purchase_events)
    earns = ibis.cases(
        (
            joined.stage == Stage.A.value,
            of_types(joined, config.awareness_events) & inside(config.awareness_days),
        ),
        (
            joined.stage == Stage.I.value,
            of_types(joined, config.interest_events) & inside(config.interest_days),
        ),
        (joined.stage == Stage.P.value, purchase & inside(config.purchase_days)),
        (
            joined.stage == Stage.L.value,
            (purchase | is_advocacy(joined, config)) & inside(config.loyalty_days),
        ),
        else_=False,
    )
    earning = joined.filter(earns)
    window = ibis.window(
        group_by=[earning.brand_id, earning.member_id],
        order_by=[earning.ts.desc(), earning.message_id.desc()],
    )
    ranked = earning.mutate(position=ibis.row_number().over(window))
    latest = ranked.filter(ranked.position == 0)
    return latest.select(
        "brand_id",
        "member_id",
        "stage",
        "channel",
        "store_id",
        city=latest.properties.re_extract(_CITY, 1).nullif(""),
        category=event_category(latest.properties),
    )


def touchpoint_counts(earned: Expr) -> Expr:
    """Members per brand, stage, channel, store, city and category of the earning touchpoint
    (every breakdown is a roll-up of these few rows)."""
    return earned.group_by("brand_id", "stage", *DIMENSIONS).aggregate(members=earned.count())


def trend_counts(con: Any, organization_id: str, start: date, end: date) -> Expr:
    """Members per day, brand and stage from the materialised snapshots."""
    rows = stored_snapshots(
        con, organization_id, materialised_days(con, organization_id, start, end)
    )
    return rows.group_by("date", "brand_id", "stage").aggregate(members=rows.count())
