"""Orders' part of a member's erasure (privacy/erasure.py owns the use case): the orders and
their money stay, so every count and GMV stays exact, but they belong to the tombstone."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from newretail.core.database import NO_SYNC
from newretail.orders.models import Order


def hand_to_tombstone(
    session: Session, member_ids: Sequence[uuid.UUID], tombstone_id: uuid.UUID
) -> int:
    """The members' orders belong to the tombstone now; returns how many."""
    result: Any = session.execute(
        update(Order).where(Order.member_id.in_(list(member_ids))).values(member_id=tombstone_id),
        execution_options=NO_SYNC,
    )
    return int(result.rowcount or 0)
