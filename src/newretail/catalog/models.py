"""Catalogue tables: products, SKUs, channel prices, store price overrides, availability."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime, references


class Product(IdMixin, TenantMixin, Base):
    """A product of one brand; it is sold as one or more SKUs."""

    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    brand_id: Mapped[uuid.UUID] = references("brand")
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    # "Skincare/Serums/Vitamin C": the category tree as a slash-separated path
    category_path: Mapped[str] = mapped_column(String(300), default="", index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    image_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="active")
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    skus: Mapped[list[Sku]] = relationship(
        back_populates="product", lazy="selectin", order_by="Sku.code"
    )


class Sku(IdMixin, TenantMixin, Base):
    """A sellable unit; the barcode is unique in the organisation."""

    __tablename__ = "sku"
    __table_args__ = (
        UniqueConstraint("organization_id", "code"),
        UniqueConstraint("organization_id", "barcode"),
    )

    product_id: Mapped[uuid.UUID] = references("product")
    brand_id: Mapped[uuid.UUID] = references("brand")
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    barcode: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    image_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    # channel types where the SKU is sold; empty means every channel
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="active")
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    product: Mapped[Product] = relationship(back_populates="skus", lazy="raise")
    prices: Mapped[list[SkuPrice]] = relationship(lazy="selectin", order_by="SkuPrice.channel_type")
    store_prices: Mapped[list[SkuStorePrice]] = relationship(lazy="selectin")
    store_availability: Mapped[list[SkuStoreAvailability]] = relationship(lazy="selectin")


class SkuPrice(IdMixin, TenantMixin, Base):
    """The price of a SKU on one channel type."""

    __tablename__ = "sku_price"
    __table_args__ = (UniqueConstraint("sku_id", "channel_type"),)

    sku_id: Mapped[uuid.UUID] = references("sku", index=False)
    channel_type: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))


class StoreOverride(IdMixin, TenantMixin):
    """A store's own setting of a SKU, at most one per SKU and store; it wins over what the
    SKU says for every store of the channel."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (UniqueConstraint("sku_id", "store_id"),)

    @declared_attr
    def sku_id(cls) -> Mapped[uuid.UUID]:
        return references("sku", index=False)

    @declared_attr
    def store_id(cls) -> Mapped[uuid.UUID]:
        return references("store")


class SkuStorePrice(StoreOverride, Base):
    """A store's own price for a SKU; it wins over the channel price."""

    __tablename__ = "sku_store_price"

    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))


class SkuStoreAvailability(StoreOverride, Base):
    """A store's override of whether it sells a SKU (wins over the SKU's channels)."""

    __tablename__ = "sku_store_availability"

    available: Mapped[bool] = mapped_column(Boolean)
