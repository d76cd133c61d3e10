"""Tenancy tables: organisations, brands, stores, sources, users, memberships, keys, sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime, references
from newretail.core.localtime import DEFAULT_ZONE


class ChannelType(StrEnum):
    """Where a store sells or touches consumers."""

    ONLINE = "online"
    STORE = "store"
    COUNTER = "counter"
    POPUP = "popup"
    CLOUD_SHELF = "cloud_shelf"
    VENDING = "vending"
    WAREHOUSE = "warehouse"


# The stores a shopper walks into or up to — a shop, a department-store counter, a pop-up, a
# cloud shelf, a vending machine: they have a place and a counter (or screen) there. Online
# and the warehouse have neither.
IN_PERSON_CHANNELS = frozenset(
    {
        ChannelType.STORE,
        ChannelType.COUNTER,
        ChannelType.POPUP,
        ChannelType.CLOUD_SHELF,
        ChannelType.VENDING,
    }
)


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MARKETER = "marketer"
    STORE_MANAGER = "store_manager"
    ANALYST = "analyst"


class StoreStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class Organization(IdMixin, Base):
    __tablename__ = "organization"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    default_locale: Mapped[str] = mapped_column(String(10), default="en")
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_ZONE)


class Brand(IdMixin, TenantMixin, Base):
    __tablename__ = "brand"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Store(IdMixin, TenantMixin, Base):
    __tablename__ = "store"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    channel_type: Mapped[str] = mapped_column(String(20), index=True)
    brand_id: Mapped[uuid.UUID | None] = references("brand", ondelete="SET NULL", index=False)
    status: Mapped[str] = mapped_column(String(10), default=StoreStatus.ACTIVE)
    city: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    district: Mapped[str | None] = mapped_column(String(100), nullable=True)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    # {"mon": [["09:00", "21:00"]], ...}; an absent day is closed
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_ZONE)
    category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Source(IdMixin, TenantMixin, Base):
    """A credentialed sender of events (a device, a shop backend)."""

    __tablename__ = "source"

    name: Mapped[str] = mapped_column(String(200))
    store_id: Mapped[uuid.UUID | None] = references("store", index=False)
    write_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    write_key_prefix: Mapped[str] = mapped_column(String(32))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class UserAccount(IdMixin, Base):
    """A console login. It reaches organisations only through memberships."""

    __tablename__ = "user_account"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


membership_store = Table(
    "membership_store",
    Base.metadata,
    Column("membership_id", ForeignKey("membership.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", ForeignKey("store.id", ondelete="CASCADE"), primary_key=True),
)

api_key_store = Table(
    "api_key_store",
    Base.metadata,
    Column("api_key_id", ForeignKey("api_key.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", ForeignKey("store.id", ondelete="CASCADE"), primary_key=True),
)


class Membership(IdMixin, TenantMixin, Base):
    """A user's role in one organisation (store managers also have a store scope)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = references("user_account")
    role: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    user: Mapped[UserAccount] = relationship(lazy="joined")
    stores: Mapped[list[Store]] = relationship(secondary=membership_store, lazy="selectin")


class ApiKey(IdMixin, TenantMixin, Base):
    __tablename__ = "api_key"

    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    stores: Mapped[list[Store]] = relationship(secondary=api_key_store, lazy="selectin")


class UserSession(IdMixin, Base):
    """A console login session; the cookie holds a token whose hash is stored here."""

    __tablename__ = "user_session"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = references("user_account")
    organization_id: Mapped[uuid.UUID | None] = references(
        "organization", ondelete="SET NULL", index=False
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


DEFAULT_MIN_CROWD_SIZE = 50


class CrowdFloor(IdMixin, TenantMixin, Base):
    """The organisation's minimum crowd size: the privacy floor of every count of people shown
    (audiences, the Data Bank, the operations centre). The table keeps its first name."""

    __tablename__ = "audience_settings"
    __table_args__ = (UniqueConstraint("organization_id"),)

    min_crowd_size: Mapped[int] = mapped_column(Integer, default=DEFAULT_MIN_CROWD_SIZE)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
