"""Members' part of the order ledger's facts: a paid order earns points and adds spend, a
refund reverses the refunded lines' points and subtracts their amount from the spend.

Both go through the members' own points and tier functions, idempotent per order and per
refund, so a replayed fact changes nothing.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from newretail.core import domain_events
from newretail.members import points as member_points
from newretail.members import schemas as member_schemas
from newretail.members import tiers as member_tiers
from newretail.orders.facts import OrderPaid, OrderRefunded


@domain_events.handler(OrderPaid)
def award_points_of_paid_order(session: Session, fact: OrderPaid) -> None:
    """Award the order's points (locked until the return window ends) and add its spend."""
    if fact.member_id is None:
        return
    member_points.award_order_points(
        session,
        fact.organization_id,
        fact.member_id,
        order_id=fact.order_id,
        brand_id=fact.brand_id,
        paid_at=fact.paid_at,
        lines=[
            member_schemas.OrderLine(
                line_id=str(line.order_line_id),
                product_id=None if line.product_id is None else str(line.product_id),
                category=line.category,
                amount=line.amount,
            )
            for line in fact.lines
        ],
    )
    member_tiers.record_spend(
        session,
        fact.organization_id,
        fact.member_id,
        amount=fact.total_amount,
        occurred_at=fact.paid_at,
        order_id=fact.order_id,
    )


@domain_events.handler(OrderRefunded)
def reverse_points_of_refund(session: Session, fact: OrderRefunded) -> None:
    """Reverse the refunded lines' points and subtract the refund from the spend."""
    if fact.member_id is None:
        return
    member_points.reverse_order_points(
        session,
        fact.organization_id,
        fact.member_id,
        order_id=fact.order_id,
        refund_id=fact.refund_id,
        refunded_lines=[
            member_schemas.RefundedLine(line_id=str(line.order_line_id), amount=line.amount)
            for line in fact.lines
        ],
        occurred_at=fact.refunded_at,
    )
    member_tiers.record_spend(
        session,
        fact.organization_id,
        fact.member_id,
        amount=fact.amount,
        occurred_at=fact.refunded_at,
        refund_id=fact.refund_id,
    )
