"""Member tables: consent, the points ledger, tiers and spend (the profile graph: profile_graph)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime, references
from newretail.members.profile_graph import IdentifierType as IdentifierType
from newretail.members.profile_graph import Member as Member
from newretail.members.profile_graph import MemberIdentifier as MemberIdentifier
from newretail.members.profile_graph import MemberStatus as MemberStatus


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class ConsentPurpose(StrEnum):
    MARKETING = "marketing"


class ConsentChannel(StrEnum):
    SMS = "sms"
    PUSH = "push"
    WECHAT = "wechat"
    EMAIL = "email"


class ConsentSource(StrEnum):
    CONSOLE = "console"
    API = "api"
    POS = "pos"
    IMPORT = "import"


class ExpiryMode(StrEnum):
    DAYS = "days"  # N days after earning
    YEAR_END = "year_end"  # the end of the calendar year of earning


class LotState(StrEnum):
    LOCKED = "locked"  # within the return window
    AVAILABLE = "available"
    CLOSED = "closed"  # used up, reversed or expired (remaining is 0)


class LedgerKind(StrEnum):
    EARN = "earn"
    UNLOCK = "unlock"
    REDEEM = "redeem"
    REVERSE = "reverse"
    EXPIRE = "expire"
    ADJUST = "adjust"


class MemberSettings(IdMixin, TenantMixin, Base):
    """Per-organisation member configuration and the identifier hashing secret."""

    __tablename__ = "member_settings"
    __table_args__ = (UniqueConstraint("organization_id"),)

    identifier_secret: Mapped[bytes] = mapped_column(LargeBinary(64))
    return_window_days: Mapped[int] = mapped_column(Integer, default=7)
    expiry_mode: Mapped[str] = mapped_column(String(20), default=ExpiryMode.YEAR_END)
    expiry_days: Mapped[int] = mapped_column(Integer, default=365)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class MemberTier(IdMixin, TenantMixin, Base):
    """A tier reached by rolling-12-month spend of at least `min_spend`."""

    __tablename__ = "member_tier"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    min_spend: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class MemberConsent(IdMixin, TenantMixin, Base):
    """The current consent of a member for one purpose on one channel."""

    __tablename__ = "member_consent"
    __table_args__ = (UniqueConstraint("organization_id", "member_id", "purpose", "channel"),)

    member_id: Mapped[uuid.UUID] = references("member")
    purpose: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConsentChange(IdMixin, TenantMixin, Base):
    """One change of consent: when, from where and by whom."""

    __tablename__ = "consent_change"

    member_id: Mapped[uuid.UUID] = references("member")
    purpose: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(254))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EarnRule(IdMixin, TenantMixin, Base):
    """How a brand's paid orders earn points."""

    __tablename__ = "earn_rule"
    __table_args__ = (UniqueConstraint("organization_id", "brand_id"),)

    brand_id: Mapped[uuid.UUID] = references("brand")
    points_per_unit: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    # {"<product id>": "2"}, {"<category>": "1.5"}; a product multiplier wins over its category's
    product_multipliers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    category_multipliers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class PointsAward(IdMixin, TenantMixin, Base):
    """The points one paid order earned, per line (unique per order: awarded once)."""

    __tablename__ = "points_award"
    __table_args__ = (UniqueConstraint("organization_id", "order_id"),)

    member_id: Mapped[uuid.UUID] = references("member")
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    brand_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    points: Mapped[int] = mapped_column(Integer)
    # [{"line_id", "product_id", "category", "amount", "points", "reversed"}]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    paid_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PointsReversal(IdMixin, TenantMixin, Base):
    """The points taken back for one refund (unique per refund: reversed once)."""

    __tablename__ = "points_reversal"
    __table_args__ = (UniqueConstraint("organization_id", "refund_id"),)

    member_id: Mapped[uuid.UUID] = references("member")
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    refund_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    points: Mapped[int] = mapped_column(Integer)
    # points owed but no longer held (already redeemed or expired)
    shortfall: Mapped[int] = mapped_column(Integer, default=0)


class PointsLot(IdMixin, TenantMixin, Base):
    """Points earned together, spent and expired together (FIFO by expiry)."""

    __tablename__ = "points_lot"
    __table_args__ = (Index("ix_points_lot_member_state", "member_id", "state"),)

    member_id: Mapped[uuid.UUID] = references("member")
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    points: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), index=True)
    earned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    unlock_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class PointsLedgerEntry(IdMixin, TenantMixin, Base):
    """Every change of a member's points, with the balances after it."""

    __tablename__ = "points_ledger_entry"
    __table_args__ = (UniqueConstraint("organization_id", "idempotency_key"),)

    member_id: Mapped[uuid.UUID] = references("member")
    kind: Mapped[str] = mapped_column(String(10))
    available_delta: Mapped[int] = mapped_column(Integer)
    locked_delta: Mapped[int] = mapped_column(Integer)
    available_after: Mapped[int] = mapped_column(Integer)
    locked_after: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    refund_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    actor: Mapped[str] = mapped_column(String(254))


class MemberSpend(IdMixin, TenantMixin, Base):
    """Spend of a member for tiers: plus per paid order, minus per refund (once per reference)."""

    __tablename__ = "member_spend"
    __table_args__ = (UniqueConstraint("organization_id", "reference"),)

    member_id: Mapped[uuid.UUID] = references("member")
    reference: Mapped[str] = mapped_column(String(100))  # order:<id> or refund:<id>
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
