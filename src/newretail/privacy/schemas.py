"""Pydantic shapes of the privacy API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, StrictBool

from newretail.tenancy.schemas import Read, Strict


class DataRequestRead(Read):
    """One audited request about a member's data."""

    id: uuid.UUID
    member_id: uuid.UUID
    kind: str = Field(description="export, correction or erasure")
    file_format: str = Field(description="json or csv (exports; empty otherwise)")
    channel: str = Field(description="api, console or cli")
    actor: str = Field(description="Who asked")
    requested_at: datetime
    rows: dict[str, Any] = Field(
        description="Exports: rows handed over per section; corrections: the fields changed; "
        "erasures: the profiles, the tombstone and the rows removed or handed over per table"
    )
    status: str | None = Field(default=None, description="Erasures: warehouse_pending, then done")
    finished_at: datetime | None = None


class ErasureRequest(Strict):
    """An erasure is irreversible: `confirm` must be true."""

    confirm: StrictBool = Field(description="true: erase the member (irreversible)")


class ErasureRead(BaseModel):
    """What an erasure did."""

    request_id: uuid.UUID = Field(description="The audit row (member_data_request)")
    member_id: uuid.UUID
    tombstone_id: uuid.UUID = Field(
        description="The anonymous member the orders, coupons and events now belong to"
    )
    profiles: list[uuid.UUID] = Field(description="The member and the profiles merged into it")
    status: str = Field(description="warehouse_pending or done")
