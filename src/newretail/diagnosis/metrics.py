"""The base metrics of each store and local day, from the warehouse's events (one Ibis query that
DuckDB and PostgreSQL answer alike), and their sums over any set of store-days.

Definitions (docs/diagnosis.md, "Metrics"):

- Days: each store's own local days (its `time_zone`, as its till's day), the organisation's
  zone for the other stores and for events without a store. A group's day is the sum of its
  stores' local days.
- GMV: the amounts of the day's paid purchases (`purchase` events: the order total) minus the
  amounts refunded that day (`order_refunded` events: the refund total), at the order's store.
  A refund counts on the day it is made: a closed day is never rewritten.
- Transactions: distinct orders paid (a purchase's `order_id`, else the event itself).
  Buyers: distinct paying people per store-day — the member, else the anonymous id, else the
  order (an unidentified walk-in buying twice is two buyers). Units: the `quantity` of the
  purchases' `lines` (orders) or `items` (collected purchases; a line without one is one unit),
  else a top-level `quantity`; units per transaction counts only the orders that carry units.
  Transactions, buyers and units are gross: a refund lowers GMV, not them.
- Visitors: a people counter's entries (`footfall` events, the sum of their `count`) when the
  store-day has any — the stronger source; otherwise distinct people (member, else anonymous
  id, else the event) with a visit event: `store_visit`, `counter_approach` or `shelf_browse` in
  a store, or a page, screen or product view online.
- Paying conversion = buyers ÷ visitors (Taobao 生意参谋, JD 商智); order value per buyer =
  GMV ÷ buyers, so GMV = visitors × conversion × order value per buyer exactly. The RetailNext /
  ShopperTrak figure, transactions ÷ visitors, is `transaction_conversion`.
- Groups (a brand, a city, the organisation, a week): each figure summed over the store-days,
  so visitors and buyers are counted once per store-day (a person in two stores is two), and
  the ratios are recomputed from the sums, never averaged.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from newretail.core.errors import InvalidInput
from newretail.databank.localdays import day_start, local_date, shifted_date, utc_offset_us
from newretail.warehouse.connection import EVENT_TABLE

Expr = Any  # an Ibis table expression (ibis ships no type stubs)
K = TypeVar("K", bound=Hashable)

MAX_DAYS = 3660
ZERO = Decimal("0.00")
_MONEY = dt.Decimal(38, 2)
_COUNT = dt.int64


# A visit in a store: walking in, approaching a counter, browsing a cloud shelf's screen; online:
# a page, screen or product view. The funnels' visit steps read the same types.
IN_STORE_VISITS = ("store_visit", "counter_approach", "shelf_browse")
ONLINE_VISITS = ("page_view", "screen_view", "product_view")


@dataclass(frozen=True)
class Sources:
    """The event types each figure is read from (defaults: the built-in taxonomy)."""

    purchase_events: tuple[str, ...] = ("purchase",)
    refund_events: tuple[str, ...] = ("order_refunded",)
    visit_events: tuple[str, ...] = (*IN_STORE_VISITS, *ONLINE_VISITS)
    footfall_events: tuple[str, ...] = ("footfall",)

    @property
    def types(self) -> list[str]:
        """Every event type the metrics read."""
        kinds = (
            *self.purchase_events,
            *self.refund_events,
            *self.visit_events,
            *self.footfall_events,
        )
        return sorted(set(kinds))


SOURCES = Sources()


class VisitorSource(StrEnum):
    """Where a store-day's visitors come from."""

    FOOTFALL = "footfall"  # a people counter
    VISITS = "visits"  # identified visit events


def _ratio(part: int | Decimal, whole: int) -> float | None:
    return None if whole == 0 else float(part) / whole


@dataclass(frozen=True)
class Metrics:
    """The additive figures of a store-day or of a group of store-days, and the ratios of them."""

    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    transactions: int = 0
    buyers: int = 0
    units: int = 0
    transactions_with_units: int = 0
    refunded_orders: int = 0
    visitors: int = 0
    store_days: int = 0
    # data quality: store-days with purchases and no visitors, and with more buyers than visitors
    purchases_without_visitors: int = 0
    buyers_above_visitors: int = 0
    # the buyers of the store-days that counted visitors (a vending machine's do not)
    buyers_with_visitors: int = 0

    @property
    def gmv(self) -> Decimal:
        """Paid net of refunded."""
        return self.paid - self.refunded

    @property
    def conversion(self) -> float | None:
        """Paying conversion: buyers ÷ visitors (None without visitors)."""
        return _ratio(self.buyers, self.visitors)

    @property
    def visited_conversion(self) -> float | None:
        """Buyers ÷ visitors over the store-days that counted visitors only: a group's
        conversion as a person reads it, not raised by the buyers of stores that count no
        visitors (vending machines, cloud shelves without a counter). The decomposition keeps
        `conversion`, for which GMV = visitors × conversion × order value holds."""
        return _ratio(self.buyers_with_visitors, self.visitors)

    @property
    def transaction_conversion(self) -> float | None:
        """Transactions ÷ visitors, the people-counter vendors' conversion."""
        return _ratio(self.transactions, self.visitors)

    @property
    def order_value_per_buyer(self) -> Decimal | None:
        """GMV ÷ buyers (客单价), unrounded."""
        return None if self.buyers == 0 else self.gmv / self.buyers

    @property
    def order_value_per_transaction(self) -> Decimal | None:
        """GMV ÷ transactions (average transaction value), unrounded."""
        return None if self.transactions == 0 else self.gmv / self.transactions

    @property
    def units_per_transaction(self) -> float | None:
        """Units ÷ the transactions that carry units."""
        return _ratio(self.units, self.transactions_with_units)

    def __add__(self, other: Metrics) -> Metrics:
        return Metrics(*(getattr(self, name) + getattr(other, name) for name in _METRIC_FIELDS))


_METRIC_FIELDS = tuple(f.name for f in fields(Metrics))


@dataclass(frozen=True)
class StoreDay:
    """One store's (None: events without a store) metrics on one of its local days, and both
    visitor sources as found."""

    store_id: str | None
    day: date
    metrics: Metrics
    visit_visitors: int  # distinct people with a visit event
    footfall: int | None  # the people counter's entries; None when it sent nothing

    @property
    def visitor_source(self) -> VisitorSource | None:
        """The source the visitors were taken from (None: neither had any)."""
        if self.footfall is not None:
            return VisitorSource.FOOTFALL
        return VisitorSource.VISITS if self.visit_visitors else None


def total(rows: Iterable[StoreDay | Metrics]) -> Metrics:
    """The sum of store-days (or of groups): a brand, a city, the organisation, a period."""
    result = Metrics()
    for row in rows:
        result += row.metrics if isinstance(row, StoreDay) else row
    return result


def totals_by(rows: Iterable[StoreDay], key: Callable[[StoreDay], K]) -> dict[K, Metrics]:
    """The store-days summed per group (`key` names a store-day's group: its store's brand,
    city or channel type, its week…)."""
    result: dict[K, Metrics] = {}
    for row in rows:
        group = key(row)
        result[group] = result.get(group, Metrics()) + row.metrics
    return result


def person(events: Expr, fallback: ir.StringValue) -> ir.StringValue:
    """Who an event is of: the member, else the anonymous id, else `fallback`."""
    return ibis.cases(
        (events.member_id.notnull(), "m:" + events.member_id),
        (events.anonymous_id.notnull(), "a:" + events.anonymous_id),
        else_=fallback,
    )


def _zone_groups(
    time_zone: str, store_zones: Mapping[str, str] | None
) -> list[tuple[str, list[str] | None]]:
    """(zone, its stores) for the stores with a zone of their own, then (the organisation's
    zone, None: every other store and the events without one)."""
    own: dict[str, list[str]] = {}
    for store, zone in sorted((store_zones or {}).items()):
        if zone != time_zone:
            own.setdefault(zone, []).append(store)
    return [*sorted(own.items()), (time_zone, None)]


def dated_events(
    con: Any,
    organization_id: str,
    first: date,
    last: date,
    time_zone: str,
    store_zones: Mapping[str, str] | None,
    stores: Sequence[str] | None,
    types: Sequence[str],
    days: Mapping[date, timedelta] | None = None,
) -> Expr:
    """The events of `types` on the local days first … last, each with the `day` of its
    store's zone (the organisation's for the other stores and for events without one).

    One scan of the events: the instants that can fall on the period's days in any of the
    zones, each event's local day from its store's zone, then the period's days kept (an
    event is in the period exactly when its store's local day is). With `days`, only those
    local days, each up to its length after its local midnight in the event's zone."""
    event = con.table(EVENT_TABLE)
    base = event.filter(event.organization_id == organization_id, event.type.isin(list(types)))
    if stores is not None:
        base = base.filter(base.store_id.isin(list(stores)))
    groups = _zone_groups(time_zone, store_zones)
    low = min(day_start(first, zone) for zone, _ in groups)
    high = max(day_start(last + timedelta(days=1), zone) for zone, _ in groups)
    base = base.filter(base.ts >= low, base.ts < high)
    if days:  # the instants that can fall on the chosen days' hours in any zone
        base = base.filter(
            ibis.or_(
                *(
                    (base.ts >= min(day_start(d, zone) for zone, _ in groups))
                    & (base.ts < max(_day_end(d, up_to, zone) for zone, _ in groups))
                    for d, up_to in days.items()
                )
            )
        )
    # the instants read lie within a day of the period in every zone
    before, after = first - timedelta(days=1), last + timedelta(days=1)
    if con.name == "duckdb":
        return _dated_by_offset(base, groups, before, after, first, last, days)
    day = local_date(base.ts, time_zone, before, after)
    own = [(members, zone) for zone, members in groups if members is not None]
    if own:
        day = ibis.cases(
            *(
                (base.store_id.isin(members), local_date(base.ts, zone, before, after))
                for members, zone in own
            ),
            else_=day,
        )
    dated = base.select(*_DATED, day=day)
    if not days:
        return dated.filter(dated.day >= first, dated.day <= last)
    elsewhere = [s for members, _ in own for s in members]
    kept = []
    for zone, members in groups:
        if members is not None:
            in_zone = dated.store_id.isin(members)
        elif elsewhere:
            in_zone = dated.store_id.isnull() | ~dated.store_id.isin(elsewhere)
        else:
            in_zone = ibis.literal(True)
        for d, up_to in days.items():
            # on its zone's day d (so at or after its midnight) and before the day's end
            kept.append(in_zone & (dated.day == d) & (dated.ts < _day_end(d, up_to, zone)))
    return dated.filter(ibis.or_(*kept))


_DATED = (
    "store_id",
    "type",
    "ts",
    "channel",
    "member_id",
    "anonymous_id",
    "message_id",
    "amount",
    "properties",
)


def _dated_by_offset(
    base: Expr,
    groups: list[tuple[str, list[str] | None]],
    before: date,
    after: date,
    first: date,
    last: date,
    days: Mapping[date, timedelta] | None,
) -> Expr:
    """DuckDB: `dated_events`' days by epoch arithmetic (databank.localdays.shifted_date),
    each event's zone found once by joining its store to a small table of the stores with a
    zone of their own (a list of ids per zone would be tested once per use)."""
    own = [(zone, members) for zone, members in groups if members is not None]
    time_zone = groups[-1][0]
    if own:
        zones = ibis.memtable(
            {
                "zone_store": [s for _, members in own for s in members],
                "zone_no": [n for n, (_, members) in enumerate(own, 1) for _ in members],
            },
            schema={"zone_store": "string", "zone_no": "int32"},
        )
        joined = base.left_join(zones, base.store_id == zones.zone_store)
        base = joined.mutate(zone_no=joined.zone_no.fill_null(0)).drop("zone_store")

    def by_zone(value: Callable[[str], Any]) -> Any:
        """`value` of the event's zone."""
        if not own:
            return value(time_zone)
        return ibis.cases(
            *((base.zone_no == n, value(zone)) for n, (zone, _) in enumerate(own, 1)),
            else_=value(time_zone),
        )

    if days:  # on one of the days of its zone, up to the day's length after local midnight
        base = base.filter(
            by_zone(
                lambda zone: ibis.or_(
                    *(
                        (base.ts >= day_start(d, zone)) & (base.ts < _day_end(d, up_to, zone))
                        for d, up_to in days.items()
                    )
                )
            )
        )
    offset = by_zone(lambda zone: utc_offset_us(base.ts, zone, before, after))
    dated = base.select(*_DATED, day=shifted_date(base.ts, offset))
    return dated if days else dated.filter(dated.day >= first, dated.day <= last)


def _day_end(day: date, up_to: timedelta, zone: str) -> datetime:
    """The end of the first `up_to` of the zone's local `day` (at most the whole day)."""
    start = day_start(day, zone)
    return min(day_start(day + timedelta(days=1), zone), start + up_to)


def order_key(events: Expr, orders: ir.BooleanValue) -> ir.StringValue:
    """An order event's order: its `order_id`, else the event itself (null for other events)."""
    order_id = events.properties.cast("json")["order_id"].str.nullif("")
    return ibis.ifelse(orders, ibis.coalesce(order_id, "e:" + events.message_id), None)


def _units(events: Expr, sources: Sources) -> Expr:
    """Units and the orders that carry them, per store-day."""
    purchases = events.filter(events.type.isin(list(sources.purchase_events)))
    purchases = purchases.mutate(
        order_key=order_key(purchases, ibis.literal(True)),
        document=purchases.properties.cast("json"),
    )
    listed = ibis.coalesce(purchases.document["lines"], purchases.document["items"])
    with_lines = purchases.filter(listed.notnull())
    lines = with_lines.select("store_id", "day", "order_key", line=listed.array.unnest())
    lines = lines.select(
        "store_id", "day", "order_key", quantity=lines.line["quantity"].int.fill_null(1)
    )
    flat = purchases.filter(listed.isnull())
    flat = flat.select("store_id", "day", "order_key", quantity=flat.document["quantity"].int)
    flat = flat.filter(flat.quantity.notnull())
    both = lines.union(flat, distinct=False)
    return both.group_by("store_id", "day").aggregate(
        units=both.quantity.sum().cast(_COUNT),
        transactions_with_units=both.order_key.nunique().cast(_COUNT),
    )


def store_day_table(
    con: Any,
    organization_id: str,
    first: date,
    last: date,
    time_zone: str,
    *,
    store_zones: Mapping[str, str] | None = None,
    stores: Sequence[str] | None = None,
    sources: Sources = SOURCES,
    days: Mapping[date, timedelta] | None = None,
) -> Expr:
    """The Ibis expression of the metrics per store and local day first … last (one row per
    store-day with any event the metrics read). `days` reads only those local days of first …
    last, each up to its length after local midnight (today so far against the same hours of
    last week's day: `{today: elapsed, a_week_ago: elapsed}`), and nothing else."""
    if days and not all(first <= d <= last for d in days):
        raise InvalidInput("the days read lie within first … last", field="days")
    if last < first:
        raise InvalidInput("the last day comes before the first", field="last")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(f"at most {MAX_DAYS} days at once", field="last")
    events = dated_events(
        con, organization_id, first, last, time_zone, store_zones, stores, sources.types, days
    )
    paid = events.type.isin(list(sources.purchase_events))
    refund = events.type.isin(list(sources.refund_events))
    visit = events.type.isin(list(sources.visit_events))
    counter = events.type.isin(list(sources.footfall_events))
    events = events.mutate(
        order_key=order_key(events, paid | refund),
        amount=events.amount.cast(_MONEY).fill_null(0),
        entries=ibis.ifelse(counter, events.properties.cast("json")["count"].int, None),
    )
    events = events.mutate(
        buyer=ibis.ifelse(paid, person(events, "o:" + events.order_key), None),
        visitor=ibis.ifelse(visit, person(events, "e:" + events.message_id), None),
    )
    main = events.group_by("store_id", "day").aggregate(
        paid=events.amount.sum(where=paid).cast(_MONEY),
        refunded=events.amount.sum(where=refund).cast(_MONEY),
        transactions=events.order_key.nunique(where=paid).cast(_COUNT),
        buyers=events.buyer.nunique().cast(_COUNT),
        refunded_orders=events.order_key.nunique(where=refund).cast(_COUNT),
        visit_visitors=events.visitor.nunique().cast(_COUNT),
        footfall_reports=counter.sum().cast(_COUNT),
        footfall=events.entries.sum().cast(_COUNT),
        units=ibis.literal(0, type=_COUNT),
        transactions_with_units=ibis.literal(0, type=_COUNT),
    )
    units = _units(events, sources)
    units = units.select(
        "store_id",
        "day",
        paid=ibis.literal(ZERO, type=_MONEY),
        refunded=ibis.literal(ZERO, type=_MONEY),
        transactions=ibis.literal(0, type=_COUNT),
        buyers=ibis.literal(0, type=_COUNT),
        refunded_orders=ibis.literal(0, type=_COUNT),
        visit_visitors=ibis.literal(0, type=_COUNT),
        footfall_reports=ibis.literal(0, type=_COUNT),
        footfall=ibis.null(_COUNT),
        units="units",
        transactions_with_units="transactions_with_units",
    )
    both = main.union(units, distinct=False)
    summed = both.group_by("store_id", "day").aggregate(
        **{
            name: both[name].sum().cast(_MONEY if name in ("paid", "refunded") else _COUNT)
            for name in main.columns
            if name not in ("store_id", "day")
        }
    )
    # a counter that reported counts, even zero; its silence leaves the visit events
    footfall = ibis.ifelse(summed.footfall_reports > 0, summed.footfall.fill_null(0), None)
    return summed.select(
        "store_id",
        "day",
        "paid",
        "refunded",
        "transactions",
        "buyers",
        "units",
        "transactions_with_units",
        "refunded_orders",
        "visit_visitors",
        footfall=footfall,
        visitors=ibis.coalesce(footfall, summed.visit_visitors),
    )


def store_day_rows(table: Expr) -> list[StoreDay]:
    """The metrics of a `store_day_table`'s rows, ordered by store then day; a store-day
    without any event is absent (all its figures are zero)."""
    found = [_store_day(row) for row in table.to_pyarrow().to_pylist()]
    return sorted(found, key=lambda r: (r.store_id is not None, r.store_id or "", r.day))


def _store_day(row: dict[str, Any]) -> StoreDay:
    buyers, visitors, transactions = (
        int(row["buyers"]),
        int(row["visitors"]),
        int(row["transactions"]),
    )
    metrics = Metrics(
        paid=Decimal(row["paid"] or 0).quantize(ZERO),
        refunded=Decimal(row["refunded"] or 0).quantize(ZERO),
        transactions=transactions,
        buyers=buyers,
        units=int(row["units"]),
        transactions_with_units=int(row["transactions_with_units"]),
        refunded_orders=int(row["refunded_orders"]),
        visitors=visitors,
        store_days=1,
        purchases_without_visitors=int(transactions > 0 and visitors == 0),
        buyers_above_visitors=int(visitors > 0 and buyers > visitors),
        buyers_with_visitors=buyers if visitors > 0 else 0,
    )
    footfall = row["footfall"]
    return StoreDay(
        store_id=row["store_id"],
        day=row["day"],
        metrics=metrics,
        visit_visitors=int(row["visit_visitors"]),
        footfall=None if footfall is None else int(footfall),
    )
