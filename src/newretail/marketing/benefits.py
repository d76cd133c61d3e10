"""What each kind of benefit takes off a basket, given what the lines cost when the offer's
turn comes. A benefit either gives an `Outcome` or a `RefusalCode` (nothing to give)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from decimal import Decimal

from newretail.core.money import ZERO, round_money
from newretail.marketing.allocation import allocate
from newretail.marketing.errors import RefusalCode
from newretail.marketing.offers import (
    HUNDRED,
    AmountOff,
    Benefit,
    BuyXGetY,
    FreeGift,
    PercentOff,
    Threshold,
)


@dataclass(frozen=True)
class ScopedLines:
    """The lines an offer covers: their positions in the basket, quantities and what each
    costs now (after the offers applied before)."""

    positions: tuple[int, ...]
    quantities: tuple[int, ...]
    charged: tuple[Decimal, ...]

    @property
    def amount(self) -> Decimal:
        """What the covered lines cost now."""
        return sum(self.charged, ZERO)

    @property
    def units(self) -> int:
        """How many units the covered lines hold."""
        return sum(self.quantities)


@dataclass(frozen=True)
class Outcome:
    """What one offer gives: a discount per covered line (`positions` in the basket) or off
    the shipping fee, the units buy X get Y rewarded, threshold multiples and gifts."""

    positions: tuple[int, ...] = ()
    line_discounts: tuple[Decimal, ...] = ()
    shipping_discount: Decimal = ZERO
    reward_units: int = 0
    times: int = 1
    gifts: tuple[tuple[uuid.UUID, int], ...] = ()

    @property
    def discount(self) -> Decimal:
        """The offer's whole discount."""
        return sum(self.line_discounts, self.shipping_discount)


def percent_of(amount: Decimal, offer: PercentOff) -> Decimal:
    """The percent of an amount, rounded to cents, at most the cap and the amount."""
    discount = round_money(amount * offer.percent / HUNDRED)
    if offer.cap is not None:
        discount = min(discount, round_money(offer.cap))
    return round_money(min(discount, amount))


def threshold_times(amount: Decimal, offer: Threshold) -> int:
    """How many times a spend of `amount` meets the threshold."""
    times = int(amount // offer.spend)
    if not offer.repeat:
        times = min(times, 1)
    if offer.max_repeats is not None:
        times = min(times, offer.max_repeats)
    return times


def reward_discounts(
    lines: ScopedLines, rewarded: int, percent_off: Decimal
) -> tuple[Decimal, ...]:
    """The discount of taking `percent_off` off the `rewarded` cheapest units (cheapest by
    what a unit costs now; ties to the earlier line): k of a line's q units at p percent
    take charged × k × p / (q × 100) off it, rounded to cents (a whole line made free: all
    it costs, exactly)."""
    by_unit_cost = sorted(
        range(len(lines.positions)),
        key=lambda i: (lines.charged[i] / lines.quantities[i], i),
    )
    discounts = [ZERO] * len(lines.positions)
    for index in by_unit_cost:
        taken = min(rewarded, lines.quantities[index])
        share = lines.charged[index] * taken * percent_off / (lines.quantities[index] * HUNDRED)
        discounts[index] = round_money(share)
        rewarded -= taken
    return tuple(discounts)


def spread(lines: ScopedLines, discount: Decimal) -> Outcome:
    """One discount on the covered lines, split by what each costs now."""
    return Outcome(line_discounts=tuple(allocate(discount, lines.charged)))


def line_outcome(benefit: Benefit, lines: ScopedLines) -> Outcome | RefusalCode:
    """What a product or order offer takes off the covered lines."""
    found = benefit_on_lines(benefit, lines)
    if isinstance(found, RefusalCode):
        return found
    return replace(found, positions=lines.positions)


def benefit_on_lines(benefit: Benefit, lines: ScopedLines) -> Outcome | RefusalCode:
    """The discount of each covered line (in `ScopedLines` order), or why there is none."""
    if isinstance(benefit, FreeGift):
        return Outcome(
            line_discounts=(ZERO,) * len(lines.positions),
            gifts=((benefit.sku_id, benefit.quantity),),
        )
    if isinstance(benefit, BuyXGetY):
        groups = lines.units // benefit.group_size
        if not groups:
            return RefusalCode.BELOW_MINIMUM_QUANTITY
        rewarded = groups * benefit.get
        if benefit.max_free_quantity is not None:
            rewarded = min(rewarded, benefit.max_free_quantity)
        return Outcome(
            line_discounts=reward_discounts(lines, rewarded, benefit.percent_off),
            reward_units=rewarded,
        )
    if isinstance(benefit, Threshold):
        times = threshold_times(lines.amount, benefit)
        if not times:
            return RefusalCode.BELOW_MINIMUM_SPEND
        discount = round_money(min(benefit.save * times, lines.amount))
        return Outcome(line_discounts=spread(lines, discount).line_discounts, times=times)
    if isinstance(benefit, PercentOff):
        return spread(lines, percent_of(lines.amount, benefit))
    if benefit.per_unit:
        return Outcome(
            line_discounts=tuple(
                round_money(min(benefit.amount * quantity, charged))
                for quantity, charged in zip(lines.quantities, lines.charged, strict=True)
            )
        )
    return spread(lines, round_money(min(benefit.amount, lines.amount)))


def shipping_outcome(benefit: Benefit, fee: Decimal) -> Outcome:
    """What a shipping offer takes off the shipping fee still due."""
    if isinstance(benefit, PercentOff):
        return Outcome(shipping_discount=percent_of(fee, benefit))
    if isinstance(benefit, AmountOff):
        return Outcome(shipping_discount=round_money(min(benefit.amount, fee)))
    raise TypeError(f"{type(benefit).__name__} is not a shipping benefit")
