"""What a merge moves to the survivor (orders, points, consent) and how an undo moves it back.

Identifiers never move: each stays with its home profile, and the profile follows the merge.
Warehouse events are re-attributed after the commit (warehouse_moves.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from newretail.identity.keys import UNSCOPED, UNSCOPED_NO_SYNC, keyed
from newretail.members import tiers
from newretail.members.models import (
    LotState,
    Member,
    MemberConsent,
    MemberSpend,
    PointsAward,
    PointsLedgerEntry,
    PointsLot,
    PointsReversal,
)
from newretail.orders.models import Order

# what moves with the member; key in the merge audit's `moved` -> model
MOVED_TABLES: dict[str, Any] = {
    "orders": Order,
    "points_lots": PointsLot,
    "points_ledger_entries": PointsLedgerEntry,
    "points_awards": PointsAward,
    "points_reversals": PointsReversal,
    "member_spend": MemberSpend,
}
NO_SYNC = {"synchronize_session": False}


def _ids(values: Sequence[uuid.UUID]) -> list[str]:
    return [str(v) for v in values]


def move_history(
    session: Session,
    organization_id: uuid.UUID,
    survivor_id: uuid.UUID,
    side: Collection[uuid.UUID],
    at: datetime,
) -> dict[str, list[str]]:
    """Move the side's orders, points and missing consents to the survivor (and give it the
    best tier of the two, or the one the combined spend reaches); returns the ids."""
    moved: dict[str, list[str]] = {}
    members = list(side)
    for key, model in MOVED_TABLES.items():
        ids = list(
            session.scalars(
                select(model.id).where(keyed(model, organization_id, model.member_id, members)),
                execution_options=UNSCOPED,
            )
        )
        if ids:
            session.execute(
                update(model)
                .where(keyed(model, organization_id, model.id, ids))
                .values(member_id=survivor_id),
                execution_options=UNSCOPED_NO_SYNC,
            )
        moved[key] = _ids(ids)
    # consent: the survivor keeps its own and takes the loser's where it has none
    held = {
        (purpose, channel)
        for purpose, channel in session.execute(
            select(MemberConsent.purpose, MemberConsent.channel).where(
                MemberConsent.member_id == survivor_id
            )
        )
    }
    taken: list[uuid.UUID] = []
    for consent_id, purpose, channel in session.execute(
        select(MemberConsent.id, MemberConsent.purpose, MemberConsent.channel)
        .where(keyed(MemberConsent, organization_id, MemberConsent.member_id, members))
        .order_by(MemberConsent.updated_at.desc(), MemberConsent.id),
        execution_options=UNSCOPED,
    ):
        if (purpose, channel) not in held:
            held.add((purpose, channel))
            taken.append(consent_id)
    if taken:
        session.execute(
            update(MemberConsent).where(MemberConsent.id.in_(taken)).values(member_id=survivor_id),
            execution_options=NO_SYNC,
        )
    moved["consents"] = _ids(taken)
    # Coupons (marketing, a later issue) must move here too: hook `coupons` in MOVED_TABLES.
    moved["coupons"] = []
    if any(moved[key] for key in MOVED_TABLES):
        recompute_balances(session, organization_id, [survivor_id, *members])
    tiers.upgrade_after_merge(session, survivor_id, members, at)
    return moved


def restore_history(
    session: Session, organization_id: uuid.UUID, loser_id: uuid.UUID, moved: Mapping[str, Any]
) -> None:
    """Move what a merge moved back to the loser (an undo)."""
    for key, model in [*MOVED_TABLES.items(), ("consents", MemberConsent)]:
        ids = [uuid.UUID(v) for v in moved.get(key, [])]
        if ids:
            session.execute(
                update(model)
                .where(keyed(model, organization_id, model.id, ids))
                .values(member_id=loser_id),
                execution_options=UNSCOPED_NO_SYNC,
            )


def recompute_balances(
    session: Session, organization_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> None:
    """Available and locked points = the remaining points of the member's lots."""
    sums: dict[tuple[uuid.UUID, str], int] = {
        (member_id, state): int(total or 0)
        for member_id, state, total in session.execute(
            select(PointsLot.member_id, PointsLot.state, func.sum(PointsLot.remaining))
            .where(keyed(PointsLot, organization_id, PointsLot.member_id, member_ids))
            .group_by(PointsLot.member_id, PointsLot.state),
            execution_options=UNSCOPED,
        )
    }
    for member_id in set(member_ids):
        session.execute(
            update(Member)
            .where(Member.id == member_id)
            .values(
                points_available=sums.get((member_id, LotState.AVAILABLE), 0),
                points_locked=sums.get((member_id, LotState.LOCKED), 0),
            ),
            execution_options=NO_SYNC,
        )
