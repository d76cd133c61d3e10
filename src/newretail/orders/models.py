"""The order ledger: orders of every channel, their lines, refunds and refund lines."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Float, Index, Integer, Numeric, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime, references


class OrderStatus(StrEnum):
    PLACED = "placed"  # stock allocated, awaiting payment
    PAID = "paid"  # awaiting fulfilment
    FULFILLED = "fulfilled"  # carried out, shipped or picked up
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


class FulfilmentType(StrEnum):
    CARRY_OUT = "carry_out"
    SHIP = "ship"
    PICKUP_IN_STORE = "pickup_in_store"
    SHIP_FROM_STORE = "ship_from_store"


class Order(IdMixin, TenantMixin, Base):
    """One purchase from any channel; `external_order_id` makes device resends idempotent."""

    __tablename__ = "sales_order"
    __table_args__ = (
        UniqueConstraint("organization_id", "store_id", "external_order_id"),
        Index("ix_sales_order_org_placed", "organization_id", "placed_at"),
    )

    store_id: Mapped[uuid.UUID] = references("store", ondelete="RESTRICT")
    channel: Mapped[str] = mapped_column(String(20), index=True)
    brand_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    external_order_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    fulfilment_type: Mapped[str] = mapped_column(String(20))
    pickup_store_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    ship_latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    ship_longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    total_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    refunded_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    actor: Mapped[str] = mapped_column(String(254), default="")
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    lines: Mapped[list[OrderLine]] = relationship(lazy="selectin", order_by="OrderLine.line_number")

    @property
    def discount_amount(self) -> Decimal:
        """The offers' discount on the order: its lines' before offers less after."""
        return sum((line.discount_amount for line in self.lines), Decimal("0.00"))


class OrderLine(IdMixin, TenantMixin, Base):
    __tablename__ = "sales_order_line"

    order_id: Mapped[uuid.UUID] = references("sales_order")
    line_number: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[uuid.UUID] = references("sku", ondelete="RESTRICT")
    brand_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    # the stock location the units left from (None for imported history)
    location_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def discount_amount(self) -> Decimal:
        """The offers' discount on the line: `amount` is what the line costs after them."""
        return self.unit_price * self.quantity - self.amount


class Refund(IdMixin, TenantMixin, Base):
    __tablename__ = "refund"

    order_id: Mapped[uuid.UUID] = references("sales_order")
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    actor: Mapped[str] = mapped_column(String(254))

    lines: Mapped[list[RefundLine]] = relationship(lazy="selectin")


class RefundLine(IdMixin, TenantMixin, Base):
    __tablename__ = "refund_line"

    refund_id: Mapped[uuid.UUID] = references("refund")
    order_line_id: Mapped[uuid.UUID] = references("sales_order_line", index=False)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    location_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
