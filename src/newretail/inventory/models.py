"""Stock tables: a level per (SKU, location), reservations with expiry, the movement ledger.

`reserved` counts active reservations, including expired ones not yet swept; every stock
change sweeps expired reservations of its row first, so they never block a sale. Online
orders, reservations, transfers and adjustments need on_hand − allocated − reserved ≥ 0
(guarded updates); a POS sale of goods in hand is recorded even beyond it, so on-hand may go
below zero, and such rows are listed for the store manager (`inventory.discrepancies`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime, references


class StockLevel(IdMixin, TenantMixin, Base):
    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("sku_id", "location_id"),
        CheckConstraint("allocated >= 0", name="allocated_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    )

    sku_id: Mapped[uuid.UUID] = references("sku", ondelete="RESTRICT", index=False)
    location_id: Mapped[uuid.UUID] = references("store")
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReservationStatus:
    ACTIVE = "active"
    CONSUMED = "consumed"
    RELEASED = "released"
    EXPIRED = "expired"


class StockReservation(IdMixin, TenantMixin, Base):
    """Units held for a cart until `expires_at`."""

    __tablename__ = "stock_reservation"
    __table_args__ = (
        Index("ix_stock_reservation_level_status", "sku_id", "location_id", "status"),
    )

    sku_id: Mapped[uuid.UUID] = references("sku", ondelete="RESTRICT", index=False)
    location_id: Mapped[uuid.UUID] = references("store", index=False)
    quantity: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(10), default=ReservationStatus.ACTIVE)
    cart_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    actor: Mapped[str] = mapped_column(String(254), default="")
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class StockMovement(IdMixin, TenantMixin, Base):
    """The audit ledger: every change of on-hand stock (on_hand = sum of deltas)."""

    __tablename__ = "stock_movement"
    __table_args__ = (Index("ix_stock_movement_sku_location", "sku_id", "location_id"),)

    sku_id: Mapped[uuid.UUID] = references("sku", ondelete="RESTRICT", index=False)
    location_id: Mapped[uuid.UUID] = references("store", index=False)
    delta: Mapped[int] = mapped_column(Integer)
    # receipt, adjustment, transfer_out, transfer_in, sale, refund
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(300), nullable=True)
    actor: Mapped[str] = mapped_column(String(254))
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)


class StockLocation(IdMixin, TenantMixin, Base):
    """Fulfilment settings of a location (a store of any channel type, or a warehouse)."""

    __tablename__ = "stock_location"
    __table_args__ = (UniqueConstraint("organization_id", "location_id"),)

    location_id: Mapped[uuid.UUID] = references("store", index=False)
    # may this store ship or hand over online orders (warehouses always may)
    fulfils_online: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
