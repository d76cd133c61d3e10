"""Members' part of a member's erasure (privacy/erasure.py owns the use case and its
transaction): the tombstone that keeps the erased member's orders and events countable, and
the removal of the profile, its identifiers, consent, points and tier spend.

A tombstone is a member row of its own (a new id, `status` `erased`, anonymous, no name,
contact or tier); it is hidden from member lists and lookups, and nothing can find it by an
identifier, since it holds none. An erased identifier that comes back later therefore starts a
new member.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from newretail.core.database import NO_SYNC, utcnow
from newretail.members.models import (
    ConsentChange,
    Member,
    MemberConsent,
    MemberIdentifier,
    MemberSpend,
    PointsAward,
    PointsLedgerEntry,
    PointsLot,
    PointsReversal,
)

TOMBSTONE_STATUS = "erased"

# every members table that holds rows of a member, children first
MEMBER_ROWS: tuple[Any, ...] = (
    PointsLedgerEntry,
    PointsAward,
    PointsReversal,
    PointsLot,
    MemberSpend,
    ConsentChange,
    MemberConsent,
    MemberIdentifier,
)


def profile_ids(session: Session, member_id: uuid.UUID) -> list[uuid.UUID]:
    """The member and every profile merged into it (OneID), the member first."""
    merged = session.scalars(
        select(Member.id)
        .where(
            or_(Member.canonical_id == member_id, Member.merged_into_id == member_id),
            Member.id != member_id,
        )
        .order_by(Member.id)
    )
    return [member_id, *merged]


def is_tombstone(member: Member) -> bool:
    """Whether the member row is an erased member's tombstone."""
    return member.status == TOMBSTONE_STATUS


def make_tombstone(session: Session, member: Member) -> Member:
    """A new anonymous member standing for `member` once erased: it keeps what counts
    (when, where and through which channel and brand it joined), nothing personal."""
    tombstone = Member(
        id=uuid.uuid4(),
        organization_id=member.organization_id,
        status=TOMBSTONE_STATUS,
        joined_at=member.joined_at,
        join_store_id=member.join_store_id,
        join_channel=member.join_channel,
        join_brand_id=member.join_brand_id,
        points_available=0,
        points_locked=0,
        anonymous=True,
        updated_at=utcnow(),
    )
    session.add(tombstone)
    session.flush()
    return tombstone


def erase_members(session: Session, ids: Sequence[uuid.UUID]) -> dict[str, int]:
    """Delete the profiles `ids` with their identifiers, consent and its history, points and
    tier spend; returns the rows deleted per table."""
    wanted = list(ids)
    deleted: dict[str, int] = {}
    for model in MEMBER_ROWS:
        result: Any = session.execute(
            delete(model).where(model.member_id.in_(wanted)), execution_options=NO_SYNC
        )
        deleted[model.__tablename__] = int(result.rowcount or 0)
    # the profiles point at each other (merged into): unlink them before deleting
    session.execute(
        update(Member).where(Member.id.in_(wanted)).values(merged_into_id=None, canonical_id=None),
        execution_options=NO_SYNC,
    )
    result = session.execute(delete(Member).where(Member.id.in_(wanted)), execution_options=NO_SYNC)
    deleted["member"] = int(result.rowcount or 0)
    for held in list(session.identity_map.values()):  # the session must not write them back
        if isinstance(held, Member) and held.id in wanted:
            session.expunge(held)
    return deleted
