"""Operational-store table of the Data Bank: per-organisation settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime


class DatabankSettings(IdMixin, TenantMixin, Base):
    """The organisation's event→stage mapping and windows (a DatabankConfig as JSON)."""

    __tablename__ = "databank_settings"
    __table_args__ = (UniqueConstraint("organization_id"),)

    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
