"""Why a factor moved: the Adtributor search (Bhagwan et al., NSDI 2014) over the values of a
dimension (SKU, category, hour, traffic source, campaign, store, channel type,
stock-out), each value's change split into the three
factors of GMV in cents (docs/diagnosis.md, "Why it moved").

For one factor and one dimension:

- every value's change of GMV is decomposed on its own (`decomposition.decompose`: visitors,
  the value's buyers, the value's GMV), so its parts are exact cents adding up to its change;
- explanatory power of a value = its part of the factor ÷ the sum of the parts of all the
  dimension's values (Adtributor's EP, on the factor's part instead of a forecast's error);
- surprise of a value = the Jensen-Shannon divergence (bits) between its share of the
  measure in the base period (the expectation) and in the comparison period (the actual):
  ½ p log₂(2p / (p + q)) + ½ q log₂(2q / (p + q)); the measure is visitors for the visitors
  factor, GMV (negative GMV counted as zero) for conversion and order value;
- the explaining set: values taken by surprise, highest first, each with explanatory power of
  at least 10 %, until they explain at least 67 % of the change; none when they never do;
- a dimension's surprise is the sum of its set's; dimensions are ranked by it. A set without
  surprise (the shares did not move, as with one hour of sales) explains nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from newretail.diagnosis.decomposition import Decomposition, Factor, PeriodTotals, decompose

VALUE_THRESHOLD = Fraction(1, 10)  # Adtributor's T_EEP: a value explains at least 10 %
SET_THRESHOLD = Fraction(67, 100)  # Adtributor's T_EP: a set explains at least 67 %


class Dimension(StrEnum):
    """What the change is searched by (the order breaks ties of surprise)."""

    STOCK_OUT = "stock_out"  # the SKUs out of stock on a day of either period, and the rest
    SKU = "sku"
    CATEGORY = "category"
    HOUR = "hour"  # local hour of day
    TRAFFIC_SOURCE = "traffic_source"  # where the order's buyer came from (order_attributes)
    CAMPAIGN = "campaign"  # the campaign whose coupon the order redeemed
    STORE = "store"
    CHANNEL = "channel"  # a store's channel type (online, shop, counter, pop-up…)


@dataclass(frozen=True)
class Value:
    """One value of a dimension: its figures in both periods (visitors may be the whole
    store's when the dimension does not split visitors, as a SKU does not)."""

    key: str
    label: str
    base: PeriodTotals
    comparison: PeriodTotals
    named: bool = True  # False: a remainder ("other SKUs"), never reported as a cause


@dataclass(frozen=True)
class Candidate:
    """A value that explains a factor's change: its part in cents, its explanatory power and
    its surprise."""

    dimension: Dimension
    value: Value
    factor: Factor
    amount: Decimal
    explanatory_power: Fraction
    surprise: float
    split: Decomposition


@dataclass(frozen=True)
class Explanation:
    """A dimension's explaining set for a factor."""

    dimension: Dimension
    factor: Factor
    surprise: float
    explained: Fraction  # the set's explanatory power
    candidates: tuple[Candidate, ...]


def js_surprise(expected: Fraction, actual: Fraction) -> float:
    """Adtributor's surprise of one value: the Jensen-Shannon divergence in bits between its
    expected share p and its actual share q (0 when both are 0; at most 1)."""
    total = expected + actual
    if total == 0:
        return 0.0
    result = 0.0
    for share in (expected, actual):
        if share > 0:
            result += 0.5 * float(share) * math.log2(float(2 * share / total))
    return max(result, 0.0)


def _shares(measures: Sequence[Fraction]) -> list[Fraction]:
    clipped = [max(m, Fraction(0)) for m in measures]
    whole = sum(clipped, Fraction(0))
    return [Fraction(0) if whole == 0 else m / whole for m in clipped]


def _measure(totals: PeriodTotals, factor: Factor) -> Fraction:
    if factor == Factor.VISITORS:
        return Fraction(totals.visitors)
    return Fraction(totals.gmv_cents)


def explain(dimension: Dimension, factor: Factor, values: Sequence[Value]) -> Explanation | None:
    """The smallest set of the dimension's named values, by surprise, explaining at least
    67 % of the factor's change over the dimension (None: no such set, or no change)."""
    splits = [decompose(v.base, v.comparison) for v in values]
    parts = [split.parts[factor] for split in splits]
    whole = sum(parts, Decimal(0))
    if whole == 0:
        return None
    expected = _shares([_measure(v.base, factor) for v in values])
    actual = _shares([_measure(v.comparison, factor) for v in values])
    found = [
        Candidate(
            dimension=dimension,
            value=value,
            factor=factor,
            amount=part,
            explanatory_power=Fraction(part) / Fraction(whole),
            surprise=js_surprise(p, q),
            split=split,
        )
        for value, split, part, p, q in zip(values, splits, parts, expected, actual, strict=True)
    ]
    found.sort(key=lambda c: (-c.surprise, -abs(c.amount), c.value.label, c.value.key))
    chosen: list[Candidate] = []
    explained = Fraction(0)
    for candidate in found:
        if not candidate.value.named or candidate.explanatory_power < VALUE_THRESHOLD:
            continue
        chosen.append(candidate)
        explained += candidate.explanatory_power
        if explained >= SET_THRESHOLD:
            if not any(c.surprise > 0 for c in chosen):
                return None  # the shares did not move: the dimension tells nothing
            return Explanation(
                dimension=dimension,
                factor=factor,
                surprise=sum(c.surprise for c in chosen),
                explained=explained,
                candidates=tuple(chosen),
            )
    return None


def rank(explanations: Sequence[Explanation | None]) -> list[Explanation]:
    """The explanations found, the most surprising dimension first (ties: the order of
    `Dimension`)."""
    order = {d: i for i, d in enumerate(Dimension)}
    found = [e for e in explanations if e is not None]
    return sorted(found, key=lambda e: (-e.surprise, order[e.dimension]))


def search(
    dimensions: Mapping[Dimension, Sequence[Value]], factors: Sequence[Factor]
) -> dict[Factor, list[Explanation]]:
    """Every factor's explanations over the dimensions, the most surprising first."""
    return {
        factor: rank([explain(d, factor, values) for d, values in dimensions.items()])
        for factor in factors
    }
