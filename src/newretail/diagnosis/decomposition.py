"""The change of GMV between a base period and a comparison period split exactly into
traffic, conversion and order value: GMV = visitors × (buyers / visitors) × (GMV / buyers).

Per store by LMDI-I (effect of X = L(GMV₁, GMV₀) · ln(X₁ / X₀), L the logarithmic mean)
where all six factor values are positive, by the Shapley value of the three factors
otherwise (a zero: a pop-up that opened or closed, a day without buyers; a negative order
value: refunds above sales). A group's (brand, city, organisation) parts are the sums of its
stores' parts. Amounts are Decimal money in whole cents; each store's parts are rounded to
cents so that they add up exactly to its change (docs/diagnosis.md, "Decomposition").
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import combinations
from typing import Generic, TypeVar

from newretail.core.money import CENT, is_money

FactorKey = TypeVar("FactorKey", bound=Hashable)
StoreKey = TypeVar("StoreKey", bound=Hashable)


class Factor(StrEnum):
    """The three factors of GMV, in the order of the funnel (and of rounding ties)."""

    VISITORS = "visitors"
    CONVERSION = "conversion"  # paying buyers / visitors
    ORDER_VALUE = "order_value"  # GMV / paying buyers


class Method(StrEnum):
    """How a store's change was split."""

    LMDI = "lmdi"  # all six factor values positive
    SHAPLEY = "shapley"  # some factor value zero or negative
    UNATTRIBUTED = "unattributed"  # a period's figures do not factor (see QualityIssue)


class Period(StrEnum):
    BASE = "base"
    COMPARISON = "comparison"


class QualityIssue(StrEnum):
    """What in a period's figures makes its decomposition unreliable or impossible."""

    # buyers but no visitor counted (a people counter silent while the till sells):
    # conversion is undefined, the change is left unattributed
    BUYERS_WITHOUT_VISITORS = "buyers_without_visitors"
    # GMV (usually refunds of earlier orders) without a paying buyer: order value is
    # undefined, the change is left unattributed
    GMV_WITHOUT_BUYERS = "gmv_without_buyers"
    # more buyers than visitors: decomposed, but the visitor count is likely short
    CONVERSION_ABOVE_ONE = "conversion_above_one"
    # refunds above sales: decomposed by Shapley (a negative order value)
    NEGATIVE_GMV = "negative_gmv"


@dataclass(frozen=True)
class QualityFlag:
    issue: QualityIssue
    period: Period


@dataclass(frozen=True)
class PeriodTotals:
    """One store's figures for one period: distinct visitors, paying buyers, and GMV (paid,
    net of refunds, so possibly negative) in whole cents."""

    visitors: int
    buyers: int
    gmv: Decimal

    def __post_init__(self) -> None:
        if self.visitors < 0 or self.buyers < 0:
            raise ValueError(f"visitors and buyers cannot be negative: {self}")
        if not is_money(self.gmv):
            raise ValueError(f"gmv must be a whole number of cents: {self.gmv}")

    @property
    def gmv_cents(self) -> int:
        return int(self.gmv.scaleb(2))

    def quality_issues(self) -> list[QualityIssue]:
        """The period's data-quality issues, in the order of QualityIssue."""
        issues = []
        if self.visitors == 0 and self.buyers > 0:
            issues.append(QualityIssue.BUYERS_WITHOUT_VISITORS)
        if self.buyers == 0 and self.gmv != 0:
            issues.append(QualityIssue.GMV_WITHOUT_BUYERS)
        if self.buyers > self.visitors > 0:
            issues.append(QualityIssue.CONVERSION_ABOVE_ONE)
        if self.gmv < 0:
            issues.append(QualityIssue.NEGATIVE_GMV)
        return issues

    @property
    def factors_defined(self) -> bool:
        """Whether GMV = visitors × conversion × order value holds with defined factors (or
        with undefined ones standing for an empty period)."""
        return not (self.visitors == 0 and self.buyers > 0) and not (
            self.buyers == 0 and self.gmv != 0
        )


@dataclass(frozen=True)
class Decomposition:
    """One store's change split into factors, in money; `sum(parts) + unattributed` equals
    `comparison.gmv - base.gmv` exactly."""

    method: Method
    base: PeriodTotals
    comparison: PeriodTotals
    parts: Mapping[Factor, Decimal]
    unattributed: Decimal
    flags: frozenset[QualityFlag]

    @property
    def change(self) -> Decimal:
        return self.comparison.gmv - self.base.gmv


@dataclass(frozen=True)
class GroupDecomposition(Generic[StoreKey]):
    """A group's change split into stores × factors; `parts` (and `unattributed`) are the
    sums over its stores, so `sum(parts) + unattributed == change` exactly."""

    stores: Mapping[StoreKey, Decomposition]
    parts: Mapping[Factor, Decimal]
    unattributed: Decimal
    base_gmv: Decimal
    comparison_gmv: Decimal

    @property
    def change(self) -> Decimal:
        return self.comparison_gmv - self.base_gmv


def log_ratio(new: Fraction, old: Fraction) -> float:
    """ln(new / old) of two positive numbers, precise near 1 and exactly antisymmetric:
    log_ratio(old, new) == -log_ratio(new, old)."""
    if new < old:
        return -log_ratio(old, new)
    ratio = new / old
    if ratio <= 2:
        return math.log1p(float(ratio - 1))  # no cancellation when the periods are close
    return math.log(float(ratio))


def log_mean(first: Fraction, second: Fraction) -> float:
    """The logarithmic mean L(a, b) = (a − b) / (ln a − ln b) of two positive numbers, with
    L(a, a) = a; symmetric in its arguments."""
    if first == second:
        return float(first)
    high, low = max(first, second), min(first, second)
    return float(high - low) / log_ratio(high, low)


def lmdi_effects(
    base: Mapping[FactorKey, Fraction], comparison: Mapping[FactorKey, Fraction]
) -> dict[FactorKey, Fraction]:
    """LMDI-I effects of a product's factors (all values positive): L(P₁, P₀) · ln(X₁/X₀).
    They add up to P₁ − P₀ up to float rounding (about 1e-15 relative)."""
    weight = log_mean(_product(comparison.values()), _product(base.values()))
    return {key: Fraction(weight * log_ratio(comparison[key], base[key])) for key in base}


def shapley_effects(
    base: Mapping[FactorKey, Fraction], comparison: Mapping[FactorKey, Fraction]
) -> dict[FactorKey, Fraction]:
    """Shapley effects of a product's factors (any values): each factor's change of the
    product when it moves from base to comparison, averaged over the orders in which the
    factors can move. Exact: they add up to P₁ − P₀ with no rounding."""
    keys = list(base)
    count = len(keys)
    effects = {}
    for key in keys:
        others = [other for other in keys if other != key]
        effect = Fraction(0)
        for size in range(count):
            # orders in which exactly `size` other factors moved before this one
            weight = Fraction(math.factorial(size) * math.factorial(count - size - 1))
            weight /= math.factorial(count)
            for moved in combinations(others, size):
                rest = _product(
                    comparison[other] if other in moved else base[other] for other in others
                )
                effect += weight * rest * (comparison[key] - base[key])
        effects[key] = effect
    return effects


def split_product_change(
    base: Mapping[FactorKey, Fraction], comparison: Mapping[FactorKey, Fraction]
) -> tuple[Method, dict[FactorKey, Fraction]]:
    """The change of a product of factors split among them: LMDI-I when every value is
    positive, Shapley otherwise. The result does not depend on the order of the factors."""
    if base.keys() != comparison.keys():
        raise ValueError("both periods need the same factors")
    if all(value > 0 for value in (*base.values(), *comparison.values())):
        return Method.LMDI, lmdi_effects(base, comparison)
    return Method.SHAPLEY, shapley_effects(base, comparison)


def round_parts_to_cents(
    parts: Mapping[FactorKey, Fraction], total: int, tie_order: Sequence[FactorKey]
) -> dict[FactorKey, int]:
    """Round exact parts (in cents) to whole cents adding up to `total`: each to the nearest
    cent (halves away from zero), then the shortfall (or excess) given one cent at a time to
    the parts rounded down (up) the most, ties in `tie_order`. Each result is within one cent
    of its exact part, and negating every part and the total negates every result."""
    rounded = {key: _round_half_away(value) for key, value in parts.items()}
    shortfall = total - sum(rounded.values())
    step = 1 if shortfall > 0 else -1
    position = {key: index for index, key in enumerate(tie_order)}

    def most_in_need(key: FactorKey) -> tuple[Fraction, int]:
        return (-step * (parts[key] - rounded[key]), position[key])

    for key in sorted(parts, key=most_in_need)[: abs(shortfall)]:
        rounded[key] += step
    return rounded


def decompose(base: PeriodTotals, comparison: PeriodTotals) -> Decomposition:
    """Split a store's GMV change between two periods into visitors, conversion and order
    value, in cents adding up exactly to the change (or leave it unattributed, flagged)."""
    flags = frozenset(
        QualityFlag(issue, period)
        for period, totals in ((Period.BASE, base), (Period.COMPARISON, comparison))
        for issue in totals.quality_issues()
    )
    change = comparison.gmv_cents - base.gmv_cents
    if not (base.factors_defined and comparison.factors_defined):
        zero = {factor: _money(0) for factor in Factor}
        return Decomposition(Method.UNATTRIBUTED, base, comparison, zero, _money(change), flags)
    method, exact = split_product_change(_factors(base, comparison), _factors(comparison, base))
    cents = round_parts_to_cents(exact, change, tuple(Factor))
    parts = {factor: _money(cents[factor]) for factor in Factor}
    return Decomposition(method, base, comparison, parts, _money(0), flags)


def decompose_group(
    stores: Mapping[StoreKey, tuple[PeriodTotals, PeriodTotals]],
) -> GroupDecomposition[StoreKey]:
    """Split a group's GMV change into its stores × factors: each store decomposed, the
    group's parts the sums of its stores' (no residual). A store open in one period only
    comes with zero totals for the other."""
    decompositions = {
        key: decompose(base, comparison) for key, (base, comparison) in stores.items()
    }
    parts = {
        factor: sum((each.parts[factor] for each in decompositions.values()), _money(0))
        for factor in Factor
    }
    return GroupDecomposition(
        stores=decompositions,
        parts=parts,
        unattributed=sum((each.unattributed for each in decompositions.values()), _money(0)),
        base_gmv=sum((each.base.gmv for each in decompositions.values()), _money(0)),
        comparison_gmv=sum((each.comparison.gmv for each in decompositions.values()), _money(0)),
    )


def _factors(period: PeriodTotals, other: PeriodTotals) -> dict[Factor, Fraction]:
    """A period's factors (order value in cents per buyer). A ratio undefined for want of
    visitors or buyers takes the other period's value (0 if undefined there too): the
    product is 0 either way, and a store that opens owes its GMV to traffic alone."""
    return {
        Factor.VISITORS: Fraction(period.visitors),
        Factor.CONVERSION: _ratio(period.buyers, period.visitors, other.buyers, other.visitors),
        Factor.ORDER_VALUE: _ratio(period.gmv_cents, period.buyers, other.gmv_cents, other.buyers),
    }


def _ratio(
    numerator: int, denominator: int, other_numerator: int, other_denominator: int
) -> Fraction:
    if denominator:
        return Fraction(numerator, denominator)
    if other_denominator:
        return Fraction(other_numerator, other_denominator)
    return Fraction(0)


def _product(values: Iterable[Fraction]) -> Fraction:
    return math.prod(values, start=Fraction(1))


def _round_half_away(value: Fraction) -> int:
    magnitude = math.floor(abs(value) + Fraction(1, 2))
    return magnitude if value >= 0 else -magnitude


def _money(cents: int) -> Decimal:
    return Decimal(cents) * CENT
