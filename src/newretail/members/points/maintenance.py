"""The maintenance jobs: write the unlocks and expiries that came due to the ledger.

Readers do not wait for them: the balance rule already counts what came due
(`points.balance`); the jobs make the ledger say so.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.members.models import LotState, PointsLot
from newretail.members.points.balance import LIVE_STATES
from newretail.members.points.ledger import expire_lot, lock_lots, lock_member, unlock_lot


def _due_members(session: Session, *conditions: object) -> list[uuid.UUID]:
    statement = (
        select(PointsLot.member_id).where(*conditions).distinct().order_by(PointsLot.member_id)  # type: ignore[arg-type]
    )
    return list(session.scalars(statement))


def release_locked_points(session: Session, now: datetime | None = None) -> int:
    """Unlock every lot whose return window has ended; returns the number of lots."""
    now = now or utcnow()
    count = 0
    for member_id in _due_members(
        session,
        PointsLot.state == LotState.LOCKED,
        PointsLot.unlock_at <= now,
        PointsLot.remaining > 0,
    ):
        member = lock_member(session, member_id)
        for lot in lock_lots(session, member_id, LotState.LOCKED):
            count += unlock_lot(session, member, lot, now)
    session.flush()
    return count


def expire_points(session: Session, now: datetime | None = None) -> int:
    """Expire every live lot whose expiry has come; returns the number of lots."""
    now = now or utcnow()
    count = 0
    for member_id in _due_members(
        session,
        PointsLot.state.in_([str(s) for s in LIVE_STATES]),
        PointsLot.expires_at <= now,
        PointsLot.remaining > 0,
    ):
        member = lock_member(session, member_id)
        for lot in lock_lots(session, member_id, *LIVE_STATES):
            count += expire_lot(session, member, lot, now)
    session.flush()
    return count
