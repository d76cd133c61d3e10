"""Pydantic shapes of the order API. Unknown fields are refused everywhere."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from newretail.catalog.schemas import Money
from newretail.inventory.schemas import Quantity
from newretail.orders.models import FulfilmentType
from newretail.tenancy.schemas import Read, Strict

ExternalId = Annotated[str, Field(min_length=1, max_length=100)]
CouponReference = Annotated[str, Field(min_length=1, max_length=100)]
COUPONS_DESCRIPTION = (
    "Coupons the shopper uses: each a printed code or a coupon's id. Their offers are applied "
    "by the one pricing path and each coupon is redeemed with the order; a coupon that is "
    "refused (already used, expired, wrong channel, below its minimum spend ...) refuses the "
    "sale, naming coupons[i]"
)


class PosLineIn(Strict):
    sku_id: uuid.UUID
    quantity: Quantity
    unit_price: Money | None = Field(
        default=None, description="The price the till charged; the catalogue price otherwise"
    )


class MemberIdentifierIn(Strict):
    """A member named by an identifier the till knows (an unknown one enrols a new member)."""

    type: Literal["phone", "member_card", "account_id"]
    value: str = Field(min_length=1, max_length=100)


class PosSaleCreate(Strict):
    """An immediate sale at a shop, counter, pop-up or vending machine."""

    store_id: uuid.UUID
    external_order_id: ExternalId = Field(description="The device's order id (idempotency)")
    lines: list[PosLineIn] = Field(min_length=1, max_length=200)
    member_id: uuid.UUID | None = None
    member: MemberIdentifierIn | None = Field(
        default=None, description="The member by phone, member card or account id"
    )
    sold_at: datetime | None = None
    coupons: list[CouponReference] = Field(
        default_factory=list, max_length=10, description=COUPONS_DESCRIPTION
    )
    offline: bool = Field(
        default=False,
        description="Recorded by a till while disconnected and sent late (with sold_at): its "
        "coupons are redeemed as of sold_at, and a coupon used elsewhere meanwhile is recorded "
        "as a conflict for review instead of refusing the sale",
    )


class CheckoutLineIn(Strict):
    sku_id: uuid.UUID
    quantity: Quantity
    reservation_id: uuid.UUID | None = None


class CheckoutCreate(Strict):
    """An online or cloud-shelf order: stock is allocated now, shipped or handed over later."""

    store_id: uuid.UUID = Field(description="The selling store: online shop or cloud shelf")
    lines: list[CheckoutLineIn] = Field(min_length=1, max_length=200)
    fulfilment_type: FulfilmentType = FulfilmentType.SHIP
    pickup_store_id: uuid.UUID | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    member_id: uuid.UUID | None = None
    external_order_id: ExternalId | None = None
    paid: bool = Field(default=False, description="Paid at checkout")
    placed_at: datetime | None = Field(
        default=None,
        description="When the customer placed it, with a time zone (a backlog sent late); "
        "default now",
    )
    coupons: list[CouponReference] = Field(
        default_factory=list, max_length=10, description=COUPONS_DESCRIPTION
    )


class RefundLineIn(Strict):
    order_line_id: uuid.UUID
    quantity: Quantity


class RefundCreate(Strict):
    lines: list[RefundLineIn] | None = Field(
        default=None, description="Lines to refund; every unrefunded unit when omitted"
    )
    reason: Annotated[str, Field(max_length=300)] | None = None


class OrderLineRead(Read):
    id: uuid.UUID
    line_number: int
    sku_id: uuid.UUID
    brand_id: uuid.UUID
    quantity: int
    unit_price: Decimal
    amount: Decimal = Field(description="What the line costs after offers")
    discount_amount: Decimal = Field(description="The offers' discount on the line")
    location_id: uuid.UUID | None
    refunded_quantity: int


class OrderRead(Read):
    id: uuid.UUID
    store_id: uuid.UUID
    channel: str
    brand_id: uuid.UUID | None
    member_id: uuid.UUID | None
    external_order_id: str | None
    status: str
    fulfilment_type: str
    pickup_store_id: uuid.UUID | None
    currency: str
    total_amount: Decimal = Field(description="What the shopper pays, after offers")
    discount_amount: Decimal = Field(description="The offers' discount on the whole order")
    refunded_amount: Decimal
    placed_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    lines: list[OrderLineRead]


class RefundLineRead(Read):
    order_line_id: uuid.UUID
    quantity: int
    amount: Decimal
    location_id: uuid.UUID | None


class RefundRead(Read):
    id: uuid.UUID
    order_id: uuid.UUID
    amount: Decimal
    reason: str | None
    actor: str
    created_at: datetime
    lines: list[RefundLineRead]
