"""Marketing's tables: offers, campaigns and their stages (with an audit of every change),
budgets, coupons, every coupon change, and the conflicts an offline till's late redemption
leaves for review."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime


def index_where_set(name: str, *columns: str, unique: bool = True) -> Index:
    """An index of the rows whose last column is set: partial on PostgreSQL and SQLite, so
    the rows without it write no entry."""
    where = text(f"{columns[-1]} IS NOT NULL")
    return Index(name, *columns, unique=unique, postgresql_where=where, sqlite_where=where)


class CouponState(StrEnum):
    ISSUED = "issued"  # held by a member (or a code), usable
    RESERVED = "reserved"  # held by one till or checkout until `reserved_until`
    REDEEMED = "redeemed"  # used by one order
    EXPIRED = "expired"  # its validity ended unused
    VOIDED = "voided"  # withdrawn (erasure, a cancelled campaign)


class CouponChange(StrEnum):
    """The kinds of rows in the coupon ledger (and of the facts marketing reports)."""

    ISSUED = "issued"
    RESERVED = "reserved"
    RELEASED = "released"
    REDEEMED = "redeemed"
    RESTORED = "restored"  # a refund gave the coupon back
    EXPIRED = "expired"
    VOIDED = "voided"
    MOVED = "moved"  # to the surviving member of a merge


class Budget(IdMixin, TenantMixin, Base):
    """Limits of one campaign stage (or of that stage at one store), in coupons and in money.

    The counters only move through guarded UPDATEs (`marketing.budgets`): a limit is checked
    in the statement that spends it, never read first.
    """

    __tablename__ = "marketing_budget"
    __table_args__ = (
        UniqueConstraint("organization_id", "name"),
        Index("ix_marketing_budget_org_stage", "organization_id", "stage_key"),
        CheckConstraint("issue_limit IS NULL OR issued <= issue_limit", name="issued_within"),
        CheckConstraint("redeem_limit IS NULL OR redeemed <= redeem_limit", name="redeemed_within"),
        CheckConstraint(
            "amount_limit IS NULL OR discounted <= amount_limit", name="discounted_within"
        ),
        CheckConstraint("issued >= 0 AND redeemed >= 0 AND discounted >= 0", name="not_negative"),
    )

    name: Mapped[str] = mapped_column(String(200))
    # the campaign stage it limits; a budget with a store limits that stage at that store only
    stage_key: Mapped[str] = mapped_column(String(200))
    store_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("store.id", ondelete="RESTRICT"), nullable=True
    )
    issue_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    redeem_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    amount_limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    redeemed: Mapped[int] = mapped_column(Integer, default=0)
    discounted: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))


class Coupon(IdMixin, TenantMixin, Base):
    """One coupon: an offer a member (or the bearer of a code) may use once.

    `issue_key` makes issuing idempotent (a campaign stage and a member issue one coupon however
    often the bulk issue runs); `code_hash` is the SHA-256 of a bearer code, never the code.
    """

    __tablename__ = "coupon"
    # the organisation's coupons are found by the issue key's unique index, which starts with it
    organization_index = False
    __table_args__ = (
        UniqueConstraint("organization_id", "issue_key"),
        # partial: most coupons have no bearer code and no slot, and a bulk issue of a million
        # coupons should not write a million index entries of NULLs
        index_where_set("uq_coupon_organization_id_code_hash", "organization_id", "code_hash"),
        # an offer's per-member limit: the n-th coupon of the offer a member holds takes slot n
        index_where_set(
            "uq_coupon_member_slot", "organization_id", "offer_id", "member_id", "member_slot"
        ),
        Index("ix_coupon_org_member_state", "organization_id", "member_id", "state"),
        # the coupons an order used (its page, a refund giving them back): written at the
        # redemption only, never by an issue
        index_where_set("ix_coupon_order_ref", "organization_id", "order_ref", unique=False),
        # what the ledger's foreign key refers to: a ledger row's coupon is of its organisation
        Index("uq_coupon_id_organization", "id", "organization_id", unique=True),
    )

    offer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # the campaign stage whose budgets it spends (None: no budget)
    stage_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    issue_key: Mapped[str] = mapped_column(String(200))
    code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default=CouponState.ISSUED)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime)
    reservation: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reserved_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # the order that used it: a device's order id (offline tills) or the order's own id
    order_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    store_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    discount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # which of the member's coupons of an offer with a per-member limit this is (1 … limit);
    # None when the offer has no limit or the coupon has no member
    member_slot: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CouponLedgerEntry(IdMixin, TenantMixin, Base):
    """Every change of a coupon, in order: what happened, where, for which order, by whom."""

    __tablename__ = "coupon_ledger"
    __table_args__ = (
        Index("ix_coupon_ledger_coupon", "coupon_id", "created_at"),
        # one foreign key for both columns: the coupon, of the same organisation (deleted with
        # it, and so with the organisation): one check per row written instead of two
        ForeignKeyConstraint(
            ["coupon_id", "organization_id"],
            ["coupon.id", "coupon.organization_id"],
            ondelete="CASCADE",
        ),
    )

    # read by coupon (a coupon's history, a stage's burn-down through its coupons), never by
    # organisation alone: no index of its own, and its organisation is checked through the
    # coupon's (the foreign key above)
    organization_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    coupon_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    change: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    order_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    store_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    discount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    actor: Mapped[str] = mapped_column(String(254), default="")
    # why, where the change alone does not say (a coupon voided at a merge: `member_limit`)
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)


class ClaimCode(IdMixin, TenantMixin, Base):
    """A public code (DOUBLE11) a member types to claim a campaign stage's offer: one coupon
    per member and stage, at most `claim_limit` claims in all (a guarded counter)."""

    __tablename__ = "coupon_claim_code"
    __table_args__ = (
        UniqueConstraint("organization_id", "code"),
        CheckConstraint(
            "claimed >= 0 AND (claim_limit IS NULL OR claimed <= claim_limit)",
            name="claimed_within",
        ),
    )

    code: Mapped[str] = mapped_column(String(64))  # upper case, as typed without spaces
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    stage_key: Mapped[str] = mapped_column(String(200))
    offer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("offer.id", ondelete="CASCADE"))
    claim_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    claimed: Mapped[int] = mapped_column(Integer, default=0)


class RedemptionConflict(IdMixin, TenantMixin, Base):
    """A redemption refused after the sale happened (an offline till sent it late and the coupon
    had been used elsewhere meanwhile): both orders, left for review, never doubled or dropped."""

    __tablename__ = "coupon_redemption_conflict"
    __table_args__ = (UniqueConstraint("organization_id", "coupon_id", "order_ref"),)

    coupon_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("coupon.id", ondelete="CASCADE"), index=True
    )
    order_ref: Mapped[str] = mapped_column(String(200))
    store_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    discount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    sold_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_by_order_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolution: Mapped[str] = mapped_column(String(500), default="")


class Offer(IdMixin, TenantMixin, Base):
    """An offer template as the marketer saved it: `spec` is the template in the API's shape
    (`marketing.offer_specs.OfferSpec`), priced by `marketing.engine`."""

    __tablename__ = "offer"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    brand_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("brand.id", ondelete="RESTRICT"), nullable=True
    )
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CampaignState(StrEnum):
    """Stored states; `scheduled` reads as running between its first and last stage
    (`marketing.campaigns.state_at`)."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"  # approved by an administrator
    RUNNING = "running"  # never stored: a scheduled campaign inside its dates
    PAUSED = "paused"
    ENDED = "ended"


class Campaign(IdMixin, TenantMixin, Base):
    """A plan of stages (pre-sale, main day, offline extension ...), approved before it runs."""

    __tablename__ = "campaign"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    brand_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("brand.id", ondelete="RESTRICT"), nullable=True
    )
    description: Mapped[str] = mapped_column(String(2000), default="")
    state: Mapped[str] = mapped_column(String(20), default=CampaignState.DRAFT)
    holdout_percent: Mapped[int] = mapped_column(Integer, default=0)
    approved_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    stages: Mapped[list[CampaignStage]] = relationship(
        lazy="selectin", order_by="CampaignStage.position", cascade="all, delete-orphan"
    )


class CampaignStage(IdMixin, TenantMixin, Base):
    """One stage: its local days, audiences, offers, channels and budget (`stage_key` names
    its budgets and coupons)."""

    __tablename__ = "campaign_stage"
    __table_args__ = (UniqueConstraint("campaign_id", "position"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    channels: Mapped[dict[str, Any]] = mapped_column(JSON)
    audience_ids: Mapped[list[str]] = mapped_column(JSON)
    offer_ids: Mapped[list[str]] = mapped_column(JSON)

    @property
    def stage_key(self) -> str:
        return f"{self.campaign_id}:{self.position}"


class CampaignAudit(IdMixin, TenantMixin, Base):
    """Every change of a campaign: who, when, what (and the plan as it was after it)."""

    __tablename__ = "campaign_audit"
    __table_args__ = (Index("ix_campaign_audit_campaign", "campaign_id", "created_at"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaign.id", ondelete="CASCADE")
    )
    change: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(254))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
