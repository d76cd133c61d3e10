"""Offer templates: what the shopper gets (the benefit), on which items (the scope), where
(the channels), when (the validity) and with which other offers (the combination class and
the "combines with" list).

Money is a `Decimal` in the catalogue's representation (two decimals, `core.money.CENT`).
Templates check themselves when built and raise `InvalidOffer`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from newretail.core.localtime import local_day, local_day_bounds, to_local
from newretail.core.money import is_money
from newretail.marketing.errors import InvalidOffer, RefusalCode
from newretail.marketing.scope import EVERYTHING, Scope, ScopedItem
from newretail.tenancy.models import ChannelType

HUNDRED = Decimal(100)


class CombinationClass(StrEnum):
    """What an offer discounts, which is also when it applies: product offers first, then
    order offers on the discounted amounts, then shipping offers."""

    PRODUCT = "product"
    ORDER = "order"
    SHIPPING = "shipping"


APPLICATION_ORDER = (CombinationClass.PRODUCT, CombinationClass.ORDER, CombinationClass.SHIPPING)


# ---------------------------------------------------------------- benefits
@dataclass(frozen=True)
class AmountOff:
    """A fixed amount off the items in scope (or the shipping fee); with `per_unit`, the
    amount off every unit in scope (直降)."""

    amount: Decimal
    per_unit: bool = False

    def __post_init__(self) -> None:
        if self.amount <= 0 or not is_money(self.amount):
            raise InvalidOffer("An amount off is a positive amount in cents.", field="amount")


@dataclass(frozen=True)
class PercentOff:
    """A percentage off the items in scope (or the shipping fee), at most `cap` in money."""

    percent: Decimal
    cap: Decimal | None = None

    def __post_init__(self) -> None:
        if not 0 < self.percent <= HUNDRED:
            raise InvalidOffer("A percent off lies in (0, 100].", field="percent")
        if self.cap is not None and (self.cap <= 0 or not is_money(self.cap)):
            raise InvalidOffer("A cap is a positive amount in cents.", field="cap")


@dataclass(frozen=True)
class Threshold:
    """满减: spend `spend` on the items in scope, save `save`; with `repeat`, save again for
    every further multiple of `spend` (at most `max_repeats` times)."""

    spend: Decimal
    save: Decimal
    repeat: bool = False
    max_repeats: int | None = None

    def __post_init__(self) -> None:
        for name, amount in (("spend", self.spend), ("save", self.save)):
            if amount <= 0 or not is_money(amount):
                raise InvalidOffer("A threshold spends and saves positive amounts.", field=name)
        if self.max_repeats is not None and self.max_repeats < 1:
            raise InvalidOffer("At most zero repeats saves nothing.", field="max_repeats")


@dataclass(frozen=True)
class BuyXGetY:
    """Buy `buy` units in scope, get `get` more free (or `percent_off`: 50 is 第二件半价): in
    every group of buy + get units the `get` cheapest are rewarded, per multiple, at most
    `max_free_quantity` units in all."""

    buy: int
    get: int
    max_free_quantity: int | None = None
    percent_off: Decimal = HUNDRED

    def __post_init__(self) -> None:
        if self.buy < 1 or self.get < 1:
            raise InvalidOffer("Buy X get Y needs X >= 1 and Y >= 1.", field="buy")
        if self.max_free_quantity is not None and self.max_free_quantity < 1:
            raise InvalidOffer("A maximum free quantity is positive.", field="max_free_quantity")
        if not 0 < self.percent_off <= HUNDRED:
            raise InvalidOffer("A percent off lies in (0, 100].", field="percent_off")

    @property
    def group_size(self) -> int:
        """Units in one multiple (bought and free)."""
        return self.buy + self.get


@dataclass(frozen=True)
class FreeGift:
    """A gift SKU handed over at no charge (its stock is the till's business)."""

    sku_id: uuid.UUID
    quantity: int = 1

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise InvalidOffer("A gift has a positive quantity.", field="quantity")


Benefit = AmountOff | PercentOff | Threshold | BuyXGetY | FreeGift

# The classes each benefit may take, and the order of kinds inside one class.
ALLOWED_CLASSES: dict[type[Benefit], frozenset[CombinationClass]] = {
    BuyXGetY: frozenset({CombinationClass.PRODUCT}),
    PercentOff: frozenset(CombinationClass),
    AmountOff: frozenset(CombinationClass),
    Threshold: frozenset({CombinationClass.PRODUCT, CombinationClass.ORDER}),
    FreeGift: frozenset({CombinationClass.PRODUCT, CombinationClass.ORDER}),
}
KIND_ORDER: tuple[type[Benefit], ...] = tuple(ALLOWED_CLASSES)


# ---------------------------------------------------------------- where and when
class ChannelReach(StrEnum):
    """Where an offer is valid."""

    EVERYWHERE = "everywhere"
    ONLINE = "online"
    OFFLINE = "offline"
    CHANNEL_TYPES = "channel_types"
    STORES = "stores"


@dataclass(frozen=True)
class Channels:
    """Everywhere, online, any offline channel, the listed channel types or the listed
    stores."""

    reach: ChannelReach = ChannelReach.EVERYWHERE
    channel_types: frozenset[ChannelType] = frozenset()
    store_ids: frozenset[uuid.UUID] = frozenset()

    def __post_init__(self) -> None:
        if self.reach is ChannelReach.CHANNEL_TYPES and not self.channel_types:
            raise InvalidOffer("List the channel types.", field="channel_types")
        if self.reach is ChannelReach.STORES and not self.store_ids:
            raise InvalidOffer("List the stores.", field="store_ids")

    def admits(self, channel_type: ChannelType, store_id: uuid.UUID | None) -> bool:
        """Whether a sale of that channel type at that store may use the offer."""
        if self.reach is ChannelReach.ONLINE:
            return channel_type is ChannelType.ONLINE
        if self.reach is ChannelReach.OFFLINE:
            return channel_type not in {ChannelType.ONLINE, ChannelType.WAREHOUSE}
        if self.reach is ChannelReach.CHANNEL_TYPES:
            return channel_type in self.channel_types
        if self.reach is ChannelReach.STORES:
            return store_id in self.store_ids
        return True


EVERYWHERE = Channels()


@dataclass(frozen=True)
class Validity:
    """Local calendar days of the organisation: `first_day` to `last_day` inclusive, and/or
    `days_after_issue` local days counting the day of issue (1: the day of issue only); with
    both, the days both allow (a coupon good for 7 days, and not after the campaign)."""

    first_day: date | None = None
    last_day: date | None = None
    days_after_issue: int | None = None

    def __post_init__(self) -> None:
        if self.first_day and self.last_day and self.first_day > self.last_day:
            raise InvalidOffer("The first day comes before the last.", field="last_day")
        if self.days_after_issue is not None and self.days_after_issue < 1:
            raise InvalidOffer("Days after issue is at least 1.", field="days_after_issue")

    def window(
        self, zone_name: str | None, issued_at: datetime | None = None
    ) -> tuple[datetime | None, datetime | None]:
        """The UTC instants [start, end) in which the offer is valid (None: unbounded), as
        the coupon ledger stores them; an offer valid days after issue starts at the issue
        instant."""
        first, last = self.first_day, self.last_day
        if self.days_after_issue is not None:
            if issued_at is None:
                raise InvalidOffer("The offer is valid days after issue: when was it issued?")
            issue_day = local_day(issued_at, zone_name)
            issue_last = issue_day + timedelta(days=self.days_after_issue - 1)
            first = issue_day if first is None else max(first, issue_day)
            last = issue_last if last is None else min(last, issue_last)
        start = None if first is None else local_day_bounds(first, zone_name)[0]
        end = None if last is None else local_day_bounds(last, zone_name)[1]
        if issued_at is not None and self.days_after_issue is not None:
            issued = to_local(issued_at, "UTC")
            start = issued if start is None else max(start, issued)
        return start, end

    def refusal_at(
        self, at: datetime, zone_name: str | None, issued_at: datetime | None
    ) -> RefusalCode | None:
        """Why the offer is not valid at the instant (None: it is valid); a window that
        holds no instant at all has expired."""
        if self.days_after_issue is not None and issued_at is None:
            return RefusalCode.NOT_ISSUED
        start, end = self.window(zone_name, issued_at)
        moment = to_local(at, zone_name)
        if end is not None and (moment >= end or (start is not None and start >= end)):
            return RefusalCode.EXPIRED
        if start is not None and moment < start:
            return RefusalCode.NOT_YET_VALID
        return None


ALWAYS = Validity()


# ---------------------------------------------------------------- refunds
class RefundRule(StrEnum):
    """What a full refund of the order that used a coupon of the offer does with it."""

    RESTORE = "restore"  # the coupon is given back while it is still valid
    FORFEIT = "forfeit"  # the coupon stays used


# ---------------------------------------------------------------- the template
@dataclass(frozen=True)
class OfferTemplate:
    """One offer as a marketer defines it; `code` names it in "combines with" lists, and an
    offer of a brand (`brand_id`) covers only that brand's items, whatever its scope.

    `minimum_spend` is checked against the amount actually charged for the items in scope
    when the offer's turn comes (after the offers applied before it). `priority` orders
    offers of one class (lower first); `per_member_limit` is kept for the coupon ledger;
    `refund_rule` says whether a full refund gives a used coupon back.
    """

    code: str
    benefit: Benefit
    combination_class: CombinationClass
    combines_with: frozenset[str] = frozenset()
    brand_id: uuid.UUID | None = None
    scope: Scope = EVERYTHING
    channels: Channels = EVERYWHERE
    validity: Validity = ALWAYS
    minimum_spend: Decimal = Decimal(0)
    priority: int = 100
    per_member_limit: int | None = None
    refund_rule: RefundRule = RefundRule.RESTORE
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.code:
            raise InvalidOffer("An offer has a code.", field="code")
        if self.combination_class not in ALLOWED_CLASSES[type(self.benefit)]:
            raise InvalidOffer(
                f"A {type(self.benefit).__name__} offer cannot be a"
                f" {self.combination_class} offer.",
                field="combination_class",
            )
        if (
            isinstance(self.benefit, AmountOff)
            and self.benefit.per_unit
            and self.combination_class is not CombinationClass.PRODUCT
        ):
            raise InvalidOffer(
                "Only a product offer takes an amount off every unit.", field="per_unit"
            )
        if self.minimum_spend < 0 or not is_money(self.minimum_spend):
            raise InvalidOffer("A minimum spend is not negative.", field="minimum_spend")
        if self.per_member_limit is not None and self.per_member_limit < 1:
            raise InvalidOffer("A per-member limit is positive.", field="per_member_limit")

    @property
    def application_key(self) -> tuple[int, int, int, str]:
        """Where the offer comes in the one order of application: class, priority, kind,
        code."""
        return (
            APPLICATION_ORDER.index(self.combination_class),
            self.priority,
            KIND_ORDER.index(type(self.benefit)),
            self.code,
        )

    def covers(self, item: ScopedItem) -> bool:
        """Whether the offer applies to the item: the brand's own, and in scope."""
        own = self.brand_id is None or item.brand_id == self.brand_id
        return own and self.scope.covers(item)

    def combines(self, other: OfferTemplate) -> bool:
        """Whether both offers may apply to one basket: each names the other."""
        return other.code in self.combines_with and self.code in other.combines_with
