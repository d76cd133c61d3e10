"""Operational-store tables of audiences: definitions, size history, exports (the minimum
crowd size, the privacy floor of every count, is the organisation's: tenancy.crowd_floor)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime, references


class Audience(IdMixin, TenantMixin, Base):
    """A saved rule tree; its members live in the warehouse under `version`."""

    __tablename__ = "audience"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    template: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # refreshed every N hours by the server's job; None: on demand only
    refresh_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    refreshed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # the reference date of the stored members (windows end on it)
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_refresh_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AudienceSize(IdMixin, TenantMixin, Base):
    """One refresh of an audience: its size and how many joined and left."""

    __tablename__ = "audience_size"

    audience_id: Mapped[uuid.UUID] = references("audience")
    version: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    joined: Mapped[int] = mapped_column(Integer)
    left: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    refreshed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    trigger: Mapped[str] = mapped_column(String(20))  # manual, schedule


class AudienceExport(IdMixin, TenantMixin, Base):
    """The audit log of exports: who exported which audience, how, and how many."""

    __tablename__ = "audience_export"

    audience_id: Mapped[uuid.UUID | None] = references("audience", ondelete="SET NULL")
    audience_name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(254))
    file_format: Mapped[str] = mapped_column(String(10))
    identifier_types: Mapped[list[str]] = mapped_column(JSON)
    consent_channel: Mapped[str | None] = mapped_column(String(20), nullable=True)
    members: Mapped[int] = mapped_column(Integer)
    exported_members: Mapped[int] = mapped_column(Integer)
    excluded_members: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    exported_at: Mapped[datetime] = mapped_column(UtcDateTime)
