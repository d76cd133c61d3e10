"""Reach's tables: webhook endpoints (an SMS gateway, an app push gateway, a store system),
their signing secrets (sealed at rest, several during a rotation) and the durable queue of
deliveries to them; trigger rules on campaign stages, the organisation's reach settings, every
decision taken on a trigger event (with its one reason) and the contact counters that hold
the frequency caps and the re-entry window across processes; the offers a member's inbox and
a store's counter screen received."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime, references, utcnow


class EndpointPurpose(StrEnum):
    """What an endpoint receives: the caller of `deliveries.enqueue` chooses by purpose."""

    SMS = "sms"
    PUSH = "push"
    STORE_SYSTEM = "store_system"


class DeliveryState(StrEnum):
    PENDING = "pending"  # due at `next_attempt_at` (held while its endpoint is disabled)
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # dead letter: every attempt of the schedule failed; resend by hand
    CANCELLED = "cancelled"  # withdrawn before delivery


class WebhookEndpoint(IdMixin, TenantMixin, Base):
    """A receiver of webhooks; with a store it receives that store's deliveries only."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (Index("ix_webhook_endpoint_org_purpose", "organization_id", "purpose"),)

    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    purpose: Mapped[str] = mapped_column(String(20))
    store_id: Mapped[uuid.UUID | None] = references("store", ondelete="CASCADE", index=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    secrets: Mapped[list[WebhookSecret]] = relationship(
        back_populates="endpoint",
        order_by="WebhookSecret.created_at",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class WebhookSecret(IdMixin, TenantMixin, Base):
    """One signing secret of an endpoint, sealed (Fernet) with the server's key: the sender
    must sign with it, so it cannot be kept as a hash. `prefix` is what is shown after the
    secret was shown once; `expires_at` is set on the old secret of a rotation."""

    __tablename__ = "webhook_secret"

    endpoint_id: Mapped[uuid.UUID] = references("webhook_endpoint")
    sealed: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="secrets")


class WebhookDelivery(IdMixin, TenantMixin, Base):
    """One message to one endpoint, kept until delivered or dead: the same `message_id`
    (header `webhook-id`) on every attempt, so a receiver drops a repeat."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        # the sender's claim: pending rows by due time (partial: finished rows write no entry)
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index("ix_webhook_delivery_org_endpoint", "organization_id", "endpoint_id", "created_at"),
    )

    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint_id: Mapped[uuid.UUID] = references("webhook_endpoint", index=False)
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    endpoint: Mapped[WebhookEndpoint] = relationship(lazy="joined")


class TriggerRule(IdMixin, TenantMixin, Base):
    """When a member's event at a store reaches them with a stage's offer on a channel.

    The stage is named by its campaign and position (a replanned draft keeps its rules);
    empty lists mean "any": any event type, any store. Caps count per member and campaign.
    """

    __tablename__ = "reach_trigger_rule"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    stage_position: Mapped[int] = mapped_column(Integer)
    event_types: Mapped[list[str]] = mapped_column(JSON)
    # [{"property": "zone", "op": "equals", "value": "beauty"}, {"op": "in", "values": [...]}]
    property_filters: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    store_ids: Mapped[list[str]] = mapped_column(JSON)
    cities: Mapped[list[str]] = mapped_column(JSON)
    districts: Mapped[list[str]] = mapped_column(JSON)
    channel: Mapped[str] = mapped_column(String(20))
    offer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("offer.id", ondelete="RESTRICT"))
    # the SKUs the offer needs in stock at the store (none: no stock check)
    sku_ids: Mapped[list[str]] = mapped_column(JSON)
    reentry_minutes: Mapped[int] = mapped_column(Integer, default=5)
    daily_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    weekly_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReachSettings(IdMixin, TenantMixin, Base):
    """The organisation's quiet hours (local "HH:MM", start inclusive, end exclusive, may
    wrap midnight) and its global cap of contacts per member per local day."""

    __tablename__ = "reach_settings"
    __table_args__ = (UniqueConstraint("organization_id"),)

    quiet_start: Mapped[str | None] = mapped_column(String(5), nullable=True)
    quiet_end: Mapped[str | None] = mapped_column(String(5), nullable=True)
    global_daily_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReachDecision(IdMixin, TenantMixin, Base):
    """One decision on one trigger event for one rule, with exactly one reason
    (`reach.decide.Reason`); treated decisions name the coupon issued."""

    __tablename__ = "reach_decision"
    __table_args__ = (
        # an event redelivered (NATS, a replayed spool) is decided once per rule
        UniqueConstraint("organization_id", "rule_id", "event_id"),
        Index("ix_reach_decision_campaign", "organization_id", "campaign_id", "decided_at"),
        Index("ix_reach_decision_member", "organization_id", "member_id", "campaign_id"),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaign.id", ondelete="CASCADE")
    )
    stage_position: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("reach_trigger_rule.id", ondelete="CASCADE")
    )
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(100))
    store_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    channel: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # the zone the local day, caps and hours were read in (the store's, else the organisation's)
    time_zone: Mapped[str] = mapped_column(String(64))
    local_day: Mapped[date] = mapped_column(Date)
    coupon_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class ReachContactCounter(IdMixin, TenantMixin, Base):
    """Contacts of a member (treated or held out) in one scope (a campaign id, or `all`) and
    period (a local day `2026-11-11`, an ISO week `2026-W46`, or `entry` for the last entry),
    moved only by guarded upserts (`reach.contact_caps`)."""

    __tablename__ = "reach_contact_counter"
    __table_args__ = (UniqueConstraint("organization_id", "member_id", "scope", "period"),)

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scope: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(12))
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InboxMessage(IdMixin, TenantMixin, Base):
    """A treated decision's offer as the member (inbox) or the store's counter screen
    (store_screen) receives it: the facts of the offer as delivered — names as they were, the
    coupon and its expiry — and no text; the text is rendered when read, in the reader's
    language. `created_at` is the decision's time; one message per decision."""

    __tablename__ = "reach_inbox_message"
    __table_args__ = (
        UniqueConstraint("decision_id"),
        Index("ix_reach_inbox_message_member", "organization_id", "member_id", "created_at"),
        # the counter screen's feed: a store's messages by time
        Index("ix_reach_inbox_message_store", "organization_id", "store_id", "created_at"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    decision_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("reach_decision.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(20))
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("campaign.id", ondelete="CASCADE")
    )
    campaign_name: Mapped[str] = mapped_column(String(200))
    stage_position: Mapped[int] = mapped_column(Integer)
    stage_name: Mapped[str] = mapped_column(String(200))
    coupon_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    offer_code: Mapped[str] = mapped_column(String(64))
    offer_name: Mapped[str] = mapped_column(String(200))
    store_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # the zone its times are told in (the decision's: the store's, else the organisation's)
    time_zone: Mapped[str] = mapped_column(String(64))
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
