"""Request and response models of the events API (the collector documents its body with them;
it parses the body itself, event by event, so that one bad event does not refuse the rest)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from newretail.core.pagination import Page
from newretail.events.taxonomy import TYPE_NAME_PATTERN


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventIn(Strict):
    """One touchpoint (native API)."""

    message_id: str = Field(min_length=1, max_length=100, description="Client id; stored once")
    type: str = Field(pattern=TYPE_NAME_PATTERN, description="Built-in or custom type")
    ts: datetime = Field(description="When it happened, ISO 8601 with an offset")
    sent_at: datetime | None = Field(
        default=None, description="When the device sent it; corrects the device clock's skew"
    )
    brand_id: uuid.UUID | None = None
    store_id: uuid.UUID | None = Field(default=None, description="Default: the source's store")
    channel: str | None = Field(default=None, description="Default: the store's channel type")
    identifiers: dict[str, str] = Field(
        default_factory=dict,
        description="type → raw value: phone, email, account_id, member_card, device_id, "
        "anonymous_id, wechat_unionid, payment_id or a custom type; hashed for matching",
    )
    amount: Decimal | None = Field(default=None, description="Required for purchase")
    properties: dict[str, Any] = Field(default_factory=dict)


class EventBatch(Strict):
    events: list[EventIn] = Field(description="At most 500 events (setting max_batch_events)")


class FailedItem(BaseModel):
    index: int
    field: str
    reason: str


class IngestResult(BaseModel):
    accepted: int = Field(description="Stored now")
    duplicates: int = Field(description="Already stored (same message id in the dedupe window)")
    failed: list[FailedItem] = Field(description="Refused, kept as failed events for replay")


class SegmentResult(IngestResult):
    success: bool = True


class FailedEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    source_id: uuid.UUID | None
    api: str
    received_at: datetime
    message_id: str | None
    event_type: str | None
    field: str
    reason: str
    payload: Any
    status: str
    resolved_at: datetime | None


class FailedEventPage(Page[FailedEventRead]):
    pass


class ReplayIn(Strict):
    payload: dict[str, Any] | None = Field(
        default=None, description="The corrected event; default: the stored payload as is"
    )


class ReplayAllIn(Strict):
    source_id: uuid.UUID | None = None
    event_type: str | None = Field(default=None, max_length=64)


class ReplayResult(BaseModel):
    replayed: int = Field(description="Stored (or found already stored) and closed")
    still_failing: int
    failed: list[FailedItem] = Field(description="Why the replayed events still fail")


class EventTypeIn(Strict):
    name: str = Field(pattern=TYPE_NAME_PATTERN)
    description: str = Field(default="", max_length=500)
    schema_: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object"},
        alias="schema",
        description="JSON Schema of the properties (type, properties, required, enum, "
        "minimum, maximum, minLength, maxLength, items, additionalProperties)",
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class EventTypeRead(BaseModel):
    name: str
    description: str
    built_in: bool
    schema_: dict[str, Any] = Field(alias="schema")

    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class MappingIn(Strict):
    mappings: dict[str, str] = Field(
        description='Segment track name → event type, e.g. {"Order Completed": "purchase"}'
    )


class MappingRead(BaseModel):
    source_id: uuid.UUID
    mappings: dict[str, str]


# ---------------------------------------------------------------- retention
MAX_RETENTION_DAYS = 3650
RetentionDays = Annotated[int, Field(ge=1, le=MAX_RETENTION_DAYS)]
EventTypeName = Annotated[str, StringConstraints(pattern=TYPE_NAME_PATTERN)]


class RetentionUpdate(Strict):
    """How long the organisation keeps its events (days of 1 … 3650; null: kept)."""

    default_days: RetentionDays | None = Field(
        default=None, description="Events of every type not overridden; null keeps them"
    )
    type_days: Annotated[dict[EventTypeName, RetentionDays], Field(max_length=200)] = Field(
        default_factory=dict, description="Days per event type, overriding the default"
    )
    failed_days: RetentionDays | None = Field(
        default=None,
        description="Failed (rejected) events; null: the server's default "
        "(NEWRETAIL_FAILED_EVENT_RETENTION_DAYS)",
    )


class RetentionRunRead(BaseModel):
    """One application of the retention and what it deleted."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    trigger: str = Field(description="job (the server's schedule) or manual")
    actor: str
    started_at: datetime
    finished_at: datetime
    events_deleted: dict[str, int] = Field(description="Warehouse events deleted per type")
    failed_deleted: int = Field(description="Failed events deleted")


class RetentionRead(BaseModel):
    default_days: int | None
    type_days: dict[str, int]
    failed_days: int | None = Field(description="As set; null: the server's default")
    failed_days_applied: int = Field(description="The failed events' period in force")
    runs: list[RetentionRunRead] = Field(description="The latest runs, newest first")
