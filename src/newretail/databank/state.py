"""Per-member AIPL state as Ibis expressions: full recomputation and the incremental day.

The state of a (brand, member) on date D is the latest date of each kind of evidence that
still counts on D (see docs/databank.md); `queries` reads the materialised state back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from newretail.databank import queries
from newretail.databank.config import DatabankConfig
from newretail.databank.localdays import day_start, local_date
from newretail.databank.tables import STATE_COLUMNS, STATE_ROW_COLUMNS, UNTIL_COLUMNS
from newretail.warehouse.connection import EVENT_TABLE

Expr = Any  # an Ibis table expression (ibis ships no type stubs)

# The event columns the AIPL state needs (fewer columns, less to carry through the plan).
STATE_INPUTS = ("brand_id", "member_id", "type", "date", "properties")
# What a member's events of one day earn (`day_news`).
NEWS_FLAGS = ("n_aware", "n_interest", "n_purchase", "n_advocacy")


def stage_evidence(
    con: Any, organization_id: str, brands: Sequence[str], on: date, config: DatabankConfig
) -> Expr:
    """The events that can still earn a stage on `on`, one row per brand they count for.

    Columns: brand_id, member_id, date and the flags `aware`, `interest`, `purchase`,
    `advocacy` (the event earns that stage's date on `on`). Events outside every window that
    their type could use (an impression 20 days ago, a review that is not positive) are
    dropped before the brands are expanded, and `properties` is read for reviews only.
    """

    def since(days: int) -> ir.BooleanValue:
        # compared as timestamps: casting every timestamptz to a date costs more
        return event.ts >= day_start(config.window_start(on, days), config.time_zone)

    event = con.table(EVENT_TABLE)
    event = event.filter(
        event.organization_id == organization_id,
        event.member_id.notnull(),
        since(config.longest_window),
        event.ts < day_start(on + timedelta(days=1), config.time_zone),
        event.type.isin(config.stage_event_types),
    )
    flags = event.select(
        "brand_id",
        "member_id",
        "ts",
        aware=queries.of_types(event, config.awareness_events) & since(config.awareness_days),
        interest=queries.of_types(event, config.interest_events) & since(config.interest_days),
        purchase=queries.of_types(event, config.purchase_events) & since(config.purchase_days),
        advocacy=since(config.loyalty_days) & queries.is_advocacy(event, config),
    )
    flags = flags.filter(flags.aware | flags.interest | flags.purchase | flags.advocacy)
    first = config.window_start(on, config.longest_window)
    flags = flags.mutate(date=local_date(flags.ts, config.time_zone, first, on, con.name))
    flags = flags.drop("ts")
    columns = ("brand_id", "member_id", "date", "aware", "interest", "purchase", "advocacy")
    specific = flags.filter(flags.brand_id.notnull())
    if not brands:
        return specific
    brand_table = ibis.memtable({"brand_key": [str(b) for b in brands]})
    generic = flags.filter(flags.brand_id.isnull()).drop("brand_id").cross_join(brand_table)
    generic = generic.select(*columns[1:], brand_id=generic.brand_key.cast("string"))
    return specific.select(*columns).union(generic.select(*columns), distinct=False)


def full_state(
    con: Any, organization_id: str, brands: Sequence[str], on: date, config: DatabankConfig
) -> Expr:
    """Per (brand, member) state on `on`, recomputed from every event in the windows."""
    loyalty_from = queries.date_literal(config.window_start(on, config.loyalty_days))
    events = stage_evidence(con, organization_id, brands, on, config)
    d = events.date
    totals = events.group_by("brand_id", "member_id").aggregate(
        last_aware_date=d.max(where=events.aware),
        last_interest_date=d.max(where=events.interest),
        last_purchase_date=d.max(where=events.purchase),
        last_advocacy_date=d.max(where=events.advocacy),
    )
    # The second latest distinct purchase day inside the loyalty window.
    days = (
        events.filter(events.purchase & (d >= loyalty_from))
        .select("brand_id", "member_id", "date")
        .distinct()
    )
    window = ibis.window(group_by=[days.brand_id, days.member_id])
    days = days.mutate(latest=days.date.max().over(window))
    previous = (
        days.filter(days.date < days.latest)
        .group_by("brand_id", "member_id")
        .aggregate(previous_purchase_date=days.date.max())
        .rename(p_brand="brand_id", p_member="member_id")
    )
    joined = totals.left_join(
        previous,
        [totals.brand_id == previous.p_brand, totals.member_id == previous.p_member],
    )
    return joined.select("brand_id", "member_id", *STATE_COLUMNS)


def full_states(
    con: Any,
    organization_id: str,
    brands: Sequence[str],
    dates: Sequence[date],
    config: DatabankConfig,
) -> Expr:
    """Full recomputation for several dates in one query (column `date`); for verification.

    Same rules as `full_state`, with each target date's windows as columns of a small table
    joined to the events.
    """
    targets = sorted(set(dates))
    frame = {
        "target": targets,
        "aware_from": [config.window_start(d, config.awareness_days) for d in targets],
        "interest_from": [config.window_start(d, config.interest_days) for d in targets],
        "purchase_from": [config.window_start(d, config.purchase_days) for d in targets],
        "loyalty_from": [config.window_start(d, config.loyalty_days) for d in targets],
    }
    frame["first"] = [min(values) for values in zip(*list(frame.values())[1:], strict=True)]
    table = ibis.memtable(frame)
    earliest = min(frame["first"])
    events = queries.brand_events(
        con,
        organization_id,
        brands,
        earliest,
        targets[-1],
        config.stage_event_types,
        config.time_zone,
        STATE_INPUTS,
    )
    events = events.inner_join(table, [events.date >= table["first"], events.date <= table.target])
    d = events.date
    purchase = queries.of_types(events, config.purchase_events)
    keys = ["target", "brand_id", "member_id"]
    totals = events.group_by(*keys).aggregate(
        last_aware_date=d.max(
            where=queries.of_types(events, config.awareness_events) & (d >= events.aware_from)
        ),
        last_interest_date=d.max(
            where=queries.of_types(events, config.interest_events) & (d >= events.interest_from)
        ),
        last_purchase_date=d.max(where=purchase & (d >= events.purchase_from)),
        last_advocacy_date=d.max(
            where=queries.is_advocacy(events, config) & (d >= events.loyalty_from)
        ),
    )
    days = events.filter(purchase & (d >= events.loyalty_from)).select(*keys, "date").distinct()
    window = ibis.window(group_by=[days.target, days.brand_id, days.member_id])
    days = days.mutate(latest=days.date.max().over(window))
    previous = (
        days.filter(days.date < days.latest)
        .group_by(*keys)
        .aggregate(previous_purchase_date=days.date.max())
        .rename(p_target="target", p_brand="brand_id", p_member="member_id")
    )
    joined = totals.left_join(
        previous,
        [
            totals.target == previous.p_target,
            totals.brand_id == previous.p_brand,
            totals.member_id == previous.p_member,
        ],
    )
    state = joined.select("brand_id", "member_id", *STATE_COLUMNS, date=joined.target)
    return queries.with_a_stage(state)


def _event_flags(events: Expr, config: DatabankConfig) -> dict[str, ir.BooleanValue]:
    """Which stage dates an event earns on its own day (every window covers that day)."""
    return {
        "n_aware": queries.of_types(events, config.awareness_events),
        "n_interest": queries.of_types(events, config.interest_events),
        "n_purchase": queries.of_types(events, config.purchase_events),
        "n_advocacy": queries.is_advocacy(events, config),
    }


def day_news(
    con: Any, organization_id: str, brands: Sequence[str], on: date, config: DatabankConfig
) -> Expr:
    """Per (brand, member) with events dated `on` that earn a stage date: which ones.

    Columns brand_id, member_id and the flags n_aware, n_interest, n_purchase, n_advocacy.
    The day's events are grouped per (brand or none, member) first, so an event without a
    brand is expanded to the brands only once per member, not once per event.
    """
    event = con.table(EVENT_TABLE)
    event = event.filter(
        event.organization_id == organization_id,
        event.member_id.notnull(),
        event.ts >= day_start(on, config.time_zone),
        event.ts < day_start(on + timedelta(days=1), config.time_zone),
        event.type.isin(config.stage_event_types),
    )
    flags = event.select("brand_id", "member_id", **_event_flags(event, config))
    earned = flags.filter(ibis.or_(*(flags[f] for f in NEWS_FLAGS)))
    grouped = earned.group_by("brand_id", "member_id").aggregate(
        **{f: earned[f].any() for f in NEWS_FLAGS}
    )
    columns = ("brand_id", "member_id", *NEWS_FLAGS)
    specific = grouped.filter(grouped.brand_id.notnull()).select(*columns)
    if not brands:
        return specific
    brand_table = ibis.memtable({"brand_key": [str(b) for b in brands]})
    generic = grouped.filter(grouped.brand_id.isnull()).drop("brand_id").cross_join(brand_table)
    generic = generic.select(*columns[1:], brand_id=generic.brand_key.cast("string"))
    both = specific.union(generic.select(*columns), distinct=False)
    # a member with events with and without the brand that day: one row
    return both.group_by("brand_id", "member_id").aggregate(
        **{f: both[f].any() for f in NEWS_FLAGS}
    )


def carried_rows(previous: Expr, news: Expr, on: date, *, in_order: bool) -> Expr:
    """The rows held on the day before `on` whose state goes on in a new row from `on`.

    Those of members with news that continue past `on` (they are closed on `on`); when
    `on` is not after the last materialised date, also the rows ending on `on` (a cut
    ended them there although their state may live on). In date order a row ending on
    `on` has no date left that counts on `on`, so it is not read.
    """
    today = queries.date_literal(on)
    later = previous.filter(previous.valid_to > today)
    keys = news.select(n_brand="brand_id", n_member="member_id")
    with_news = later.semi_join(
        keys, [later.brand_id == keys.n_brand, later.member_id == keys.n_member]
    )
    if in_order:
        return with_news
    return previous.filter(previous.valid_to == today).union(with_news, distinct=False)


def incremental_state(news: Expr, carried: Expr, on: date, config: DatabankConfig) -> Expr:
    """The state on `on` of the members whose state row changes on that day.

    `news`: `day_news` of `on`; `carried`: `carried_rows`, the stored rows of the day before
    that go on. The result holds the members with news (their previous state plus the
    news) and the carried members without news (a cut row whose state lives on); every
    other member's row simply stays valid.
    """
    today = queries.date_literal(on)
    # .view(): a barrier, else Ibis folds carried's semi join into this outer join's chain
    # (a WHERE EXISTS after the outer join, which would drop the members without a row)
    previous = carried.view()
    previous = previous.select(
        p_brand="brand_id", p_member="member_id", **{c: previous[c] for c in STATE_COLUMNS}
    )
    news = news.select(*NEWS_FLAGS, n_brand="brand_id", n_member="member_id")
    same = [previous.p_brand == news.n_brand, previous.p_member == news.n_member]
    joined = previous.outer_join(news, same)

    def kept(column: ir.DateValue, days: int) -> ir.DateValue:
        start = queries.date_literal(config.window_start(on, days))
        return ibis.ifelse(column >= start, column, queries.null_date())

    def today_if(flag: ir.BooleanValue) -> ir.DateValue:
        return ibis.ifelse(flag.fill_null(False), today, queries.null_date())

    bought = joined.n_purchase.fill_null(False)
    state = joined.select(
        brand_id=ibis.coalesce(joined.n_brand, joined.p_brand),
        member_id=ibis.coalesce(joined.n_member, joined.p_member),
        last_aware_date=ibis.coalesce(
            today_if(joined.n_aware), kept(joined.last_aware_date, config.awareness_days)
        ),
        last_interest_date=ibis.coalesce(
            today_if(joined.n_interest), kept(joined.last_interest_date, config.interest_days)
        ),
        last_purchase_date=ibis.coalesce(
            today_if(joined.n_purchase), kept(joined.last_purchase_date, config.purchase_days)
        ),
        previous_purchase_date=ibis.ifelse(
            bought,
            kept(joined.last_purchase_date, config.loyalty_days),
            kept(joined.previous_purchase_date, config.loyalty_days),
        ),
        last_advocacy_date=ibis.coalesce(
            today_if(joined.n_advocacy), kept(joined.last_advocacy_date, config.loyalty_days)
        ),
    )
    return queries.with_a_stage(state)


def _windows(config: DatabankConfig) -> dict[str, int]:
    """How many days each state date counts for."""
    return {
        "last_aware_date": config.awareness_days,
        "last_interest_date": config.interest_days,
        "last_purchase_date": config.purchase_days,
        "previous_purchase_date": config.loyalty_days,
        "last_advocacy_date": config.loyalty_days,
    }


def state_rows(
    state: Expr, organization_id: str, on: date, config: DatabankConfig, until: date | None
) -> Expr:
    """State on `on` as `aipl_state` rows valid from `on`.

    A row ends when its last date stops counting, or on `until` when given (a later date is
    materialised and keeps its own rows).
    """
    windows = _windows(config)
    untils = {
        UNTIL_COLUMNS[c]: (state[c] + ibis.interval(days=windows[c])).cast("date")
        for c in STATE_COLUMNS
    }
    rows = state.select(
        organization_id=ibis.literal(organization_id, type="string"),
        brand_id=state.brand_id,
        member_id=state.member_id,
        valid_from=queries.date_literal(on),
        **{c: state[c] for c in STATE_COLUMNS},
        **untils,
    )
    end = ibis.greatest(*(rows[u] for u in UNTIL_COLUMNS.values()))
    if until is not None:
        end = ibis.least(end, queries.date_literal(until))
    return rows.mutate(valid_to=end).select(*STATE_ROW_COLUMNS)
