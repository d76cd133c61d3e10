"""Reach's tables: webhook endpoints (an SMS gateway, an app push gateway, a store system),
their signing secrets (sealed at rest, several during a rotation) and the durable queue of
deliveries to them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, text
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
