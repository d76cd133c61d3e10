"""Pydantic shapes of the privacy API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from newretail.tenancy.schemas import Read


class DataRequestRead(Read):
    """One audited request about a member's data."""

    id: uuid.UUID
    member_id: uuid.UUID
    kind: str = Field(description="export")
    file_format: str = Field(description="json or csv")
    channel: str = Field(description="api, console or cli")
    actor: str = Field(description="Who asked")
    requested_at: datetime
    rows: dict[str, int] = Field(description="Rows handed over per section")
