"""The audit of requests about a member's personal information: who asked, when, for which
member, what (an export as JSON or CSV) and through which door (API, console, CLI)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime


class RequestKind(StrEnum):
    EXPORT = "export"
    CORRECTION = "correction"
    ERASURE = "erasure"


class ErasureStatus(StrEnum):
    """An erasure commits in the operational store first; its warehouse step follows and is
    run again (it is idempotent) until it is done."""

    WAREHOUSE_PENDING = "warehouse_pending"
    DONE = "done"


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


class RequestChannel(StrEnum):
    API = "api"
    CONSOLE = "console"
    CLI = "cli"


class MemberDataRequest(IdMixin, TenantMixin, Base):
    """One request about a member's data. `member_id` is no foreign key: the audit row outlives
    the member (an erasure keeps it). `rows` says how many rows of each section an export
    handed over, which fields a correction changed, or what an erasure removed (its profiles,
    its tombstone, rows per table)."""

    __tablename__ = "member_data_request"
    organization_index = False
    __table_args__ = (
        Index("ix_member_data_request_member", "organization_id", "member_id", "requested_at"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(20))
    file_format: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rows: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # erasures: the warehouse step's state (ErasureStatus) and when it finished
    status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
