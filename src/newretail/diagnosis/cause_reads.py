"""What the cause search reads of one store and period from the warehouse (docs/diagnosis.md,
"Why it moved"): its store-days, its GMV and buyers by SKU (one query over the order lines),
and by local hour, traffic source and campaign of the order (one grouped query, the source
and campaign as `order_attributes` defines them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from newretail.databank.localdays import day_start, offset_spans
from newretail.diagnosis import metrics, order_attributes
from newretail.diagnosis.metrics import SOURCES, StoreDay
from newretail.diagnosis.service import Period
from newretail.warehouse.connection import EVENT_TABLE

Expr = Any  # an Ibis table expression
CENT = Decimal("0.01")
_MONEY = dt.Decimal(38, 2)


def _local(ts: ir.TimestampValue, zone: str, first: date, last: date) -> ir.TimestampValue:
    """`ts` shifted into the zone's wall-clock time (offsets worked out as for local days)."""

    def shifted(seconds: int) -> ir.TimestampValue:
        return ts + ibis.interval(seconds=seconds) if seconds else ts

    spans = offset_spans(zone, first, last)
    if len(spans) == 1:
        return shifted(spans[0][1])
    return ibis.cases(
        *((ts < until, shifted(seconds)) for until, seconds in spans[:-1]),
        else_=shifted(spans[-1][1]),
    )


def _store_events(con: Any, organization_id: str, store: str, zone: str, period: Period) -> Expr:
    """The store's purchases and refunds of the period, each with its local day, hour, sign
    (+1 paid, −1 refunded), order, buyer (and the identified person) and properties."""
    event = con.table(EVENT_TABLE)
    paid_types = list(SOURCES.purchase_events)
    kinds = [*paid_types, *SOURCES.refund_events]
    low, high = _instants(zone, period)
    found = event.filter(
        event.organization_id == organization_id,
        event.store_id == store,
        event.type.isin(kinds),
        event.ts >= low,
        event.ts < high,
    )
    local = _local(found.ts, zone, period.first, period.last)
    paid = found.type.isin(paid_types)
    document = found.properties.cast("json")
    order = ibis.coalesce(document["order_id"].str.nullif(""), "e:" + found.message_id)
    identified = metrics.person(found, ibis.null(str))
    events = found.select(
        event_id=found.message_id,
        ts=found.ts,
        day=local.date(),
        hour=local.hour(),
        paid=paid,
        amount=found.amount.cast(_MONEY).fill_null(0),
        order_key=order,
        person=ibis.ifelse(paid, identified, None),
        member_id=found.member_id,
        anonymous_id=found.anonymous_id,
        buyer=ibis.ifelse(paid, ibis.coalesce(identified, "o:" + order), None),
        properties=found.properties,
    )
    return events


def _read_once(events: Expr) -> Expr:
    """The store's events read from the warehouse once (a store's period is small) for the
    queries over its lines and its orders, each with its `document` and `lines`."""
    read = ibis.memtable(events.to_pyarrow())
    document = read.properties.cast("json")
    return read.mutate(document=document, lines=ibis.coalesce(document["lines"], document["items"]))


def _instants(zone: str, period: Period) -> tuple[datetime, datetime]:
    """The start of the period's first local day and of the day after its last."""
    return day_start(period.first, zone), day_start(period.last + timedelta(days=1), zone)


def _by_order(events: Expr) -> list[dict[str, Any]]:
    """GMV per local hour, traffic source, campaign and buyer (local day | person; null:
    refunds): one grouped query for the three dimensions of an order."""
    signed = ibis.ifelse(events.paid, events.amount, -events.amount)
    events = events.mutate(signed=signed, who=events.day.cast("string") + "|" + events.buyer)
    table = events.group_by("hour", "source", "campaign", "who").aggregate(
        gmv=events.signed.sum().cast(_MONEY)
    )
    return list(table.to_pyarrow().to_pylist())


def _by_sku(events: Expr) -> list[dict[str, Any]]:
    listed = events.filter(events.lines.notnull())
    lines = listed.select("day", "paid", "buyer", line=listed.lines.array.unnest())
    amount = lines.line["amount"].str.cast(_MONEY).fill_null(0)
    lines = lines.mutate(
        sku=lines.line["sku_id"].str,
        signed=ibis.ifelse(lines.paid, amount, -amount),
        who=lines.day.cast("string") + "|" + lines.buyer,
    )
    lines = lines.filter(lines.sku.notnull())
    table = lines.group_by("sku", "who").aggregate(gmv=lines.signed.sum().cast(_MONEY))
    return list(table.to_pyarrow().to_pylist())


Buyers = dict[str | None, Decimal]  # buyer (local day | person; None: refunds) -> GMV


def _buyers_and_gmv(groups: Iterable[Buyers]) -> tuple[int, Decimal]:
    """The distinct buyers and the GMV of some groups of one period."""
    buyers: set[str] = set()
    gmv = Decimal("0.00")
    for group in groups:
        for who, amount in group.items():
            gmv += amount
            if who is not None:
                buyers.add(who)
    return len(buyers), gmv


@dataclass(frozen=True)
class PeriodFigures:
    """What the search reads of one period of one store."""

    days: list[StoreDay]
    # SKU id -> its lines' GMV by buyer
    skus: dict[str, Buyers]
    # (local hour, traffic source, campaign "id|name") -> the orders' GMV by buyer; source
    # and campaign None: a refund of an order not paid in the period; campaign "": none
    orders: dict[tuple[int, str | None, str | None], Buyers] = field(default_factory=dict)

    def of_skus(self, keys: Iterable[str]) -> tuple[int, Decimal]:
        """The distinct buyers (per local day) and the GMV of the lines of these SKUs."""
        return _buyers_and_gmv(self.skus.get(key, {}) for key in keys)

    def by(self, position: int) -> dict[Any, tuple[int, Decimal]]:
        """The distinct buyers and the GMV of the orders by hour (0), traffic source (1) or
        campaign (2)."""
        groups: dict[Any, list[Buyers]] = {}
        for key, found in self.orders.items():
            groups.setdefault(key[position], []).append(found)
        return {key: _buyers_and_gmv(found) for key, found in groups.items()}

    @property
    def hours(self) -> dict[int, tuple[int, Decimal]]:
        """Local hour -> (buyers, GMV)."""
        return self.by(0)


def read_period(
    con: Any, organization_id: str, store: str, zone: str, period: Period
) -> PeriodFigures:
    """The store's store-days, and its GMV and buyers by SKU and by local hour, traffic
    source and campaign of the order, of a period."""
    days = metrics.store_day_rows(
        metrics.store_day_table(
            con,
            organization_id,
            period.first,
            period.last,
            zone,
            store_zones={store: zone},
            stores=[store],
        )
    )
    events = _read_once(_store_events(con, organization_id, store, zone, period))
    skus: dict[str, Buyers] = {}
    for r in _by_sku(events):
        skus.setdefault(str(r["sku"]), {})[r["who"]] = Decimal(r["gmv"]).quantize(CENT)
    low, high = _instants(zone, period)
    orders: dict[tuple[int, str | None, str | None], Buyers] = {}
    for r in _by_order(order_attributes.attributed(con, organization_id, events, low, high)):
        key = (int(r["hour"]), r["source"], r["campaign"] or ("" if r["source"] else None))
        group = orders.setdefault(key, {})
        group[r["who"]] = group.get(r["who"], Decimal("0.00")) + Decimal(r["gmv"]).quantize(CENT)
    return PeriodFigures([d for d in days if d.store_id == store], skus, orders)
