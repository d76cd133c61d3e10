"""Reach's API shapes: webhook endpoints (the secret shown once), rotations, deliveries and
the member inbox's messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from newretail.reach.models import DeliveryState, EndpointPurpose


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2000, description="https:// (http:// on loopback)")
    purpose: EndpointPurpose
    store_id: uuid.UUID | None = Field(
        default=None, description="Only this store's deliveries (none: every store's)"
    )


class SecretRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    prefix: str
    created_at: datetime
    expires_at: datetime | None = Field(description="Set on the old secret of a rotation")


class EndpointRead(BaseModel):
    id: uuid.UUID
    name: str
    url: str
    purpose: EndpointPurpose
    store_id: uuid.UUID | None
    store_name: str | None = Field(description="None: the endpoint receives every store's")
    enabled: bool
    disabled_reason: str | None = Field(description="receiver_gone (a 410 answer) or operator")
    disabled_at: datetime | None
    secrets: list[SecretRead]
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(BaseModel):
    """An endpoint created or rotated: `secret` is shown this once, never again."""

    endpoint: EndpointRead
    secret: str


class RotationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep_old_hours: int = Field(
        default=24, ge=0, le=168, description="Both secrets sign until then (0: drop at once)"
    )


class DeliveryRead(BaseModel):
    id: uuid.UUID
    message_id: str = Field(description="The webhook-id header, the same on every attempt")
    endpoint_id: uuid.UUID
    endpoint_name: str
    event_type: str
    payload: dict[str, Any]
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class InboxMessageRead(BaseModel):
    """A message of the member's inbox, its title and body in the reader's language
    (Accept-Language)."""

    id: uuid.UUID
    channel: str = Field(description="inbox, or store_screen: shown at the store's counter")
    campaign: str
    stage: str
    offer_code: str
    offer_name: str
    coupon_id: uuid.UUID = Field(description="The member's coupon, as the till takes it")
    store: str | None = Field(description="The store where the member was reached")
    title: str
    body: str
    sent_at: datetime
    expires_at: datetime
    read_at: datetime | None
