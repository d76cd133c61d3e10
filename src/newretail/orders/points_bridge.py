"""Member points and spend of paid and refunded orders (until the domain events replace it)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.members import points as member_points
from newretail.members import schemas as member_schemas
from newretail.members import tiers as member_tiers
from newretail.orders.models import Order

ZERO = Decimal("0.00")


def member_points_hook(
    session: Session,
    order: Order,
    *,
    action: str,
    refund_id: uuid.UUID | None = None,
    lines: Sequence[dict[str, Any]] = (),
    occurred_at: datetime | None = None,
) -> None:
    """Award points and add spend when an order with a member is paid ("award"); reverse the
    refunded lines' points and subtract the refund from the spend ("reverse").

    `lines` are event lines (`order_line_id`, `amount`, `product_id`, `category`); for a
    reversal their `amount` is the refunded amount. Both steps are idempotent per order and
    per refund, so a replayed call changes nothing.
    """
    if order.member_id is None:
        return
    if action == "award":
        paid_at = order.paid_at or occurred_at or utcnow()
        member_points.award_order_points(
            session,
            order.organization_id,
            order.member_id,
            order_id=order.id,
            brand_id=order.brand_id,
            paid_at=paid_at,
            lines=[
                member_schemas.OrderLine(
                    line_id=str(line["order_line_id"]),
                    product_id=line.get("product_id"),
                    category=line.get("category"),
                    amount=Decimal(str(line["amount"])),
                )
                for line in lines
            ],
        )
        member_tiers.record_spend(
            session,
            order.organization_id,
            order.member_id,
            amount=order.total_amount,
            occurred_at=paid_at,
            order_id=order.id,
        )
    elif action == "reverse":
        if refund_id is None:
            raise ValueError("a reversal needs the refund id")
        when = occurred_at or utcnow()
        refunded = [
            member_schemas.RefundedLine(
                line_id=str(line["order_line_id"]), amount=Decimal(str(line["amount"]))
            )
            for line in lines
        ]
        member_points.reverse_order_points(
            session,
            order.organization_id,
            order.member_id,
            order_id=order.id,
            refund_id=refund_id,
            refunded_lines=refunded,
            occurred_at=when,
        )
        member_tiers.record_spend(
            session,
            order.organization_id,
            order.member_id,
            amount=sum((line.amount for line in refunded), ZERO),
            occurred_at=when,
            refund_id=refund_id,
        )
    else:
        raise ValueError(f"unknown points action {action!r}")
