"""The OneID profile graph: members and their hashed identifiers.

These two tables are the graph identity/ maintains (profiles made, identifiers linked, members
merged into a canonical one); everything a member accumulates — points, tiers, consent, spend —
lives in members.models and moves at a merge only through members' MembersMerged handler.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Integer, String, UniqueConstraint, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime, references


class IdentifierType(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    MEMBER_CARD = "member_card"
    ACCOUNT_ID = "account_id"
    DEVICE_ID = "device_id"
    ANONYMOUS_ID = "anonymous_id"
    WECHAT_UNIONID = "wechat_unionid"
    PAYMENT_ID = "payment_id"


# what a person gives of themselves, as against the ids a device, a platform or a payment
# assigns: each has a normal form (members.identifiers.normalise), and a profile holding one
# is known, not anonymous (identity/)
PERSONAL_TYPES = frozenset(
    {
        IdentifierType.PHONE,
        IdentifierType.EMAIL,
        IdentifierType.MEMBER_CARD,
        IdentifierType.ACCOUNT_ID,
    }
)


class MemberStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"


class Member(IdMixin, TenantMixin, Base):
    """One person across every channel; raw phone and e-mail live only in the profile."""

    __tablename__ = "member"

    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    gender: Mapped[str | None] = mapped_column(String(10), nullable=True)
    birth_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    city: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=MemberStatus.ACTIVE)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime)
    join_store_id: Mapped[uuid.UUID | None] = references("store", ondelete="SET NULL", index=False)
    join_channel: Mapped[str | None] = mapped_column(String(20), nullable=True)
    join_brand_id: Mapped[uuid.UUID | None] = references("brand", ondelete="SET NULL", index=False)
    tier_id: Mapped[uuid.UUID | None] = references("member_tier", ondelete="SET NULL")
    tier_review_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    points_available: Mapped[int] = mapped_column(Integer, default=0)
    points_locked: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # OneID (identity/): a profile made for unknown identifiers is anonymous until it holds a
    # personal identifier (PERSONAL_TYPES); a merged member points at the member it was merged
    # into and at the canonical (surviving) member of its group
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    merged_into_id: Mapped[uuid.UUID | None] = references("member", ondelete="SET NULL")
    canonical_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)


class MemberIdentifier(IdMixin, TenantMixin, Base):
    """A lookup key: HMAC-SHA256 of the normalised value with the organisation's secret."""

    __tablename__ = "member_identifier"
    __table_args__ = (UniqueConstraint("organization_id", "identifier_type", "value_hash"),)

    member_id: Mapped[uuid.UUID] = references("member")
    identifier_type: Mapped[str] = mapped_column(String(20))
    value_hash: Mapped[str] = mapped_column(String(64))
