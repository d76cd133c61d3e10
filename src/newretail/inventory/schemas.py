"""Pydantic shapes of the stock API. Unknown fields are refused everywhere."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, model_validator

from newretail.tenancy.schemas import Read, Strict

Quantity = Annotated[int, Field(ge=1, le=1_000_000)]
Note = Annotated[str, Field(max_length=300)]


class StockLineIn(Strict):
    sku_id: uuid.UUID
    quantity: Quantity


class ReceiptCreate(Strict):
    location_id: uuid.UUID
    lines: list[StockLineIn] = Field(min_length=1, max_length=1000)
    note: Note | None = None
    reference: Annotated[str, Field(max_length=100)] | None = None


class AdjustmentCreate(Strict):
    location_id: uuid.UUID
    sku_id: uuid.UUID
    delta: Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
    note: Annotated[str, Field(min_length=1, max_length=300)] = Field(
        description="Why: count correction, damage, theft…"
    )

    @model_validator(mode="after")
    def _not_zero(self) -> AdjustmentCreate:
        if self.delta == 0:
            raise ValueError("delta must not be 0")
        return self


class TransferCreate(Strict):
    from_location_id: uuid.UUID
    to_location_id: uuid.UUID
    lines: list[StockLineIn] = Field(min_length=1, max_length=1000)
    note: Note | None = None

    @model_validator(mode="after")
    def _two_places(self) -> TransferCreate:
        if self.from_location_id == self.to_location_id:
            raise ValueError("from and to must differ")
        return self


class ThresholdSet(Strict):
    low_stock_threshold: Annotated[int, Field(ge=0, le=1_000_000)] | None


class LocationPolicySet(Strict):
    fulfils_online: bool


class LocationPolicyRead(Read):
    location_id: uuid.UUID
    fulfils_online: bool


class StockLevelRead(Read):
    sku_id: uuid.UUID
    sku_code: str
    location_id: uuid.UUID
    location_code: str
    on_hand: int
    allocated: int
    reserved: int = Field(description="Units in unexpired reservations")
    available: int = Field(description="on_hand − allocated − unexpired reservations")
    low_stock_threshold: int | None
    low: bool
    updated_at: datetime | None


class MovementRead(Read):
    id: uuid.UUID
    sku_id: uuid.UUID
    location_id: uuid.UUID
    delta: int
    reason: str
    note: str | None
    actor: str
    reference: str | None
    created_at: datetime


class StockChangeRead(Read):
    """What a receipt, adjustment or transfer wrote to the ledger."""

    reference: str
    movements: list[MovementRead]


class ReservationCreate(Strict):
    store_id: uuid.UUID = Field(description="The selling store (online shop, cloud shelf…)")
    sku_id: uuid.UUID
    quantity: Quantity
    fulfilment_type: Annotated[str, Field(pattern="^(ship|ship_from_store|pickup_in_store)$")] = (
        "ship"
    )
    pickup_store_id: uuid.UUID | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    ttl_seconds: Annotated[int, Field(ge=1, le=86_400)] = 900
    cart_reference: Annotated[str, Field(max_length=100)] | None = None


class ReservationRead(Read):
    id: uuid.UUID
    sku_id: uuid.UUID
    location_id: uuid.UUID
    quantity: int
    expires_at: datetime
    status: str
    cart_reference: str | None
    order_id: uuid.UUID | None
    created_at: datetime


class StockDiscrepancyRead(Read):
    """A stock row the system holds below zero available (POS sold goods in hand)."""

    location_id: uuid.UUID
    location_code: str
    location_name: str
    sku_id: uuid.UUID
    sku_code: str
    sku_name: str
    on_hand: int
    allocated: int
    reserved: int = Field(description="Units in unexpired reservations")
    available: int = Field(description="on_hand − allocated − unexpired reservations (< 0)")
    shortfall: int = Field(description="Units sold beyond the system's stock (−available)")
    last_sale_at: datetime | None
    last_sale_order_id: uuid.UUID | None
