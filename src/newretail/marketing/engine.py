"""`price_basket`: the one way offers price a basket, at a till or a checkout.

Offers apply one at a time in one order, whatever order they are given in (the
`OfferTemplate.application_key`): product offers, then order offers, then shipping offers;
within a class by priority (lower first), then by kind (buy X get Y, percent off, amount
off, threshold, free gift), then by code. Each offer sees what the lines cost after the
offers before it, so a threshold's spend and a minimum spend count the price actually
charged. An offer applies only if it combines with every offer already applied (each names
the other in "combines with"); otherwise it is refused as `not_combinable`, naming the
offer in its way. docs/marketing.md walks through examples.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import pairwise

from newretail.marketing.basket import (
    AppliedOffer,
    Basket,
    Gift,
    LineDiscount,
    PricedBasket,
    PricedLine,
    RefusedOffer,
    SaleContext,
)
from newretail.marketing.benefits import Outcome, ScopedLines, line_outcome, shipping_outcome
from newretail.marketing.errors import InvalidOffer, RefusalCode
from newretail.marketing.offers import CombinationClass, OfferTemplate


def application_order(offers: Iterable[OfferTemplate]) -> list[OfferTemplate]:
    """The offers in the order they apply, whatever order they come in; two different
    templates under one code are refused (`InvalidOffer`), since neither order would do."""
    ordered = sorted(offers, key=lambda offer: offer.application_key)
    for first, second in pairwise(ordered):
        if first.code == second.code and first != second:
            raise InvalidOffer(f"Two different offers share the code {first.code}.", field="code")
    return ordered


@dataclass
class _Pricing:
    """The basket as the offers so far left it."""

    basket: Basket
    context: SaleContext
    at: datetime
    charged: list[Decimal] = field(default_factory=list)
    discounts: list[list[LineDiscount]] = field(default_factory=list)
    shipping_due: Decimal = Decimal("0.00")
    applied: list[OfferTemplate] = field(default_factory=list)
    applied_results: list[AppliedOffer] = field(default_factory=list)
    refused: list[RefusedOffer] = field(default_factory=list)
    gifts: list[Gift] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.charged = [line.amount for line in self.basket.lines]
        self.discounts = [[] for _ in self.basket.lines]
        self.shipping_due = self.basket.shipping_fee

    def covered_lines(self, offer: OfferTemplate) -> ScopedLines:
        """The lines the offer covers, as they cost now."""
        positions = tuple(
            index for index, line in enumerate(self.basket.lines) if offer.covers(line)
        )
        return ScopedLines(
            positions=positions,
            quantities=tuple(self.basket.lines[index].quantity for index in positions),
            charged=tuple(self.charged[index] for index in positions),
        )

    def refuse(
        self, offer: OfferTemplate, reason: RefusalCode, blocking: str | None = None
    ) -> None:
        """Record why the offer did not apply."""
        self.refused.append(RefusedOffer(offer.code, reason, blocking))

    def outcome(self, offer: OfferTemplate) -> Outcome | RefusalCode:
        """What the offer gives now, or why it gives nothing."""
        issued_at = self.context.issued_at.get(offer.code)
        refusal = offer.validity.refusal_at(self.at, self.context.zone_name, issued_at)
        if refusal is not None:
            return refusal
        if not offer.channels.admits(self.context.channel_type, self.context.store_id):
            return RefusalCode.WRONG_CHANNEL
        lines = self.covered_lines(offer)
        if not lines.positions:
            return RefusalCode.OUT_OF_SCOPE
        if lines.amount < offer.minimum_spend:
            return RefusalCode.BELOW_MINIMUM_SPEND
        if offer.combination_class is CombinationClass.SHIPPING:
            return shipping_outcome(offer.benefit, self.shipping_due)
        return line_outcome(offer.benefit, lines)

    def apply(self, offer: OfferTemplate) -> None:
        """Apply the offer, or record why not."""
        if any(offer.code == done.code for done in self.applied) or any(
            offer.code == refused.code for refused in self.refused
        ):
            self.refuse(offer, RefusalCode.DUPLICATE)
            return
        blocking = next((done for done in self.applied if not offer.combines(done)), None)
        outcome = self.outcome(offer)
        if isinstance(outcome, RefusalCode):
            self.refuse(offer, outcome)
            return
        if blocking is not None:
            self.refuse(offer, RefusalCode.NOT_COMBINABLE, blocking.code)
            return
        if not outcome.discount and not outcome.gifts:
            self.refuse(offer, RefusalCode.NOTHING_TO_DISCOUNT)
            return
        self.record(offer, outcome)

    def record(self, offer: OfferTemplate, outcome: Outcome) -> None:
        """Take the offer's discounts off the lines and the shipping fee still due."""
        for index, amount in zip(outcome.positions, outcome.line_discounts, strict=True):
            if amount:
                self.charged[index] -= amount
                self.discounts[index].append(LineDiscount(offer.code, amount))
        self.shipping_due -= outcome.shipping_discount
        self.gifts.extend(Gift(offer.code, sku, quantity) for sku, quantity in outcome.gifts)
        self.applied.append(offer)
        self.applied_results.append(
            AppliedOffer(
                code=offer.code,
                combination_class=offer.combination_class,
                discount=outcome.discount,
                reward_units=outcome.reward_units,
                times=outcome.times,
            )
        )

    def result(self) -> PricedBasket:
        """The priced basket; refusals sorted by offer code."""
        return PricedBasket(
            lines=tuple(
                PricedLine(line, tuple(discounts))
                for line, discounts in zip(self.basket.lines, self.discounts, strict=True)
            ),
            shipping_fee=self.basket.shipping_fee,
            shipping_discount=self.basket.shipping_fee - self.shipping_due,
            applied=tuple(self.applied_results),
            refused=tuple(sorted(self.refused, key=lambda refused: (refused.code, refused.reason))),
            gifts=tuple(self.gifts),
        )


def price_basket(
    basket: Basket, offers: Iterable[OfferTemplate], at: datetime, context: SaleContext
) -> PricedBasket:
    """Price the basket with the offers at the instant: per-line discounts, the offers
    applied (in order of application) and the offers refused with a reason each."""
    pricing = _Pricing(basket, context, at)
    for offer in application_order(offers):
        pricing.apply(offer)
    return pricing.result()
