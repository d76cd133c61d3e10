"""Event tables of the operational store: the outbox, custom event types, track-name
mappings and the failed events kept for replay."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Integer, Numeric, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime, references


class OutboxMessage(IdMixin, TenantMixin, Base):
    __tablename__ = "outbox_message"
    # read by the relay (unpublished, oldest first), never by organisation alone: no index
    # entry per fact for it
    organization_index = False

    event_type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    brand_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    store_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    channel: Mapped[str | None] = mapped_column(String(20), nullable=True)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)


class CustomEventType(IdMixin, TenantMixin, Base):
    """An organisation's own event type with the JSON Schema of its properties."""

    __tablename__ = "custom_event_type"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500), default="")
    schema: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class EventNameMapping(IdMixin, TenantMixin, Base):
    """How a source's Segment track names map to event types (default: snake_case)."""

    __tablename__ = "event_name_mapping"
    __table_args__ = (UniqueConstraint("organization_id", "source_id", "event_name"),)

    source_id: Mapped[uuid.UUID] = references("source")
    event_name: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(64))


class FailedEventStatus(StrEnum):
    OPEN = "open"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class FailedEvent(IdMixin, TenantMixin, Base):
    """An event the collector refused, kept with the reason so it can be fixed and replayed."""

    __tablename__ = "failed_event"
    __table_args__ = (Index("ix_failed_event_org_status", "organization_id", "status"),)

    source_id: Mapped[uuid.UUID | None] = references("source", ondelete="SET NULL", index=False)
    api: Mapped[str] = mapped_column(String(20))  # native, segment, import
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    message_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    event_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    field: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=FailedEventStatus.OPEN)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class EventRetention(IdMixin, TenantMixin, Base):
    """How long the organisation keeps its events: a default, overrides per event type, and
    the failed events' own period (null: the server's default)."""

    __tablename__ = "event_retention"
    __table_args__ = (UniqueConstraint("organization_id"),)
    organization_index = False  # the unique constraint starts with it

    default_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    type_days: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    failed_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class EventRetentionRun(IdMixin, TenantMixin, Base):
    """One application of the retention: what it deleted, counted per event type."""

    __tablename__ = "event_retention_run"
    __table_args__ = (Index("ix_event_retention_run_org_started", "organization_id", "started_at"),)
    organization_index = False

    trigger: Mapped[str] = mapped_column(String(10))  # job, manual
    actor: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime] = mapped_column(UtcDateTime)
    events_deleted: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    failed_deleted: Mapped[int] = mapped_column(Integer, default=0)
