"""Refunds of fulfilled orders: some or all units, which go back to the location they left.

A refund gives back what the units cost after offers: a line's units share its amount
(`refund_amount`, exact to the cent over all its units). The refund that leaves nothing to
refund gives the order's coupons back (`marketing.sale_coupons.restore_order`: when the
offer's refund rule restores and the coupon is still valid), in the same transaction as the
points it reverses (`OrderRefunded`); a partial refund keeps them used.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from newretail.core.database import NO_SYNC, utcnow
from newretail.core.errors import InvalidInput
from newretail.core.money import money
from newretail.inventory import levels as stock_levels
from newretail.marketing import sale_coupons
from newretail.orders import facts, rows, schemas
from newretail.orders.errors import InvalidTransition
from newretail.orders.models import Order, OrderLine, OrderStatus, Refund, RefundLine
from newretail.orders.reads import get_order
from newretail.orders.sales import order_sku_facts
from newretail.tenancy.permissions import Permission, Principal


def refund_amount(line: OrderLine, quantity: int) -> Decimal:
    """What `quantity` more units of the line give back: the cents of the line's amount (after
    offers) up to the units refunded after them less those up to the units refunded before,
    so every unit's share sums to the line's amount exactly."""
    before = line.refunded_quantity

    def share(units: int) -> Decimal:
        return money(line.amount * units / line.quantity)

    return share(before + quantity) - share(before)


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
        raise InvalidTransition(
            f"a {order.status} order cannot be refunded", current=str(order.status)
        )
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
    amounts: dict[uuid.UUID, Decimal] = {}
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
        amount = amounts[line_id] = refund_amount(line, quantity)
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
            stock_levels.put_back(
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
    stock_levels.record_movements(session, movements)
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
    codes = order_sku_facts(session, order)
    refunded_lines = [
        {
            **entry,
            "quantity": wanted[uuid.UUID(entry["order_line_id"])],
            "amount": str(amounts[uuid.UUID(entry["order_line_id"])]),
        }
        for entry in rows.event_lines([by_id[i] for i in wanted], codes)
    ]
    rows.enqueue(
        session, order, "order_refunded", now, total, refunded_lines, refund_id=str(refund_row.id)
    )
    if not left:  # before the points: a sale's one lock order (stock, coupons, points)
        sale_coupons.restore_order(session, str(order.id), principal.actor, now=now)
    facts.publish_refunded(session, order, refund_row.id, refunded_lines, now)
    return refund_row
