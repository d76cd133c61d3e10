"""The basket a till or a checkout prices, the sale's context, and the priced result:
per-line discounts, the offers applied and the offers refused with a code each."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from newretail.core.money import is_money
from newretail.marketing.errors import InvalidOffer, RefusalCode
from newretail.marketing.offers import CombinationClass
from newretail.tenancy.models import ChannelType


@dataclass(frozen=True)
class BasketLine:
    """A line as the till charges it before offers: `unit_price` is the sale price (the
    catalogue's rule, or the line's own price)."""

    sku_id: uuid.UUID
    product_id: uuid.UUID
    brand_id: uuid.UUID
    quantity: int
    unit_price: Decimal
    category_path: str = ""

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise InvalidOffer("A line has a positive quantity.", field="quantity")
        if self.unit_price < 0 or not is_money(self.unit_price):
            raise InvalidOffer("A unit price is a non-negative amount in cents.", field="price")

    @property
    def amount(self) -> Decimal:
        """The line's amount before offers."""
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Basket:
    """The lines of one sale and its shipping fee."""

    lines: tuple[BasketLine, ...]
    shipping_fee: Decimal = Decimal("0.00")

    def __post_init__(self) -> None:
        if self.shipping_fee < 0 or not is_money(self.shipping_fee):
            raise InvalidOffer("A shipping fee is a non-negative amount.", field="shipping_fee")


@dataclass(frozen=True)
class SaleContext:
    """Where the sale happens: the organisation's time zone, the store and its channel type;
    `issued_at` holds when each coupon (by offer code) was issued to the member, for offers
    valid N days after issue."""

    zone_name: str | None
    channel_type: ChannelType
    store_id: uuid.UUID | None = None
    member_id: uuid.UUID | None = None
    issued_at: Mapping[str, datetime] = field(default_factory=dict)


# ---------------------------------------------------------------- the result
@dataclass(frozen=True)
class LineDiscount:
    """The part of one offer's discount that falls on one line."""

    offer_code: str
    amount: Decimal


@dataclass(frozen=True)
class PricedLine:
    """A basket line with the discounts it carries, in order of application."""

    line: BasketLine
    discounts: tuple[LineDiscount, ...]

    @property
    def discount(self) -> Decimal:
        """The line's discount from every offer."""
        return sum((d.amount for d in self.discounts), Decimal("0.00"))

    @property
    def charged(self) -> Decimal:
        """What the line costs after offers."""
        return self.line.amount - self.discount


@dataclass(frozen=True)
class Gift:
    """A gift SKU the sale hands over, and the offer that gives it."""

    offer_code: str
    sku_id: uuid.UUID
    quantity: int


@dataclass(frozen=True)
class AppliedOffer:
    """An offer that applied: its discount on the lines or the shipping fee, the units it
    made free or cheaper (buy X get Y) and the times a threshold was met."""

    code: str
    combination_class: CombinationClass
    discount: Decimal
    reward_units: int = 0
    times: int = 1


@dataclass(frozen=True)
class RefusedOffer:
    """An offer that did not apply, why, and (not combinable) the offer in its way."""

    code: str
    reason: RefusalCode
    blocking_offer: str | None = None


@dataclass(frozen=True)
class PricedBasket:
    """The basket after offers, for a till or a checkout to show."""

    lines: tuple[PricedLine, ...]
    shipping_fee: Decimal
    shipping_discount: Decimal
    applied: tuple[AppliedOffer, ...]
    refused: tuple[RefusedOffer, ...]
    gifts: tuple[Gift, ...]

    @property
    def subtotal(self) -> Decimal:
        """The lines before offers."""
        return sum((p.line.amount for p in self.lines), Decimal("0.00"))

    @property
    def line_discount(self) -> Decimal:
        """The discount on the lines (product and order offers)."""
        return sum((p.discount for p in self.lines), Decimal("0.00"))

    @property
    def discount(self) -> Decimal:
        """Every discount, lines and shipping."""
        return self.line_discount + self.shipping_discount

    @property
    def total(self) -> Decimal:
        """What the shopper pays: lines and shipping after offers."""
        return self.subtotal + self.shipping_fee - self.discount

    def refusal(self, code: str) -> RefusalCode | None:
        """Why the offer `code` was refused (None: it was not)."""
        return next((r.reason for r in self.refused if r.code == code), None)
