"""Earning and reversal: a paid order's points (locked until the return window ends) and
their proportional reversal when lines are refunded, each exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import insert_once, utcnow
from newretail.members.errors import InvalidOrderLines
from newretail.members.identifiers import member_settings
from newretail.members.models import LedgerKind, LotState, Member, PointsAward, PointsReversal
from newretail.members.points.balance import LIVE_STATES
from newretail.members.points.earn_rules import AwardLine, brand_rule, line_points
from newretail.members.points.ledger import (
    SYSTEM_ACTOR,
    lock_lots,
    lock_member,
    new_lot,
    settle_member,
    soonest_expiry_first,
    take,
    write_entry,
)


class RefundLine(Protocol):
    """What points need to know of a refunded order line."""

    @property
    def line_id(self) -> object: ...
    @property
    def amount(self) -> Decimal: ...


def _award_of(session: Session, order_id: uuid.UUID) -> PointsAward | None:
    return session.scalar(select(PointsAward).where(PointsAward.order_id == order_id))


def _reversal_of(session: Session, refund_id: uuid.UUID) -> PointsReversal | None:
    return session.scalar(select(PointsReversal).where(PointsReversal.refund_id == refund_id))


RecordT = TypeVar("RecordT", PointsAward, PointsReversal)


def _recorded_or_locked(
    session: Session, member_id: uuid.UUID, recorded: Callable[[], RecordT | None]
) -> RecordT | Member:
    """The award or reversal when it is recorded already, else the member's row locked for
    writing it. Asked again once the lock is held: a concurrent call may have recorded it
    while this one waited."""
    existing = recorded()
    if existing is not None:
        return existing
    member = lock_member(session, member_id)
    existing = recorded()
    return member if existing is None else existing


def award_order_points(
    session: Session,
    organization_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    order_id: uuid.UUID,
    brand_id: uuid.UUID | None,
    paid_at: datetime,
    lines: Sequence[AwardLine],
    actor: str = SYSTEM_ACTOR,
) -> PointsAward:
    """Award a paid order's points once (locked until the return window ends)."""
    found = _recorded_or_locked(session, member_id, lambda: _award_of(session, order_id))
    if not isinstance(found, Member):
        return found
    member = found
    rule = brand_rule(session, brand_id)
    award_lines = [
        {
            "line_id": str(line.line_id),
            "product_id": None if line.product_id is None else str(line.product_id),
            "category": line.category,
            "amount": str(line.amount),
            "points": line_points(rule, line),
            "refunded": "0",
            "reversed": 0,
        }
        for line in lines
    ]
    if len({line["line_id"] for line in award_lines}) != len(award_lines):
        raise InvalidOrderLines(field="lines", reason="duplicate")
    total = sum(int(str(line["points"])) for line in award_lines)
    award = PointsAward(
        organization_id=organization_id,
        member_id=member_id,
        order_id=order_id,
        brand_id=brand_id,
        points=total,
        lines=award_lines,
        paid_at=paid_at,
    )
    stored = insert_once(session, award, lambda: _award_of(session, order_id))
    if stored is not award:
        return stored
    if total > 0:
        settings = member_settings(session, organization_id)
        window = timedelta(days=settings.return_window_days)
        lot = new_lot(
            session,
            member,
            total,
            earned_at=paid_at,
            unlock_at=paid_at + window if settings.return_window_days > 0 else None,
            order_id=order_id,
        )
        award.lot_id = lot.id
        write_entry(
            session,
            member,
            LedgerKind.EARN,
            available_delta=0 if lot.state == LotState.LOCKED else total,
            locked_delta=total if lot.state == LotState.LOCKED else 0,
            occurred_at=paid_at,
            actor=actor,
            order_id=order_id,
            lot_id=lot.id,
            idempotency_key=f"earn:{order_id}",
        )
    session.flush()
    return award


def reverse_order_points(
    session: Session,
    organization_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    order_id: uuid.UUID,
    refund_id: uuid.UUID,
    refunded_lines: Sequence[RefundLine],
    occurred_at: datetime | None = None,
    actor: str = SYSTEM_ACTOR,
) -> PointsReversal | None:
    """Take back the points of refunded lines, in proportion to the refunded amount, once.

    The order's own lot pays first; then other available points (soonest expiry first);
    what the member no longer holds is recorded as the reversal's shortfall.
    Returns None when the order earned no points.
    """
    occurred_at = occurred_at or utcnow()
    found = _recorded_or_locked(session, member_id, lambda: _reversal_of(session, refund_id))
    if not isinstance(found, Member):
        return found
    member = found
    award = _award_of(session, order_id)
    if award is None:
        return None
    if award.member_id != member_id:
        raise InvalidOrderLines(field="member_id", reason="other_member")
    lines = [dict(line) for line in award.lines]
    by_id = {str(line["line_id"]): line for line in lines}
    points = 0
    for refunded in refunded_lines:
        line = by_id.get(str(refunded.line_id))
        if line is None:
            raise InvalidOrderLines(
                field="refunded_lines", reason="unknown", line=str(refunded.line_id)
            )
        amount = Decimal(str(line["amount"]))
        earned, reversed_before = int(str(line["points"])), int(str(line["reversed"]))
        refunded_total = min(amount, Decimal(str(line["refunded"])) + Decimal(refunded.amount))
        if refunded_total >= amount:
            target = earned
        else:
            target = int((earned * refunded_total / amount).to_integral_value(ROUND_FLOOR))
        line["refunded"] = str(refunded_total)
        line["reversed"] = target
        points += target - reversed_before
    reversal = PointsReversal(
        organization_id=organization_id,
        member_id=member_id,
        order_id=order_id,
        refund_id=refund_id,
        points=points,
        shortfall=0,
    )
    stored = insert_once(session, reversal, lambda: _reversal_of(session, refund_id))
    if stored is not reversal:
        return stored
    award.lines = lines
    if points > 0:
        settle_member(session, member, occurred_at)
        live = lock_lots(session, member_id, *LIVE_STATES)
        own = [lot for lot in live if lot.id == award.lot_id]
        others = soonest_expiry_first(
            lot for lot in live if lot.id != award.lot_id and lot.state == LotState.AVAILABLE
        )
        taken = take([*own, *others], points)
        reversal.shortfall = points - taken.total
        if taken.total:
            write_entry(
                session,
                member,
                LedgerKind.REVERSE,
                available_delta=-taken.available,
                locked_delta=-taken.locked,
                occurred_at=occurred_at,
                actor=actor,
                order_id=order_id,
                refund_id=refund_id,
                idempotency_key=f"reverse:{refund_id}",
                reason=f"shortfall {reversal.shortfall}" if reversal.shortfall else None,
            )
    session.flush()
    return reversal
