"""Request and response models of the events API (the collector documents its body with them;
it parses the body itself, event by event, so that one bad event does not refuse the rest)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
