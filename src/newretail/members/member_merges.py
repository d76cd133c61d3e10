"""Members' part of a OneID merge and undo: points, tier spend, consent and tier move with
the member (handlers of identity's `MembersMerged` and `MergeUndone`, in the caller's
transaction).

Points lots, ledger entries, awards, reversals and tier spend of the merged side move to the
survivor; the survivor keeps its own consent answers and takes the merged side's for purpose
and channel pairs it has none for; the stored balances are recomputed by the points balance
rule's writer (`points.recompute_balance`); the survivor holds at least the best tier of the
merged profiles at once. An undo moves exactly the rows the merge moved back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newretail.core.database import NO_SYNC
from newretail.core.domain_events import handler
from newretail.identity.merge_events import MembersMerged, MergeUndone
from newretail.members import points, tiers
from newretail.members.models import (
    MemberConsent,
    MemberSpend,
    PointsAward,
    PointsLedgerEntry,
    PointsLot,
    PointsReversal,
)

# what moves with the member; kind in the merge audit -> model
MOVED_WITH_MEMBER: dict[str, Any] = {
    "points_lots": PointsLot,
    "points_ledger_entries": PointsLedgerEntry,
    "points_awards": PointsAward,
    "points_reversals": PointsReversal,
    "member_spend": MemberSpend,
}


def _move(session: Session, model: Any, ids: Sequence[uuid.UUID], member_id: uuid.UUID) -> None:
    for start in range(0, len(ids), 500):
        session.execute(
            update(model)
            .where(model.id.in_(list(ids[start : start + 500])))
            .values(member_id=member_id),
            execution_options=NO_SYNC,
        )


def _take_consents(session: Session, event: MembersMerged) -> list[uuid.UUID]:
    """The merged side's consent answers for pairs the survivor has no answer for."""
    held = {
        (purpose, channel)
        for purpose, channel in session.execute(
            select(MemberConsent.purpose, MemberConsent.channel).where(
                MemberConsent.member_id == event.survivor_id
            )
        )
    }
    taken: list[uuid.UUID] = []
    for consent_id, purpose, channel in session.execute(
        select(MemberConsent.id, MemberConsent.purpose, MemberConsent.channel)
        .where(MemberConsent.member_id.in_(list(event.merged_ids)))
        .order_by(MemberConsent.updated_at.desc(), MemberConsent.id)
    ):
        if (purpose, channel) not in held:
            held.add((purpose, channel))
            taken.append(consent_id)
    return taken


@handler(MembersMerged)
def move_member_history(session: Session, event: MembersMerged) -> None:
    """Points, tier spend and missing consent follow the merged side to the survivor."""
    merged = list(event.merged_ids)
    any_points = False
    for kind, model in MOVED_WITH_MEMBER.items():
        ids = list(session.scalars(select(model.id).where(model.member_id.in_(merged))))
        _move(session, model, ids, event.survivor_id)
        event.moved.record(kind, ids)
        any_points = any_points or bool(ids)
    taken = _take_consents(session, event)
    _move(session, MemberConsent, taken, event.survivor_id)
    event.moved.record("consents", taken)
    if any_points:
        points.recompute_balance(session, event.organization_id, [event.survivor_id, *merged])
    tiers.upgrade_after_merge(session, event.survivor_id, merged, event.at)


@handler(MergeUndone)
def restore_member_history(session: Session, event: MergeUndone) -> None:
    """What the merge moved goes back to the restored member; balances are restated."""
    any_points = False
    for kind, model in [*MOVED_WITH_MEMBER.items(), ("consents", MemberConsent)]:
        ids = [uuid.UUID(v) for v in event.moved.get(kind, [])]
        _move(session, model, ids, event.restored_id)
        any_points = any_points or (bool(ids) and kind in MOVED_WITH_MEMBER)
    if any_points:
        points.recompute_balance(
            session, event.organization_id, [event.survivor_id, event.restored_id]
        )
