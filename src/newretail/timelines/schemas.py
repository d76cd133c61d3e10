"""Pydantic shapes of the timelines API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field

from newretail.tenancy.schemas import Read


class TimelineEventRead(Read):
    """One event of a member's timeline, from any channel."""

    type: str
    ts: datetime = Field(description="When it happened (UTC)")
    channel: str | None
    store_id: str | None
    brand_id: str | None
    message_id: str = Field(description="The sender's message id (`outbox:<id>` for commerce)")
    amount: Decimal | None
    properties: dict[str, Any] = Field(description="The event's properties as sent")
