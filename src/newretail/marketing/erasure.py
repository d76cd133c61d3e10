"""Marketing's part of a member's erasure (privacy/erasure.py owns the use case): the
member's coupons and their ledger stay (budgets, redemptions and the orders' discounts stay
exact) but belong to the tombstone, their issue keys rewritten to name it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from newretail.core.database import NO_SYNC
from newretail.marketing.models import Coupon, CouponLedgerEntry


def hand_to_tombstone(
    session: Session, member_ids: Sequence[uuid.UUID], tombstone_id: uuid.UUID
) -> int:
    """The members' coupons and their ledger rows are the tombstone's; returns the coupons."""
    moved = 0
    for member_id in member_ids:
        result: Any = session.execute(
            update(Coupon)
            .where(Coupon.member_id == member_id)
            .values(
                member_id=tombstone_id,
                issue_key=func.replace(Coupon.issue_key, str(member_id), str(tombstone_id)),
            ),
            execution_options=NO_SYNC,
        )
        moved += int(result.rowcount or 0)
    session.execute(
        update(CouponLedgerEntry)
        .where(CouponLedgerEntry.member_id.in_(list(member_ids)))
        .values(member_id=tombstone_id),
        execution_options=NO_SYNC,
    )
    return moved
