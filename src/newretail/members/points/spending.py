"""Spending and granting points: redemption (soonest expiry first), manual adjustments."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.members import schemas
from newretail.members.errors import InsufficientPoints, InvalidPoints
from newretail.members.models import LedgerKind, LotState, PointsLedgerEntry
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
from newretail.tenancy.permissions import Permission, Principal


def redeem_points(
    session: Session,
    organization_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    points: int,
    actor: str = SYSTEM_ACTOR,
    reference: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    kind: LedgerKind = LedgerKind.REDEEM,
) -> PointsLedgerEntry:
    """Spend available points, soonest-expiring first; `insufficient_points` when short."""
    if points <= 0:
        raise InvalidPoints(field="points", reason="positive")
    now = now or utcnow()
    key = f"{kind}:{reference}" if reference else None
    if key is not None:
        done = session.scalar(
            select(PointsLedgerEntry).where(PointsLedgerEntry.idempotency_key == key)
        )
        if done is not None:
            return done
    member = lock_member(session, member_id)
    settle_member(session, member, now)
    lots = lock_lots(session, member_id, LotState.AVAILABLE)
    available = sum(lot.remaining for lot in lots)
    if available < points or member.points_available < points:
        raise InsufficientPoints(field="points", available=available, asked=points)
    taken = take(soonest_expiry_first(lots), points)
    entry = write_entry(
        session,
        member,
        kind,
        available_delta=-taken.available,
        occurred_at=now,
        actor=actor,
        idempotency_key=key,
        reason=reason,
    )
    session.flush()
    return entry


def grant_points(
    session: Session,
    organization_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    points: int,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> PointsLedgerEntry:
    """Add available points at once (a manual adjustment), expiring under the usual rule."""
    if points <= 0:
        raise InvalidPoints(field="points", reason="positive")
    now = now or utcnow()
    member = lock_member(session, member_id)
    lot = new_lot(session, member, points, earned_at=now, unlock_at=None, order_id=None)
    entry = write_entry(
        session,
        member,
        LedgerKind.ADJUST,
        available_delta=points,
        occurred_at=now,
        actor=actor,
        lot_id=lot.id,
        reason=reason,
    )
    session.flush()
    return entry


def adjust_points(
    session: Session, principal: Principal, member_id: uuid.UUID, data: schemas.PointsAdjust
) -> PointsLedgerEntry:
    """A manual adjustment: positive adds available points, negative removes them (FIFO)."""
    principal.require(Permission.MANAGE_MEMBERS)
    if data.points == 0:
        raise InvalidPoints(field="points", reason="zero")
    if data.points > 0:
        return grant_points(
            session,
            principal.organization_id,
            member_id,
            points=data.points,
            actor=principal.actor,
            reason=data.reason,
        )
    return redeem_points(
        session,
        principal.organization_id,
        member_id,
        points=-data.points,
        actor=principal.actor,
        reason=data.reason,
        kind=LedgerKind.ADJUST,
    )


def redeem_for(
    session: Session, principal: Principal, member_id: uuid.UUID, data: schemas.PointsRedeem
) -> PointsLedgerEntry:
    """Redeem points on behalf of a member (counter staff or the members team)."""
    if not (principal.can(Permission.MANAGE_MEMBERS) or principal.can(Permission.SELL)):
        principal.require(Permission.MANAGE_MEMBERS)
    return redeem_points(
        session,
        principal.organization_id,
        member_id,
        points=data.points,
        actor=principal.actor,
        reference=data.reference,
        reason=data.reason,
    )
