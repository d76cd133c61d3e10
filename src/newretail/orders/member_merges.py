"""Orders' part of a OneID merge and undo: the merged side's orders belong to the survivor
(handlers of identity's `MembersMerged` and `MergeUndone`, in the caller's transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newretail.core.domain_events import handler
from newretail.identity.merge_events import MembersMerged, MergeUndone
from newretail.orders.models import Order


def _move(session: Session, ids: Sequence[uuid.UUID], member_id: uuid.UUID) -> None:
    for start in range(0, len(ids), 500):
        session.execute(
            update(Order)
            .where(Order.id.in_(list(ids[start : start + 500])))
            .values(member_id=member_id),
            execution_options={"synchronize_session": False},
        )


@handler(MembersMerged)
def move_orders(session: Session, event: MembersMerged) -> None:
    """The merged side's orders are the survivor's now."""
    ids = list(session.scalars(select(Order.id).where(Order.member_id.in_(event.merged_ids))))
    _move(session, ids, event.survivor_id)
    event.moved.record("orders", ids)


@handler(MergeUndone)
def restore_orders(session: Session, event: MergeUndone) -> None:
    """The orders the merge moved go back to the restored member."""
    _move(session, [uuid.UUID(v) for v in event.moved.get("orders", [])], event.restored_id)
