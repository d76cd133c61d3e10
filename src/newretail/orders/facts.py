"""Facts the order ledger publishes to other domains (`newretail.core.domain_events`), in the
caller's session: an order was paid, some of its lines were refunded. The members domain
awards and reverses points and spend from them (`members.order_handlers`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from newretail.core import domain_events
from newretail.orders.models import Order


@dataclass(frozen=True)
class PaidLine:
    """A paid order line: its amount, product and top category (as earn rules name it)."""

    order_line_id: uuid.UUID
    amount: Decimal
    product_id: uuid.UUID | None = None
    category: str | None = None


@dataclass(frozen=True)
class RefundedLine:
    """A refunded order line and the amount refunded of it."""

    order_line_id: uuid.UUID
    amount: Decimal


@dataclass(frozen=True)
class OrderPaid:
    """An order was paid (a POS sale is paid when it is recorded)."""

    organization_id: uuid.UUID
    order_id: uuid.UUID
    brand_id: uuid.UUID | None
    member_id: uuid.UUID | None
    total_amount: Decimal
    paid_at: datetime
    lines: tuple[PaidLine, ...]


@dataclass(frozen=True)
class OrderRefunded:
    """Lines of a paid order were refunded (all of them when it was cancelled)."""

    organization_id: uuid.UUID
    order_id: uuid.UUID
    refund_id: uuid.UUID
    member_id: uuid.UUID | None
    amount: Decimal
    refunded_at: datetime
    lines: tuple[RefundedLine, ...]


def _uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def publish_paid(
    session: Session, order: Order, event_lines: Sequence[dict[str, Any]], paid_at: datetime
) -> None:
    """Publish `OrderPaid` from an order and its event lines (`orders.rows.event_lines`)."""
    domain_events.publish(
        session,
        OrderPaid(
            organization_id=order.organization_id,
            order_id=order.id,
            brand_id=order.brand_id,
            member_id=order.member_id,
            total_amount=order.total_amount,
            paid_at=paid_at,
            lines=tuple(
                PaidLine(
                    order_line_id=uuid.UUID(str(line["order_line_id"])),
                    amount=Decimal(str(line["amount"])),
                    product_id=_uuid(line.get("product_id")),
                    category=line.get("category"),
                )
                for line in event_lines
            ),
        ),
    )


def publish_refunded(
    session: Session,
    order: Order,
    refund_id: uuid.UUID,
    refunded_lines: Sequence[dict[str, Any]],
    refunded_at: datetime,
) -> None:
    """Publish `OrderRefunded`; each event line's `amount` is the amount refunded of it."""
    lines = tuple(
        RefundedLine(
            order_line_id=uuid.UUID(str(line["order_line_id"])),
            amount=Decimal(str(line["amount"])),
        )
        for line in refunded_lines
    )
    domain_events.publish(
        session,
        OrderRefunded(
            organization_id=order.organization_id,
            order_id=order.id,
            refund_id=refund_id,
            member_id=order.member_id,
            amount=sum((line.amount for line in lines), Decimal("0.00")),
            refunded_at=refunded_at,
            lines=lines,
        ),
    )
