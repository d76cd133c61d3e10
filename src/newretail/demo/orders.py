"""Demo commerce: the catalogue, stock at every physical location (demo/stock.py) and N days
of orders.

Everything is bulk-inserted and kept consistent with the ledgers the services maintain:
each (SKU, location) gets one opening receipt dated before the first order, every sold
unit a `sale` movement, every refunded unit a `refund` movement, so on hand = receipts −
sales + refunds and allocated = units of paid orders not shipped yet. The opening receipt
is sized from the orders (sold + allocated + what should be left), so stock never goes
negative along the way. `purchase` and `order_refunded` events reach the outbox as the
services write them (not `order_placed`, which the Data Bank does not read, like the CSV
import); the server's relay publishes them to the warehouse `event` table.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.demo.catalog import DemoSku, seed_catalog
from newretail.demo.diagnosis_history import DiagnosisHistory
from newretail.demo.order_ledger import OrderLedger
from newretail.demo.stock import ACTOR, opening_stock
from newretail.events.models import OutboxMessage
from newretail.inventory.models import StockLevel, StockLocation, StockMovement
from newretail.members.models import Member
from newretail.orders import rows
from newretail.orders.models import (
    FulfilmentType,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    RefundLine,
)
from newretail.tenancy.models import ChannelType, Store

CHUNK = 5000
# orders per store and day (low, high), share of orders by a member
DAILY_ORDERS: dict[str, tuple[int, int, float]] = {
    ChannelType.STORE: (6, 14, 0.7),
    ChannelType.COUNTER: (4, 10, 0.7),
    ChannelType.POPUP: (3, 7, 0.5),
    ChannelType.VENDING: (3, 9, 0.15),
    ChannelType.CLOUD_SHELF: (2, 5, 0.9),
    ChannelType.ONLINE: (20, 36, 1.0),
}
PHYSICAL = {ChannelType.STORE, ChannelType.COUNTER, ChannelType.POPUP, ChannelType.VENDING}
CANCEL_SHARE = 0.02
REFUND_SHARE = 0.015
# Local opening hours (Asia/Shanghai, UTC+8) as UTC seconds of the day: 10:00–22:00.
SHOP_HOURS = (2 * 3600, 14 * 3600)


@dataclass
class DemoCommerce:
    """What was seeded (for the CLI report and the tests)."""

    skus: int = 0
    stocked_locations: int = 0
    stock_levels: int = 0
    low_stock_levels: int = 0
    orders_by_channel: dict[str, int] = field(default_factory=dict)
    refunds: int = 0
    events: int = 0
    footfall_events: int = 0
    lost_orders: int = 0  # the diagnosis history's stock-out left them without a line


def _bulk(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(model.__table__.insert(), rows[start : start + CHUNK])


def _assortments(
    stores: list[Store], skus: list[DemoSku]
) -> tuple[dict[uuid.UUID, list[DemoSku]], dict[uuid.UUID, list[DemoSku]]]:
    """What each store sells, and what each physical location stocks."""
    selling: dict[uuid.UUID, list[DemoSku]] = {}
    stocked: dict[uuid.UUID, list[DemoSku]] = {}
    for store in stores:
        if store.channel_type == ChannelType.WAREHOUSE:
            stocked[store.id] = list(skus)
            continue
        if store.channel_type == ChannelType.VENDING:
            assortment = [s for s in skus if s.vending and s.brand_id == store.brand_id]
            assortment = [s for s in assortment if s.prices[ChannelType.VENDING] < 20]
        else:
            assortment = [
                s
                for s in skus
                if (store.brand_id is None or s.brand_id == store.brand_id)
                and store.channel_type in s.prices
            ]
        selling[store.id] = assortment
        if store.channel_type in PHYSICAL:
            stocked[store.id] = assortment
    return selling, stocked


def _pickup_stores(stores: list[Store]) -> dict[uuid.UUID, Store | None]:
    """A cloud shelf's pick-up store: a shop or counter of its brand in its city."""
    result: dict[uuid.UUID, Store | None] = {}
    for shelf in stores:
        if shelf.channel_type != ChannelType.CLOUD_SHELF:
            continue
        result[shelf.id] = next(
            (
                s
                for s in stores
                if s.channel_type in (ChannelType.STORE, ChannelType.COUNTER)
                and s.city == shelf.city
                and s.brand_id == shelf.brand_id
            ),
            None,
        )
    return result


def _fulfilment(
    rng: random.Random, store: Store, warehouse: Store, pickup: Store | None
) -> tuple[str, Store, uuid.UUID | None]:
    """How an order of the store is fulfilled, the location its stock leaves from and its
    pick-up store."""
    if store.channel_type == ChannelType.ONLINE:
        return FulfilmentType.SHIP, warehouse, None
    if store.channel_type == ChannelType.CLOUD_SHELF:
        if pickup is not None and rng.random() < 0.4:
            return FulfilmentType.PICKUP_IN_STORE, pickup, pickup.id
        return FulfilmentType.SHIP, warehouse, None
    return FulfilmentType.CARRY_OUT, store, None


def _order_lines(
    rng: random.Random,
    assortment: list[DemoSku],
    channel: str,
    ledger: OrderLedger,
    order_id: uuid.UUID,
    placed_at: datetime,
    location_id: uuid.UUID,
    planted: tuple[DiagnosisHistory, Store, DemoSku] | None = None,
) -> tuple[list[dict[str, Any]], dict[uuid.UUID, int]]:
    """One to three lines of different SKUs at the channel's price; their quantities by SKU.
    With the diagnosis history's planted store, its best seller takes a share of the lines,
    and while it is out of stock its lines are lost."""
    order_lines: list[dict[str, Any]] = []
    chosen: dict[uuid.UUID, int] = {}
    for _ in range(rng.choices((1, 2, 3), (70, 22, 8))[0]):
        sku = rng.choice(assortment)
        if planted is not None:
            history, store, best = planted
            if history.best_seller(store, sku.id, best.id) == best.id:
                sku = best
            if history.out_of_stock(store, sku.id, best.id, placed_at):
                history.lost_lines += 1
                continue
        if sku.id in chosen:
            continue
        quantity = rng.choices((1, 2, 3), (80, 15, 5))[0]
        chosen[sku.id] = quantity
        unit_price = sku.prices[channel]
        order_lines.append(
            rows.line_row(
                organization_id=ledger.organization_id,
                order_id=order_id,
                line_number=len(order_lines) + 1,
                sku_id=sku.id,
                brand_id=sku.brand_id,
                quantity=quantity,
                unit_price=unit_price,
                amount=unit_price * quantity,
                location_id=location_id,
                now=placed_at,
            )
        )
    return order_lines, chosen


def _progress(
    rng: random.Random, fulfilment: str, placed_at: datetime, now: datetime
) -> tuple[str, datetime | None, datetime | None, datetime | None]:
    """Status, paid, fulfilled and cancelled times: a carry-out is done at once; a shipped or
    picked-up order is fulfilled hours later, unless it was cancelled or is still open."""
    if fulfilment == FulfilmentType.CARRY_OUT:
        return OrderStatus.FULFILLED, placed_at, placed_at, None
    fulfilled_at = placed_at + timedelta(hours=rng.randint(6, 40))
    if rng.random() < CANCEL_SHARE:
        return OrderStatus.CANCELLED, None, None, placed_at + timedelta(hours=1)
    if fulfilled_at > now:
        return OrderStatus.PAID, placed_at, None, None
    return OrderStatus.FULFILLED, placed_at, fulfilled_at, None


def _place_order(
    rng: random.Random,
    ledger: OrderLedger,
    store: Store,
    number: int,
    day: datetime,
    members: list[uuid.UUID],
    assortment: list[DemoSku],
    warehouse: Store,
    pickup: Store | None,
    history: DiagnosisHistory | None = None,
    best: DemoSku | None = None,
) -> None:
    """One order of a store on a day, with its lines, stock movements, events and refund
    (none when the diagnosis history's stock-out left it without a line: a lost sale)."""
    member_share = DAILY_ORDERS[store.channel_type][2]
    if store.channel_type in (ChannelType.ONLINE, ChannelType.VENDING):
        seconds = rng.randint(0, 86_399)
    else:
        seconds = rng.randint(*SHOP_HOURS)
    placed_at = day + timedelta(seconds=seconds)
    order_id = uuid.uuid4()
    member_id = rng.choice(members) if members and rng.random() < member_share else None
    channel = store.channel_type
    fulfilment, location, pickup_store_id = _fulfilment(rng, store, warehouse, pickup)
    planted = None
    if history is not None:
        history.arrived(store, placed_at)
        if best is not None and history.planted(store):
            planted = (history, store, best)
    order_lines, chosen = _order_lines(
        rng, assortment, channel, ledger, order_id, placed_at, location.id, planted
    )
    if not order_lines:  # every line wanted the SKU out of stock
        assert history is not None
        history.lost_orders += 1
        return
    total = sum((row["amount"] for row in order_lines), Decimal("0.00"))
    brands = {row["brand_id"] for row in order_lines}
    status, paid_at, fulfilled_at, cancelled_at = _progress(rng, fulfilment, placed_at, ledger.now)
    order = rows.order_row(
        order_id=order_id,
        organization_id=ledger.organization_id,
        store_id=store.id,
        channel=channel,
        brand_id=store.brand_id or (brands.pop() if len(brands) == 1 else None),
        member_id=member_id,
        external_order_id=f"{store.code}-{placed_at:%Y%m%d}-{number + 1:04d}",
        status=status,
        fulfilment_type=fulfilment,
        total_amount=total,
        placed_at=placed_at,
        paid_at=paid_at,
        fulfilled_at=fulfilled_at,
        actor=ACTOR,
        now=placed_at,
        pickup_store_id=pickup_store_id,
    )
    order.update(cancelled_at=cancelled_at, updated_at=fulfilled_at or cancelled_at)
    ledger.orders.append(order)
    ledger.lines.extend(order_lines)
    if paid_at is not None:
        ledger.event("purchase", order, paid_at, total, order_lines)
    if status == OrderStatus.PAID:
        for sku_id, quantity in chosen.items():
            ledger.demand.allocated[(sku_id, location.id)] += quantity
    if fulfilled_at is None:
        return
    for sku_id, quantity in sorted(chosen.items()):
        ledger.demand.sold[(sku_id, location.id)] += quantity
        ledger.movement(order, sku_id, location.id, -quantity, "sale", fulfilled_at)
    refunded_at = fulfilled_at + timedelta(days=2)
    refund_roll = rng.random()  # drawn always: counts must not depend on the hour
    keeps_out = planted is not None and order_lines[0]["sku_id"] == planted[2].id
    if refunded_at < ledger.now and refund_roll < REFUND_SHARE and not keeps_out:
        ledger.refund(order, order_lines[0], refunded_at)


def seed_commerce(
    session: Session,
    organization_id: uuid.UUID,
    rng: random.Random,
    days: int = 60,
    history: DiagnosisHistory | None = None,
) -> DemoCommerce:
    """Seed the catalogue, stock and `days` days of orders; nothing if a catalogue exists.
    With a diagnosis `history`, the people counters' footfall and its planted problem too
    (demo/diagnosis_history.py)."""
    skus = seed_catalog(session, organization_id)
    if not skus:
        return DemoCommerce()
    stores = list(session.scalars(select(Store).order_by(Store.code)))
    members = list(session.scalars(select(Member.id).order_by(Member.phone)))
    warehouse = next(s for s in stores if s.channel_type == ChannelType.WAREHOUSE)
    selling, stocked = _assortments(stores, skus)
    pickups = _pickup_stores(stores)
    now = utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    ledger = OrderLedger(organization_id, now, {s.id: s.code for s in skus})
    counts: Counter[str] = Counter()
    best = None
    if history is not None:
        history.today = today.date()  # its days are counted back from the seeding's today
        best = next((s for s in skus if s.code == history.planted_sku), None)
    for day_index in range(days, 0, -1):
        day = today - timedelta(days=day_index)
        for store in stores:
            if store.channel_type == ChannelType.WAREHOUSE:
                continue
            low, high, _ = DAILY_ORDERS[store.channel_type]
            for number in range(rng.randint(low, high)):
                _place_order(
                    rng,
                    ledger,
                    store,
                    number,
                    day,
                    members,
                    selling[store.id],
                    warehouse,
                    pickups.get(store.id),
                    history,
                    best,
                )
                counts[store.channel_type] += 1
    emptied = set()
    if history is not None and best is not None:
        emptied = {(best.id, s.id) for s in stores if history.planted(s)}
    levels, receipts, low_levels = opening_stock(
        organization_id,
        stores,
        stocked,
        ledger.demand,
        rng,
        today - timedelta(days=days + 1),
        emptied,
    )
    footfall = []
    if history is not None:
        footfall = history.footfall(
            organization_id, stores, (today - timedelta(days=days)).date(), now
        )
        ledger.events.extend(footfall)
    policies = [
        {
            "id": uuid.uuid4(),
            "organization_id": organization_id,
            "created_at": now,
            "location_id": store.id,
            "fulfils_online": True,
            "updated_at": None,
        }
        for store in stores
        if store.channel_type == ChannelType.STORE
    ]
    _bulk(session, StockLocation, policies)
    _bulk(session, StockLevel, levels)
    _bulk(session, StockMovement, receipts + ledger.movements)
    _bulk(session, Order, ledger.orders)
    _bulk(session, OrderLine, ledger.lines)
    _bulk(session, Refund, ledger.refunds)
    _bulk(session, RefundLine, ledger.refund_lines)
    _bulk(session, OutboxMessage, ledger.events)
    session.flush()
    return DemoCommerce(
        skus=len(skus),
        stocked_locations=len(stocked),
        stock_levels=len(levels),
        low_stock_levels=low_levels,
        orders_by_channel=dict(sorted(counts.items())),
        refunds=len(ledger.refunds),
        events=len(ledger.events),
        footfall_events=len(footfall),
        lost_orders=history.lost_orders if history is not None else 0,
    )


__all__ = ["DemoCommerce", "seed_commerce"]
