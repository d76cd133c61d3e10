"""Order status transitions: payment, fulfilment and cancellation, each a guarded update
that only one concurrent caller wins."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newretail.core.database import NO_SYNC, utcnow
from newretail.inventory import levels as stock_levels
from newretail.marketing import sale_coupons
from newretail.orders import facts, rows
from newretail.orders.errors import InvalidTransition
from newretail.orders.models import Order, OrderStatus, Refund, RefundLine
from newretail.orders.reads import get_order
from newretail.orders.sales import order_sku_facts
from newretail.tenancy.permissions import Permission, Principal


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
            f"the order is {current}; it cannot become {target}",
            current=str(current),
            target=str(target),
        )


def pay(session: Session, principal: Principal, order_id: uuid.UUID) -> Order:
    """Record payment of a placed order (emits `purchase`, awards points)."""
    principal.require(Permission.SELL)
    order = get_order(session, principal, order_id)
    now = utcnow()
    _move(session, order, OrderStatus.PAID, [OrderStatus.PLACED], paid_at=now)
    order = get_order(session, principal, order_id)
    lines = rows.event_lines(order.lines, order_sku_facts(session, order))
    rows.enqueue(session, order, "purchase", now, order.total_amount, lines)
    facts.publish_paid(session, order, lines, now)
    return order


def fulfil(session: Session, principal: Principal, order_id: uuid.UUID) -> Order:
    """Ship or hand over a paid order: its allocated units leave their locations."""
    principal.require(Permission.SELL)
    order = get_order(session, principal, order_id)
    _move(session, order, OrderStatus.FULFILLED, [OrderStatus.PAID], fulfilled_at=utcnow())
    movements = []
    for line in sorted(order.lines, key=lambda item: (item.sku_id, item.location_id)):
        assert line.location_id is not None
        stock_levels.ship_allocated(session, line.sku_id, line.location_id, line.quantity)
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
    stock_levels.record_movements(session, movements)
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
            stock_levels.deallocate(session, line.sku_id, line.location_id, line.quantity)
    order = get_order(session, principal, order_id)
    lines = rows.event_lines(order.lines, order_sku_facts(session, order))
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
        rows.enqueue(
            session,
            order,
            "order_refunded",
            now,
            order.total_amount,
            lines,
            refund_id=str(refund.id),
            cancelled=True,
        )
    rows.enqueue(session, order, "order_cancelled", now, order.total_amount, lines)
    # the sale did not happen: its coupons come back (while valid), whatever the refund rule;
    # before the points, in the one lock order of a sale (stock, coupons and budgets, points)
    sale_coupons.restore_order(
        session, str(order.id), principal.actor, whatever_the_rule=True, now=now
    )
    if was_paid:
        facts.publish_refunded(session, order, refund.id, lines, now)
    return order
