"""OneID's part of a member's erasure (privacy/erasure.py owns the use case): the links,
merges, conflicts and pending moves that name one of the erased profiles are forgotten; the
profiles and their identifiers are members' rows (members/erasure.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from newretail.core.database import NO_SYNC
from newretail.identity.models import (
    IdentityConflict,
    IdentityLink,
    IdentityMerge,
    IdentityPendingMove,
)


def forget_profiles(session: Session, profile_ids: Sequence[uuid.UUID]) -> dict[str, int]:
    """Delete every OneID row naming one of the profiles; the rows deleted per table."""
    ids = list(profile_ids)
    conditions: tuple[tuple[Any, Any], ...] = (
        (IdentityLink, or_(IdentityLink.member_a.in_(ids), IdentityLink.member_b.in_(ids))),
        (
            IdentityMerge,
            or_(IdentityMerge.survivor_id.in_(ids), IdentityMerge.loser_id.in_(ids)),
        ),
        (
            IdentityConflict,
            or_(IdentityConflict.member_a.in_(ids), IdentityConflict.member_b.in_(ids)),
        ),
        (IdentityPendingMove, IdentityPendingMove.member_id.in_(ids)),
    )
    deleted: dict[str, int] = {}
    for model, condition in conditions:
        result: Any = session.execute(delete(model).where(condition), execution_options=NO_SYNC)
        deleted[model.__tablename__] = int(result.rowcount or 0)
    return deleted
