"""Marketing's part of a OneID merge and undo: the merged side's coupons belong to the
survivor (handlers of identity's `MembersMerged` and `MergeUndone`, in the caller's
transaction); an undo gives back exactly the coupons the merge moved."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from newretail.core.domain_events import handler
from newretail.identity.merge_events import MembersMerged, MergeUndone
from newretail.marketing import coupons

ACTOR = "oneid"


@handler(MembersMerged)
def move_coupons(session: Session, event: MembersMerged) -> None:
    """The merged side's coupons are the survivor's now."""
    moved = coupons.move_member(session, event.merged_ids, event.survivor_id, ACTOR)
    event.moved.record("coupons", moved)


@handler(MergeUndone)
def restore_coupons(session: Session, event: MergeUndone) -> None:
    """The coupons the merge moved go back to the restored member."""
    ids = [uuid.UUID(v) for v in event.moved.get("coupons", [])]
    coupons.move_coupons(session, ids, event.restored_id, ACTOR)
