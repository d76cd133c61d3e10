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
from newretail.demo.stock import Demand, opening_stock
from newretail.events.models import OutboxMessage
from newretail.inventory.models import StockLevel, StockLocation, StockMovement
from newretail.members.models import Member
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
ACTOR = "demo"
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


def seed_commerce(
    session: Session, organization_id: uuid.UUID, rng: random.Random, days: int = 60
) -> DemoCommerce:
    """Seed the catalogue, stock and `days` days of orders; nothing if a catalogue exists."""
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
    demand = Demand()
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    refunds: list[dict[str, Any]] = []
    refund_lines: list[dict[str, Any]] = []
    movements: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    codes = {s.id: s.code for s in skus}
    counts: Counter[str] = Counter()

    def event(
        event_type: str, order: dict[str, Any], at: datetime, amount: Decimal, body: Any
    ) -> None:
        events.append(
            {
                "id": uuid.uuid4(),
                "organization_id": organization_id,
                "created_at": now,
                "event_type": event_type,
                "occurred_at": at,
                "brand_id": order["brand_id"],
                "store_id": order["store_id"],
                "channel": order["channel"],
                "member_id": order["member_id"],
                "amount": amount,
                "properties": {
                    "order_id": str(order["id"]),
                    "external_order_id": order["external_order_id"],
                    "fulfilment_type": order["fulfilment_type"],
                    "currency": "CNY",
                    "lines": body,
                },
                "published_at": None,
            }
        )

    def event_lines(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "order_line_id": str(row["id"]),
                "sku_id": str(row["sku_id"]),
                "sku_code": codes[row["sku_id"]],
                "brand_id": str(row["brand_id"]),
                "quantity": row["quantity"],
                "unit_price": str(row["unit_price"]),
                "amount": str(row["amount"]),
                "location_id": str(row["location_id"]),
            }
            for row in rows
        ]

    for day_index in range(days, 0, -1):
        day = today - timedelta(days=day_index)
        for store in stores:
            if store.channel_type == ChannelType.WAREHOUSE:
                continue
            low, high, member_share = DAILY_ORDERS[store.channel_type]
            assortment = selling[store.id]
            for number in range(rng.randint(low, high)):
                if store.channel_type in (ChannelType.ONLINE, ChannelType.VENDING):
                    seconds = rng.randint(0, 86_399)
                else:
                    seconds = rng.randint(*SHOP_HOURS)
                placed_at = day + timedelta(seconds=seconds)
                order_id = uuid.uuid4()
                member_id = rng.choice(members) if members and rng.random() < member_share else None
                channel = store.channel_type
                fulfilment: str = FulfilmentType.CARRY_OUT
                location = store
                pickup_store_id = None
                if channel == ChannelType.ONLINE:
                    fulfilment, location = FulfilmentType.SHIP, warehouse
                elif channel == ChannelType.CLOUD_SHELF:
                    pickup = pickups.get(store.id)
                    if pickup is not None and rng.random() < 0.4:
                        fulfilment, location = FulfilmentType.PICKUP_IN_STORE, pickup
                        pickup_store_id = pickup.id
                    else:
                        fulfilment, location = FulfilmentType.SHIP, warehouse
                order_lines: list[dict[str, Any]] = []
                chosen: dict[uuid.UUID, int] = {}
                for _ in range(rng.choices((1, 2, 3), (70, 22, 8))[0]):
                    sku = rng.choice(assortment)
                    if sku.id in chosen:
                        continue
                    quantity = rng.choices((1, 2, 3), (80, 15, 5))[0]
                    chosen[sku.id] = quantity
                    unit_price = sku.prices[channel]
                    order_lines.append(
                        {
                            "id": uuid.uuid4(),
                            "organization_id": organization_id,
                            "created_at": placed_at,
                            "order_id": order_id,
                            "line_number": len(order_lines) + 1,
                            "sku_id": sku.id,
                            "brand_id": sku.brand_id,
                            "quantity": quantity,
                            "unit_price": unit_price,
                            "amount": unit_price * quantity,
                            "location_id": location.id,
                            "refunded_quantity": 0,
                        }
                    )
                total = sum((row["amount"] for row in order_lines), Decimal("0.00"))
                brands = {row["brand_id"] for row in order_lines}
                status: str = OrderStatus.FULFILLED
                paid_at: datetime | None = placed_at
                fulfilled_at: datetime | None = placed_at
                cancelled_at = None
                if fulfilment != FulfilmentType.CARRY_OUT:
                    fulfilled_at = placed_at + timedelta(hours=rng.randint(6, 40))
                    if rng.random() < CANCEL_SHARE:
                        status, paid_at, fulfilled_at = OrderStatus.CANCELLED, None, None
                        cancelled_at = placed_at + timedelta(hours=1)
                    elif fulfilled_at > now:
                        status, fulfilled_at = OrderStatus.PAID, None
                order = {
                    "id": order_id,
                    "organization_id": organization_id,
                    "created_at": placed_at,
                    "store_id": store.id,
                    "channel": channel,
                    "brand_id": store.brand_id or (brands.pop() if len(brands) == 1 else None),
                    "member_id": member_id,
                    "external_order_id": f"{store.code}-{placed_at:%Y%m%d}-{number + 1:04d}",
                    "status": status,
                    "fulfilment_type": fulfilment,
                    "pickup_store_id": pickup_store_id,
                    "ship_latitude": None,
                    "ship_longitude": None,
                    "currency": "CNY",
                    "total_amount": total,
                    "refunded_amount": Decimal("0.00"),
                    "placed_at": placed_at,
                    "paid_at": paid_at,
                    "fulfilled_at": fulfilled_at,
                    "cancelled_at": cancelled_at,
                    "actor": ACTOR,
                    "updated_at": fulfilled_at or cancelled_at,
                }
                orders.append(order)
                lines.extend(order_lines)
                counts[channel] += 1
                body = event_lines(order_lines)
                if paid_at is not None:
                    event("purchase", order, paid_at, total, body)
                if status == OrderStatus.PAID:
                    for sku_id, quantity in chosen.items():
                        demand.allocated[(sku_id, location.id)] += quantity
                if fulfilled_at is None:
                    continue
                for sku_id, quantity in sorted(chosen.items()):
                    demand.sold[(sku_id, location.id)] += quantity
                    movements.append(
                        {
                            "id": uuid.uuid4(),
                            "organization_id": organization_id,
                            "created_at": fulfilled_at,
                            "sku_id": sku_id,
                            "location_id": location.id,
                            "delta": -quantity,
                            "reason": "sale",
                            "note": None,
                            "actor": ACTOR,
                            "reference": f"order:{order_id}",
                        }
                    )
                refunded_at = fulfilled_at + timedelta(days=2)
                refund_roll = rng.random()  # drawn always: counts must not depend on the hour
                if refunded_at < now and refund_roll < REFUND_SHARE:
                    _refund(order, order_lines[0], refunded_at, refunds, refund_lines, movements)
                    demand.refunded[(order_lines[0]["sku_id"], location.id)] += order_lines[0][
                        "quantity"
                    ]
                    event(
                        "order_refunded",
                        order,
                        refunded_at,
                        order_lines[0]["amount"],
                        event_lines(order_lines[:1]),
                    )
    levels, receipts, low = opening_stock(
        organization_id, stores, stocked, demand, rng, today - timedelta(days=days + 1)
    )
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
    _bulk(session, StockMovement, receipts + movements)
    _bulk(session, Order, orders)
    _bulk(session, OrderLine, lines)
    _bulk(session, Refund, refunds)
    _bulk(session, RefundLine, refund_lines)
    _bulk(session, OutboxMessage, events)
    session.flush()
    return DemoCommerce(
        skus=len(skus),
        stocked_locations=len(stocked),
        stock_levels=len(levels),
        low_stock_levels=low,
        orders_by_channel=dict(sorted(counts.items())),
        refunds=len(refunds),
        events=len(events),
    )


def _refund(
    order: dict[str, Any],
    line: dict[str, Any],
    refunded_at: datetime,
    refunds: list[dict[str, Any]],
    refund_lines: list[dict[str, Any]],
    movements: list[dict[str, Any]],
) -> None:
    """Refund one line in full: stock back at its location, the order's status follows."""
    refund_id = uuid.uuid4()
    organization_id = order["organization_id"]
    line["refunded_quantity"] = line["quantity"]
    order["refunded_amount"] = line["amount"]
    order["status"] = (
        OrderStatus.REFUNDED
        if order["total_amount"] == line["amount"]
        else OrderStatus.PARTIALLY_REFUNDED
    )
    order["updated_at"] = refunded_at
    refunds.append(
        {
            "id": refund_id,
            "organization_id": organization_id,
            "created_at": refunded_at,
            "order_id": order["id"],
            "amount": line["amount"],
            "reason": "customer return",
            "actor": ACTOR,
        }
    )
    refund_lines.append(
        {
            "id": uuid.uuid4(),
            "organization_id": organization_id,
            "created_at": refunded_at,
            "refund_id": refund_id,
            "order_line_id": line["id"],
            "quantity": line["quantity"],
            "amount": line["amount"],
            "location_id": line["location_id"],
        }
    )
    movements.append(
        {
            "id": uuid.uuid4(),
            "organization_id": organization_id,
            "created_at": refunded_at,
            "sku_id": line["sku_id"],
            "location_id": line["location_id"],
            "delta": line["quantity"],
            "reason": "refund",
            "note": None,
            "actor": ACTOR,
            "reference": f"order:{order['id']}",
        }
    )


__all__ = ["DemoCommerce", "seed_commerce"]
