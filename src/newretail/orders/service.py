"""Order ledger use cases: POS sales, online and cloud-shelf checkout, payment, fulfilment,
cancellation and refunds. Every fact goes to the outbox in the same transaction.

Stock moves through the guarded primitives of `inventory.service`, visiting SKUs in id order.
A POS sale is idempotent by (organisation, store, external_order_id): the order row is inserted
first with ON CONFLICT DO NOTHING, so a resend (also a concurrent one, which waits for the first
transaction's outcome) returns the recorded order and moves no stock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newretail.catalog import service as catalog_service
from newretail.catalog.service import money
from newretail.core.database import utcnow
from newretail.core.errors import Conflict, InvalidInput, NotFound
from newretail.core.pagination import paginate
from newretail.events import outbox
from newretail.inventory import service as inventory_service
from newretail.inventory.exceptions import OutOfStock
from newretail.orders import schemas
from newretail.orders.models import (
    FulfilmentType,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    RefundLine,
)
from newretail.tenancy.models import ChannelType, Store
from newretail.tenancy.permissions import Permission, Principal

NO_SYNC = {"synchronize_session": False}
POS_CHANNELS = frozenset(
    {ChannelType.STORE, ChannelType.COUNTER, ChannelType.POPUP, ChannelType.VENDING}
)
CHECKOUT_CHANNELS = frozenset({ChannelType.ONLINE, ChannelType.CLOUD_SHELF})


class InvalidTransition(Conflict):
    code = "invalid_transition"


@dataclass
class SaleResult:
    """The order and whether it was recorded before (an idempotent resend)."""

    order: Order
    replayed: bool = False
    events: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- member points (integration hook)
def member_points_hook(
    session: Session,
    order: Order,
    *,
    action: str,
    refund_id: uuid.UUID | None = None,
    lines: Sequence[dict[str, Any]] = (),
) -> None:
    """INTEGRATION HOOK (members): award points when an order is paid, reverse them on refunds.

    Calls `newretail.members.service.award_order_points` / `reverse_order_points` when the
    members domain provides them; until then orders only carry `member_id`.
    """
    if order.member_id is None:
        return
    try:
        from newretail.members import service as members_service
    except ImportError:
        return
    if action == "award":
        award = getattr(members_service, "award_order_points", None)
        if award is not None:
            award(
                session,
                order.organization_id,
                order.member_id,
                order_id=order.id,
                brand_id=order.brand_id,
                paid_at=order.paid_at,
                lines=list(lines),
            )
    else:
        reverse = getattr(members_service, "reverse_order_points", None)
        if reverse is not None:
            reverse(
                session,
                order.organization_id,
                order.member_id,
                order_id=order.id,
                refund_id=refund_id,
                refunded_lines=list(lines),
            )


# ---------------------------------------------------------------- helpers
def _store(session: Session, principal: Principal, store_id: uuid.UUID, allowed: Any) -> Store:
    principal.require_store(store_id)
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("store not found", field="store_id")
    if store.channel_type not in allowed:
        names = ", ".join(sorted(allowed))
        raise InvalidInput(f"this sale needs a store of type {names}", field="store_id")
    if store.status != "active":
        raise InvalidInput("the store is closed", field="store_id")
    return store


def _insert_order(session: Session, values: dict[str, Any]) -> bool:
    """Insert the order row; False when (org, store, external id) was already recorded."""
    if values.get("external_order_id") is None:
        session.execute(insert(Order).values(**values))
        return True
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(Order)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["organization_id", "store_id", "external_order_id"])
        .returning(Order.id)
    ).first()
    return inserted is not None


def _existing(session: Session, store_id: uuid.UUID, external_order_id: str) -> Order:
    order = session.scalar(
        select(Order)
        .where(Order.store_id == store_id, Order.external_order_id == external_order_id)
        .execution_options(populate_existing=True)
    )
    if order is None:  # the first sender rolled back between our insert and this read
        raise Conflict("the same order is being recorded; retry", field="external_order_id")
    return order


def _transient(values: dict[str, Any], lines: list[dict[str, Any]]) -> Order:
    """The order just inserted, as an object (no second read)."""
    order = Order(**values)
    order.lines = [OrderLine(**line) for line in lines]
    return order


def _brand_of(store: Store, lines: list[dict[str, Any]]) -> uuid.UUID | None:
    if store.brand_id is not None:
        return store.brand_id
    brands = {line["brand_id"] for line in lines}
    return brands.pop() if len(brands) == 1 else None


def _event_lines(lines: Sequence[Any], codes: dict[uuid.UUID, str]) -> list[dict[str, Any]]:
    result = []
    for line in lines:
        get: Any = line.get if isinstance(line, dict) else lambda k, _l=line: getattr(_l, k)
        result.append(
            {
                "order_line_id": str(get("id")),
                "sku_id": str(get("sku_id")),
                "sku_code": codes.get(get("sku_id")),
                "brand_id": str(get("brand_id")),
                "quantity": get("quantity"),
                "unit_price": str(get("unit_price")),
                "amount": str(get("amount")),
                "location_id": None if get("location_id") is None else str(get("location_id")),
            }
        )
    return result


def _enqueue(
    session: Session,
    order: Order,
    event_type: str,
    occurred_at: datetime,
    amount: Decimal,
    lines: list[dict[str, Any]],
    **extra: Any,
) -> None:
    outbox.enqueue(
        session,
        order.organization_id,
        event_type,
        occurred_at=occurred_at,
        brand_id=order.brand_id,
        store_id=order.store_id,
        channel=order.channel,
        member_id=order.member_id,
        amount=amount,
        properties={
            "order_id": str(order.id),
            "external_order_id": order.external_order_id,
            "fulfilment_type": order.fulfilment_type,
            "currency": order.currency,
            "lines": lines,
            **extra,
        },
    )


def _priced_lines(
    session: Session,
    store: Store,
    organization_id: uuid.UUID,
    order_id: uuid.UUID,
    requested: Sequence[Any],
) -> tuple[list[dict[str, Any]], dict[uuid.UUID, str]]:
    prices = catalog_service.sale_prices(
        session, {line.sku_id for line in requested}, store.id, store.channel_type
    )
    lines: list[dict[str, Any]] = []
    for number, line in enumerate(requested, start=1):
        where = f"lines[{number - 1}].sku_id"
        price = prices.get(line.sku_id)
        if price is None:
            raise InvalidInput("unknown SKU in this organisation", field=where)
        if not price.available:
            raise InvalidInput(f"SKU {price.code} is not sold at {store.code}", field=where)
        unit_price = getattr(line, "unit_price", None)
        if unit_price is None:
            unit_price = price.amount
        if unit_price is None:
            raise InvalidInput(f"SKU {price.code} has no {store.channel_type} price", field=where)
        unit_price = money(unit_price)
        lines.append(
            {
                "id": uuid.uuid4(),
                "organization_id": organization_id,
                "order_id": order_id,
                "line_number": number,
                "sku_id": line.sku_id,
                "brand_id": price.brand_id,
                "quantity": line.quantity,
                "unit_price": unit_price,
                "amount": money(unit_price * line.quantity),
                "location_id": None,
                "refunded_quantity": 0,
            }
        )
    return lines, {sku_id: p.code for sku_id, p in prices.items()}


# ---------------------------------------------------------------- POS, vending, pop-up
def pos_sale(session: Session, principal: Principal, data: schemas.PosSaleCreate) -> SaleResult:
    """Record an immediate sale at a shop, counter, pop-up or vending machine (idempotent)."""
    principal.require(Permission.SELL)
    store = _store(session, principal, data.store_id, POS_CHANNELS)
    now = utcnow()
    sold_at = data.sold_at or now
    if sold_at.tzinfo is None:
        raise InvalidInput("must include a time zone", field="sold_at")
    order_id = uuid.uuid4()
    lines, codes = _priced_lines(session, store, principal.organization_id, order_id, data.lines)
    values: dict[str, Any] = {
        "id": order_id,
        "organization_id": principal.organization_id,
        "created_at": now,
        "store_id": store.id,
        "channel": store.channel_type,
        "brand_id": _brand_of(store, lines),
        "member_id": data.member_id,
        "external_order_id": data.external_order_id,
        "status": OrderStatus.FULFILLED,
        "fulfilment_type": FulfilmentType.CARRY_OUT,
        "pickup_store_id": None,
        "ship_latitude": None,
        "ship_longitude": None,
        "currency": "CNY",
        "total_amount": sum((line["amount"] for line in lines), Decimal("0.00")),
        "refunded_amount": Decimal("0.00"),
        "placed_at": sold_at,
        "paid_at": sold_at,
        "fulfilled_at": sold_at,
        "cancelled_at": None,
        "actor": principal.actor,
        "updated_at": None,
    }
    if not _insert_order(session, values):
        return SaleResult(_existing(session, store.id, data.external_order_id), replayed=True)
    totals: dict[uuid.UUID, int] = {}
    for line in lines:
        line["location_id"] = store.id
        totals[line["sku_id"]] = totals.get(line["sku_id"], 0) + line["quantity"]
    for sku_id, quantity in sorted(totals.items()):
        if not inventory_service.take(session, sku_id, store.id, quantity):
            raise OutOfStock(codes[sku_id], quantity, store.code)
    session.execute(insert(OrderLine), lines)
    inventory_service.record_movements(
        session,
        [
            {
                "organization_id": principal.organization_id,
                "sku_id": sku_id,
                "location_id": store.id,
                "delta": -quantity,
                "reason": "sale",
                "actor": principal.actor,
                "reference": f"order:{order_id}",
            }
            for sku_id, quantity in sorted(totals.items())
        ],
    )
    order = _transient(values, lines)
    event_lines = _event_lines(lines, codes)
    _enqueue(session, order, "order_placed", sold_at, order.total_amount, event_lines)
    _enqueue(session, order, "purchase", sold_at, order.total_amount, event_lines)
    member_points_hook(session, order, action="award", lines=event_lines)
    return SaleResult(order, events=["order_placed", "purchase"])


# ---------------------------------------------------------------- online and cloud shelf
def checkout(session: Session, principal: Principal, data: schemas.CheckoutCreate) -> SaleResult:
    """Place an online or cloud-shelf order: consume the cart's reservations or allocate stock
    at the location the fulfilment strategy picks."""
    principal.require(Permission.SELL)
    store = _store(session, principal, data.store_id, CHECKOUT_CHANNELS)
    if data.fulfilment_type == FulfilmentType.CARRY_OUT:
        raise InvalidInput("online orders are shipped or picked up", field="fulfilment_type")
    pickup_store_id = data.pickup_store_id
    if data.fulfilment_type == FulfilmentType.PICKUP_IN_STORE:
        if pickup_store_id is None:
            raise InvalidInput("pick-up needs a pickup_store_id", field="pickup_store_id")
        if session.get(Store, pickup_store_id) is None:
            raise InvalidInput("no such store in this organisation", field="pickup_store_id")
    now = utcnow()
    order_id = uuid.uuid4()
    lines, codes = _priced_lines(session, store, principal.organization_id, order_id, data.lines)
    values: dict[str, Any] = {
        "id": order_id,
        "organization_id": principal.organization_id,
        "created_at": now,
        "store_id": store.id,
        "channel": store.channel_type,
        "brand_id": _brand_of(store, lines),
        "member_id": data.member_id,
        "external_order_id": data.external_order_id,
        "status": OrderStatus.PAID if data.paid else OrderStatus.PLACED,
        "fulfilment_type": data.fulfilment_type,
        "pickup_store_id": pickup_store_id,
        "ship_latitude": data.latitude,
        "ship_longitude": data.longitude,
        "currency": "CNY",
        "total_amount": sum((line["amount"] for line in lines), Decimal("0.00")),
        "refunded_amount": Decimal("0.00"),
        "placed_at": now,
        "paid_at": now if data.paid else None,
        "fulfilled_at": None,
        "cancelled_at": None,
        "actor": principal.actor,
        "updated_at": None,
    }
    if not _insert_order(session, values):
        assert data.external_order_id is not None
        return SaleResult(_existing(session, store.id, data.external_order_id), replayed=True)
    origin = inventory_service._origin(data.latitude, data.longitude, store)
    for line, requested in sorted(
        zip(lines, data.lines, strict=True), key=lambda pair: pair[0]["sku_id"]
    ):
        location_id = None
        if requested.reservation_id is not None:
            location_id = inventory_service.consume_reservation(
                session, requested.reservation_id, requested.sku_id, requested.quantity
            )
        if location_id is None:
            for candidate in inventory_service.candidate_locations(
                session,
                requested.sku_id,
                requested.quantity,
                data.fulfilment_type,
                origin,
                pickup_store_id,
            ):
                if inventory_service.allocate(
                    session, requested.sku_id, candidate, requested.quantity
                ):
                    location_id = candidate
                    break
        if location_id is None:
            raise OutOfStock(codes[requested.sku_id], requested.quantity)
        line["location_id"] = location_id
    session.execute(insert(OrderLine), lines)
    order = _transient(values, lines)
    event_lines = _event_lines(lines, codes)
    _enqueue(session, order, "order_placed", now, order.total_amount, event_lines)
    events = ["order_placed"]
    if data.paid:
        _enqueue(session, order, "purchase", now, order.total_amount, event_lines)
        member_points_hook(session, order, action="award", lines=event_lines)
        events.append("purchase")
    return SaleResult(order, events=events)


# ---------------------------------------------------------------- reads
@dataclass(frozen=True)
class OrderFilter:
    channel: str | None = None
    store_id: uuid.UUID | None = None
    status: str | None = None
    member_id: uuid.UUID | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None


def _filtered_orders(principal: Principal, filters: OrderFilter) -> Select[Any]:
    statement = select(Order)
    if principal.store_ids is not None:
        statement = statement.where(Order.store_id.in_(principal.store_ids))
    if filters.channel:
        statement = statement.where(Order.channel == filters.channel)
    if filters.store_id:
        statement = statement.where(Order.store_id == filters.store_id)
    if filters.status:
        statement = statement.where(Order.status == filters.status)
    if filters.member_id:
        statement = statement.where(Order.member_id == filters.member_id)
    if filters.placed_from:
        statement = statement.where(Order.placed_at >= filters.placed_from)
    if filters.placed_to:
        statement = statement.where(Order.placed_at < filters.placed_to)
    return statement


def list_orders(
    session: Session, principal: Principal, filters: OrderFilter, limit: int, cursor: str | None
) -> tuple[list[Order], str | None]:
    """Orders by channel, store, status, member and placement date range."""
    principal.require(Permission.READ)
    return paginate(session, _filtered_orders(principal, filters), Order, limit, cursor)


def recent_orders(
    session: Session, principal: Principal, filters: OrderFilter, limit: int = 200
) -> tuple[Sequence[Order], int, Decimal]:
    """The newest matching orders, with the count and total of all matches (console)."""
    principal.require(Permission.READ)
    statement = _filtered_orders(principal, filters)
    orders = session.scalars(statement.order_by(Order.placed_at.desc()).limit(limit)).all()
    count, total = session.execute(
        statement.with_only_columns(func.count(), func.coalesce(func.sum(Order.total_amount), 0))
    ).one()
    return orders, int(count), Decimal(total)


def get_order(session: Session, principal: Principal, order_id: uuid.UUID) -> Order:
    principal.require(Permission.READ)
    order = session.scalar(
        select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    )
    if order is None or (
        principal.store_ids is not None and order.store_id not in principal.store_ids
    ):
        raise NotFound("order not found", field="order_id")
    return order


# ---------------------------------------------------------------- transitions
def _move(
    session: Session, order: Order, target: str, allowed_from: Sequence[str], **values: Any
) -> None:
    """Guarded status change: only one concurrent caller wins."""
    now = utcnow()
    changed = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(list(allowed_from)))
        .values(status=target, updated_at=now, **values)
        .execution_options(**NO_SYNC)
    ).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        current = session.scalar(select(Order.status).where(Order.id == order.id))
        raise InvalidTransition(
            f"the order is {current}; it cannot become {target}", field="status"
        )


def _codes(session: Session, order: Order) -> dict[uuid.UUID, str]:
    from newretail.catalog.models import Sku

    rows = session.execute(
        select(Sku.id, Sku.code).where(Sku.id.in_({line.sku_id for line in order.lines}))
    )
    return {sku_id: code for sku_id, code in rows}


def pay(session: Session, principal: Principal, order_id: uuid.UUID) -> Order:
    """Record payment of a placed order (emits `purchase`, awards points)."""
    principal.require(Permission.SELL)
    order = get_order(session, principal, order_id)
    now = utcnow()
    _move(session, order, OrderStatus.PAID, [OrderStatus.PLACED], paid_at=now)
    order = get_order(session, principal, order_id)
    lines = _event_lines(order.lines, _codes(session, order))
    _enqueue(session, order, "purchase", now, order.total_amount, lines)
    member_points_hook(session, order, action="award", lines=lines)
    return order


def fulfil(session: Session, principal: Principal, order_id: uuid.UUID) -> Order:
    """Ship or hand over a paid order: its allocated units leave their locations."""
    principal.require(Permission.SELL)
    order = get_order(session, principal, order_id)
    _move(session, order, OrderStatus.FULFILLED, [OrderStatus.PAID], fulfilled_at=utcnow())
    movements = []
    for line in sorted(order.lines, key=lambda item: (item.sku_id, item.location_id)):
        assert line.location_id is not None
        inventory_service.ship_allocated(session, line.sku_id, line.location_id, line.quantity)
        movements.append(
            {
                "organization_id": order.organization_id,
                "sku_id": line.sku_id,
                "location_id": line.location_id,
                "delta": -line.quantity,
                "reason": "sale",
                "actor": principal.actor,
                "reference": f"order:{order.id}",
            }
        )
    inventory_service.record_movements(session, movements)
    return get_order(session, principal, order_id)


def cancel(session: Session, principal: Principal, order_id: uuid.UUID) -> Order:
    """Cancel an order before fulfilment; its stock returns, a paid one is refunded in full."""
    principal.require(Permission.SELL)
    order = get_order(session, principal, order_id)
    was_paid = order.status == OrderStatus.PAID
    now = utcnow()
    _move(
        session,
        order,
        OrderStatus.CANCELLED,
        [OrderStatus.PLACED, OrderStatus.PAID],
        cancelled_at=now,
        **({"refunded_amount": order.total_amount} if was_paid else {}),
    )
    for line in sorted(order.lines, key=lambda item: (item.sku_id, item.location_id)):
        if line.location_id is not None:
            inventory_service.deallocate(session, line.sku_id, line.location_id, line.quantity)
    order = get_order(session, principal, order_id)
    lines = _event_lines(order.lines, _codes(session, order))
    if was_paid:
        refund = Refund(
            organization_id=order.organization_id,
            order_id=order.id,
            amount=order.total_amount,
            reason="cancelled",
            actor=principal.actor,
        )
        refund.lines = [
            RefundLine(
                organization_id=order.organization_id,
                order_line_id=line.id,
                quantity=line.quantity,
                amount=line.amount,
                location_id=None,
            )
            for line in order.lines
        ]
        session.add(refund)
        session.flush()
        _enqueue(
            session,
            order,
            "order_refunded",
            now,
            order.total_amount,
            lines,
            refund_id=str(refund.id),
            cancelled=True,
        )
        member_points_hook(session, order, action="reverse", refund_id=refund.id, lines=lines)
    _enqueue(session, order, "order_cancelled", now, order.total_amount, lines)
    return order


def refund(
    session: Session, principal: Principal, order_id: uuid.UUID, data: schemas.RefundCreate
) -> Refund:
    """Refund some or all units of a fulfilled order; units go back to the location they left."""
    principal.require(Permission.SELL)
    order = get_order(session, principal, order_id)
    refundable = [OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED]
    # lock the order row first: refunds of one order are serialised
    locked = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(refundable))
        .values(updated_at=utcnow())
        .execution_options(**NO_SYNC)
    ).rowcount  # type: ignore[attr-defined]
    if locked != 1:
        raise InvalidTransition(f"a {order.status} order cannot be refunded", field="status")
    order = get_order(session, principal, order_id)
    by_id = {line.id: line for line in order.lines}
    if data.lines is None:
        wanted = {
            line.id: line.quantity - line.refunded_quantity
            for line in order.lines
            if line.quantity > line.refunded_quantity
        }
    else:
        wanted = {}
        for index, item in enumerate(data.lines):
            if item.order_line_id not in by_id:
                raise InvalidInput(
                    "not a line of this order", field=f"lines[{index}].order_line_id"
                )
            wanted[item.order_line_id] = wanted.get(item.order_line_id, 0) + item.quantity
    if not wanted:
        raise InvalidInput("nothing left to refund", field="lines")
    now = utcnow()
    refund_row = Refund(
        organization_id=order.organization_id,
        order_id=order.id,
        amount=Decimal("0.00"),
        reason=data.reason,
        actor=principal.actor,
    )
    movements = []
    total = Decimal("0.00")
    for line_id, quantity in sorted(
        wanted.items(), key=lambda item: (by_id[item[0]].sku_id, by_id[item[0]].location_id)
    ):
        line = by_id[line_id]
        changed = session.execute(
            update(OrderLine)
            .where(
                OrderLine.id == line_id,
                OrderLine.quantity - OrderLine.refunded_quantity >= quantity,
            )
            .values(refunded_quantity=OrderLine.refunded_quantity + quantity)
            .execution_options(**NO_SYNC)
        ).rowcount  # type: ignore[attr-defined]
        if changed != 1:
            raise InvalidInput(
                f"only {line.quantity - line.refunded_quantity} units of line "
                f"{line.line_number} are left to refund",
                field="lines",
            )
        amount = money(line.unit_price * quantity)
        total += amount
        refund_row.lines.append(
            RefundLine(
                organization_id=order.organization_id,
                order_line_id=line_id,
                quantity=quantity,
                amount=amount,
                location_id=line.location_id,
            )
        )
        if line.location_id is not None:
            inventory_service.put_back(
                session, order.organization_id, line.sku_id, line.location_id, quantity
            )
            movements.append(
                {
                    "organization_id": order.organization_id,
                    "sku_id": line.sku_id,
                    "location_id": line.location_id,
                    "delta": quantity,
                    "reason": "refund",
                    "actor": principal.actor,
                    "reference": f"order:{order.id}",
                }
            )
    refund_row.amount = total
    session.add(refund_row)
    inventory_service.record_movements(session, movements)
    left = session.scalar(
        select(func.sum(OrderLine.quantity - OrderLine.refunded_quantity)).where(
            OrderLine.order_id == order.id
        )
    )
    session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(
            refunded_amount=Order.refunded_amount + total,
            status=OrderStatus.REFUNDED if not left else OrderStatus.PARTIALLY_REFUNDED,
        )
        .execution_options(**NO_SYNC)
    )
    session.flush()
    order = get_order(session, principal, order_id)
    codes = _codes(session, order)
    refunded_lines = [
        {
            **entry,
            "quantity": wanted[uuid.UUID(entry["order_line_id"])],
            "amount": str(
                money(
                    by_id[uuid.UUID(entry["order_line_id"])].unit_price
                    * wanted[uuid.UUID(entry["order_line_id"])]
                )
            ),
        }
        for entry in _event_lines([by_id[i] for i in wanted], codes)
    ]
    _enqueue(
        session, order, "order_refunded", now, total, refunded_lines, refund_id=str(refund_row.id)
    )
    member_points_hook(
        session, order, action="reverse", refund_id=refund_row.id, lines=refunded_lines
    )
    return refund_row


def list_refunds(session: Session, principal: Principal, order_id: uuid.UUID) -> Sequence[Refund]:
    """The refunds of an order, oldest first."""
    get_order(session, principal, order_id)
    return session.scalars(
        select(Refund).where(Refund.order_id == order_id).order_by(Refund.created_at)
    ).all()


def get_refund(
    session: Session, principal: Principal, order_id: uuid.UUID, refund_id: uuid.UUID
) -> Refund:
    get_order(session, principal, order_id)
    found = session.scalar(
        select(Refund).where(Refund.id == refund_id, Refund.order_id == order_id)
    )
    if found is None:
        raise NotFound("refund not found", field="refund_id")
    return found
