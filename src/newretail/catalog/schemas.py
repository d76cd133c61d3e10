"""Pydantic shapes of the catalogue API. Unknown fields are refused everywhere."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field, HttpUrl

from newretail.tenancy.models import ChannelType
from newretail.tenancy.schemas import Code, Name, NotNull, Read, Strict

Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
CategoryPath = Annotated[str, Field(max_length=300, pattern=r"^[^/]+(/[^/]+)*$|^$")]
Barcode = Annotated[str, Field(min_length=4, max_length=64, pattern=r"^[0-9A-Za-z-]+$")]
SELLING_CHANNELS = [c for c in ChannelType if c != ChannelType.WAREHOUSE]


class ProductCreate(Strict):
    brand_id: uuid.UUID
    code: Code
    name: Name
    category_path: CategoryPath = ""
    attributes: dict[str, Any] = Field(default_factory=dict)
    image_urls: list[HttpUrl] = Field(default_factory=list, max_length=20)


class ProductUpdate(Strict):
    name: Annotated[Name | None, NotNull] = None
    category_path: Annotated[CategoryPath | None, NotNull] = None
    attributes: Annotated[dict[str, Any] | None, NotNull] = None
    image_urls: Annotated[list[HttpUrl] | None, NotNull] = Field(default=None, max_length=20)
    status: Annotated[Annotated[str, Field(pattern="^(active|retired)$")] | None, NotNull] = None


class SkuCreate(Strict):
    code: Code
    name: Name
    barcode: Barcode | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    image_urls: list[HttpUrl] = Field(default_factory=list, max_length=20)
    channels: list[ChannelType] = Field(
        default_factory=list, description="Channel types that sell it; empty means all"
    )
    prices: dict[ChannelType, Money] = Field(
        default_factory=dict, description="Price per channel type"
    )


class SkuUpdate(Strict):
    name: Annotated[Name | None, NotNull] = None
    barcode: Barcode | None = None
    attributes: Annotated[dict[str, Any] | None, NotNull] = None
    image_urls: Annotated[list[HttpUrl] | None, NotNull] = Field(default=None, max_length=20)
    channels: Annotated[list[ChannelType] | None, NotNull] = None
    status: Annotated[Annotated[str, Field(pattern="^(active|retired)$")] | None, NotNull] = None


class PricesSet(Strict):
    """Channel prices to set; channels not named keep their price."""

    prices: dict[ChannelType, Money]


class StorePriceSet(Strict):
    amount: Money


class AvailabilitySet(Strict):
    available: bool


class StorePriceRead(Read):
    store_id: uuid.UUID
    amount: Decimal


class StoreAvailabilityRead(Read):
    store_id: uuid.UUID
    available: bool


class SkuRead(Read):
    id: uuid.UUID
    product_id: uuid.UUID
    brand_id: uuid.UUID
    code: str
    name: str
    barcode: str | None
    attributes: dict[str, Any]
    image_urls: list[str]
    channels: list[str]
    status: str
    prices: dict[str, Decimal]
    store_prices: list[StorePriceRead]
    store_availability: list[StoreAvailabilityRead]
    created_at: datetime
    updated_at: datetime | None


class ProductRead(Read):
    id: uuid.UUID
    brand_id: uuid.UUID
    code: str
    name: str
    category_path: str
    attributes: dict[str, Any]
    image_urls: list[str]
    status: str
    created_at: datetime
    updated_at: datetime | None


class ProductDetail(ProductRead):
    skus: list[SkuRead]


class ResolvedPrice(Read):
    sku_id: uuid.UUID
    store_id: uuid.UUID
    channel_type: str
    amount: Decimal
    source: str = Field(description="`store` (override) or `channel`")
    available: bool
