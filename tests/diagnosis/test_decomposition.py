"""The exact decomposition of a GMV change: hand-computed examples, and properties checked
against computations written here independently (LMDI-I with 50-digit logarithms, Shapley by
walking the 6 orders of the three factors)."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newretail.diagnosis.decomposition import (
    Decomposition,
    Factor,
    Method,
    Period,
    PeriodTotals,
    QualityFlag,
    QualityIssue,
    decompose,
    decompose_group,
    log_mean,
    round_parts_to_cents,
    shapley_effects,
    split_product_change,
)

V, C, A = Factor.VISITORS, Factor.CONVERSION, Factor.ORDER_VALUE


def totals(visitors: int, buyers: int, gmv: str) -> PeriodTotals:
    return PeriodTotals(visitors, buyers, Decimal(gmv))


def parts(decomposition: Decomposition) -> tuple[Decimal, Decimal, Decimal]:
    return (
        decomposition.parts[V],
        decomposition.parts[C],
        decomposition.parts[A],
    )


# --- hand-computed examples -------------------------------------------------------------


def test_lmdi_worked_example_of_the_docs() -> None:
    # V 1000 -> 1200 (x1.2), C 50/1000 = 0.05 -> 54/1200 = 0.045 (x0.9),
    # A 5000/50 = 100 -> 5940/54 = 110 (x1.1); GMV 5000 -> 5940 (x1.188, +940.00).
    # L(5940, 5000) = 940 / ln 1.188 = 940 / 0.1722712209 = 5456.512091
    # ΔV = 5456.512091 × ln 1.2 (0.1823215568) =  994.8398 ->  994.84
    # ΔC = 5456.512091 × ln 0.9 (-0.1053605157) = -574.9009 -> -574.90
    # ΔA = 5456.512091 × ln 1.1 (0.0953101798)  =  520.0611 ->  520.06
    # 994.84 - 574.90 + 520.06 = 940.00: nearest cents already add up.
    result = decompose(totals(1000, 50, "5000.00"), totals(1200, 54, "5940.00"))
    assert result.method is Method.LMDI
    assert parts(result) == (Decimal("994.84"), Decimal("-574.90"), Decimal("520.06"))
    assert result.unattributed == Decimal("0.00")
    assert result.change == Decimal("940.00")
    assert result.flags == frozenset()


def test_lmdi_rounding_takes_the_excess_cent_from_the_part_rounded_up_most() -> None:
    # V 100 -> 110 (ln 1.1 = 0.0953101798), C 5/100 -> 4/110 (ln 0.7272727 = -0.3184537311),
    # A 480.00/5 = 96.00 -> 500.01/4 = 125.0025 (ln 1.3020833 = 0.2639855456);
    # L(50001, 48000) cents = 2001 / ln(50001/48000) = 2001 / 0.0408419943 = 48993.68979
    # exact: ΔV = 4669.5974, ΔC = -15602.2233, ΔA = 12933.6259 cents
    # nearest: 4670 - 15602 + 12934 = 2002, one cent more than the change 2001;
    # deviations exact - nearest: -0.4026, -0.2233, -0.3741 -> visitors was rounded up most,
    # so it gives the cent back: 4669 - 15602 + 12934 = 2001.
    result = decompose(totals(100, 5, "480.00"), totals(110, 4, "500.01"))
    assert result.method is Method.LMDI
    assert parts(result) == (Decimal("46.69"), Decimal("-156.02"), Decimal("129.34"))
    assert sum(parts(result)) == Decimal("20.01")


def test_shapley_differs_from_lmdi_on_the_same_figures() -> None:
    # The worked example by Shapley (3 factors: a factor's effect is 1/3 of its change times
    # the others both at base and both at comparison, 1/6 times each mixed pair):
    # ΔV = 200/3 × (0.05×100 + 0.045×110) + 200/6 × (0.05×110 + 0.045×100)
    #    = 200/3 × 9.95 + 200/6 × 10 = 1990/3 + 1000/3 = 2990/3 (996.67; LMDI 994.84)
    # ΔC = -0.005/3 × (1000×100 + 1200×110) - 0.005/6 × (1000×110 + 1200×100)
    #    = -1160/3 - 575/3 = -1735/3 (-578.33; LMDI -574.90)
    # ΔA = 10/3 × (1000×0.05 + 1200×0.045) + 10/6 × (1000×0.045 + 1200×0.05)
    #    = 1040/3 + 525/3 = 1565/3 (521.67; LMDI 520.06);   sum 2820/3 = 940
    base = {V: Fraction(1000), C: Fraction(5, 100), A: Fraction(100)}
    comparison = {V: Fraction(1200), C: Fraction(45, 1000), A: Fraction(110)}
    assert shapley_effects(base, comparison) == {
        V: Fraction(2990, 3),
        C: Fraction(-1735, 3),
        A: Fraction(1565, 3),
    }
    method, lmdi = split_product_change(base, comparison)
    assert method is Method.LMDI
    assert round(float(lmdi[V]), 2) == 994.84


def test_a_pop_up_that_opens_owes_its_gmv_to_traffic_and_one_that_closes_loses_it() -> None:
    # Base: closed (0, 0, 0): conversion and order value undefined, so they take the
    # comparison's 20/400 = 0.05 and 3000/20 = 150; V 0 -> 400 is the only factor that
    # moves: ΔV = 400 × 0.05 × 150 = 3000.00, by Shapley (V₀ = 0).
    opened = decompose(totals(0, 0, "0.00"), totals(400, 20, "3000.00"))
    assert opened.method is Method.SHAPLEY
    assert parts(opened) == (Decimal("3000.00"), Decimal("0.00"), Decimal("0.00"))
    closed = decompose(totals(400, 20, "3000.00"), totals(0, 0, "0.00"))
    assert parts(closed) == (Decimal("-3000.00"), Decimal("0.00"), Decimal("0.00"))


def test_a_period_without_buyers_splits_between_traffic_and_conversion() -> None:
    # Base 200 visitors, no buyer: C₀ = 0, A₀ undefined -> A₁ = 1500/15 = 100 (ΔA = 0).
    # C₁ = 15/300 = 0.05. Two moving factors, Shapley = average of the two orders:
    # ΔV = (300-200) × (0 + 0.05)/2 × 100 = 250.00
    # ΔC = (0.05 - 0) × (200 + 300)/2 × 100 = 1250.00;   250 + 1250 = 1500 = change
    result = decompose(totals(200, 0, "0.00"), totals(300, 15, "1500.00"))
    assert result.method is Method.SHAPLEY
    assert parts(result) == (Decimal("250.00"), Decimal("1250.00"), Decimal("0.00"))


def test_negative_gmv_goes_through_shapley_and_is_flagged() -> None:
    # Refunds above sales: A₀ = -100/10 = -10. V 100 -> 200, C 0.1 -> 0.2, A -10 -> 20.
    # ΔV = 100/3 × (0.1×-10 + 0.2×20) + 100/6 × (0.1×20 + 0.2×-10) = 100/3 × 3 + 0 = 100
    # ΔC = 0.1/3 × (100×-10 + 200×20) + 0.1/6 × (100×20 + 200×-10) = 0.1/3 × 3000 = 100
    # ΔA = 30/3 × (100×0.1 + 200×0.2) + 30/6 × (100×0.2 + 200×0.1) = 500 + 200 = 700
    # 100 + 100 + 700 = 900 = 800 - (-100)
    result = decompose(totals(100, 10, "-100.00"), totals(200, 40, "800.00"))
    assert result.method is Method.SHAPLEY
    assert parts(result) == (Decimal("100.00"), Decimal("100.00"), Decimal("700.00"))
    assert result.flags == {QualityFlag(QualityIssue.NEGATIVE_GMV, Period.BASE)}


def test_buyers_without_visitors_leave_the_change_unattributed_and_flagged() -> None:
    # A people counter silent while the till sells: conversion 3/0 is undefined.
    result = decompose(totals(0, 3, "100.00"), totals(200, 40, "800.00"))
    assert result.method is Method.UNATTRIBUTED
    assert parts(result) == (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    assert result.unattributed == Decimal("700.00")
    assert result.flags == {QualityFlag(QualityIssue.BUYERS_WITHOUT_VISITORS, Period.BASE)}


def test_refunds_without_a_buyer_leave_the_change_unattributed_and_flagged() -> None:
    result = decompose(totals(150, 6, "420.00"), totals(50, 0, "-30.00"))
    assert result.method is Method.UNATTRIBUTED
    assert result.unattributed == Decimal("-450.00")
    assert result.flags == {
        QualityFlag(QualityIssue.GMV_WITHOUT_BUYERS, Period.COMPARISON),
        QualityFlag(QualityIssue.NEGATIVE_GMV, Period.COMPARISON),
    }


def test_more_buyers_than_visitors_is_decomposed_and_flagged() -> None:
    # V 10 -> 20 (x2), C 12/10 -> 24/20 (x1), A 10 -> 10 (x1): all of +120.00 is traffic
    # (L × ln 2 with L = 120 / ln 2).
    result = decompose(totals(10, 12, "120.00"), totals(20, 24, "240.00"))
    assert result.method is Method.LMDI
    assert parts(result) == (Decimal("120.00"), Decimal("0.00"), Decimal("0.00"))
    assert result.flags == {
        QualityFlag(QualityIssue.CONVERSION_ABOVE_ONE, Period.BASE),
        QualityFlag(QualityIssue.CONVERSION_ABOVE_ONE, Period.COMPARISON),
    }


@pytest.mark.parametrize(
    ("base", "comparison", "method"),
    [
        (totals(0, 0, "0.00"), totals(0, 0, "0.00"), Method.SHAPLEY),
        (totals(80, 0, "0.00"), totals(120, 0, "0.00"), Method.SHAPLEY),
        (totals(0, 0, "0.00"), totals(120, 0, "0.00"), Method.SHAPLEY),
        (totals(300, 12, "987.65"), totals(300, 12, "987.65"), Method.LMDI),
    ],
)
def test_without_a_change_of_gmv_every_part_is_zero(
    base: PeriodTotals, comparison: PeriodTotals, method: Method
) -> None:
    result = decompose(base, comparison)
    assert result.method is method
    assert parts(result) == (Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    assert result.unattributed == Decimal("0.00")


def test_a_group_splits_into_stores_by_factors_without_residual() -> None:
    # The two stores above: 994.84 + 3000.00 = 3994.84 traffic, -574.90 conversion,
    # 520.06 order value; 3940.00 = (5940.00 + 3000.00) - 5000.00.
    group = decompose_group(
        {
            "SH-01": (totals(1000, 50, "5000.00"), totals(1200, 54, "5940.00")),
            "POP-UP": (totals(0, 0, "0.00"), totals(400, 20, "3000.00")),
        }
    )
    assert group.parts == {
        V: Decimal("3994.84"),
        C: Decimal("-574.90"),
        A: Decimal("520.06"),
    }
    assert group.change == Decimal("3940.00")
    assert group.unattributed == Decimal("0.00")
    assert group.stores["POP-UP"].parts[V] == Decimal("3000.00")


def test_an_empty_group_has_no_change() -> None:
    group = decompose_group({})
    assert group.change == Decimal("0.00")
    assert group.parts == {V: Decimal("0.00"), C: Decimal("0.00"), A: Decimal("0.00")}


@pytest.mark.parametrize(
    ("visitors", "buyers", "gmv"),
    [(-1, 0, "0.00"), (10, -2, "0.00"), (10, 2, "1.005")],
)
def test_period_totals_refuse_negative_counts_and_fractions_of_a_cent(
    visitors: int, buyers: int, gmv: str
) -> None:
    with pytest.raises(ValueError):
        totals(visitors, buyers, gmv)


def test_log_mean() -> None:
    assert log_mean(Fraction(7), Fraction(7)) == 7.0
    assert log_mean(Fraction(2), Fraction(1)) == 1 / math.log(2)  # (2-1)/(ln 2 - ln 1)
    assert log_mean(Fraction(1), Fraction(2)) == log_mean(Fraction(2), Fraction(1))


def test_rounding_ties_follow_the_tie_order_and_negation_negates() -> None:
    # 1/3 + 1/3 + 1/3 = 1 cent: all round to 0, the missing cent goes to the first in order.
    third = Fraction(1, 3)
    assert round_parts_to_cents({A: third, V: third, C: third}, 1, (V, C, A)) == {
        V: 1,
        C: 0,
        A: 0,
    }
    assert round_parts_to_cents({A: -third, V: -third, C: -third}, -1, (V, C, A)) == {
        V: -1,
        C: 0,
        A: 0,
    }
    # halves round away from zero: 0.5 -> 1, 0.5 -> 1, -1 -> -1, sum 1 for a total of 0;
    # V and C were both rounded up by half a cent, V (first in order) gives the cent back.
    halves = {V: Fraction(1, 2), C: Fraction(1, 2), A: Fraction(-1)}
    assert round_parts_to_cents(halves, 0, (V, C, A)) == {V: 0, C: 1, A: -1}
    assert round_parts_to_cents({k: -x for k, x in halves.items()}, 0, (V, C, A)) == {
        V: 0,
        C: -1,
        A: 1,
    }


# --- properties --------------------------------------------------------------------------

counts = st.one_of(st.just(0), st.integers(1, 50), st.integers(1, 10**6))
gmv_cents = st.one_of(st.just(0), st.integers(-(10**5), 10**5), st.integers(1, 10**11))


@st.composite
def any_totals(draw: st.DrawFn) -> PeriodTotals:
    """Any figures, including those that do not factor (buyers without visitors)."""
    return PeriodTotals(draw(counts), draw(counts), Decimal(draw(gmv_cents)) / 100)


@st.composite
def factorable_totals(draw: st.DrawFn) -> PeriodTotals:
    """Figures that factor: no buyer without a visitor, no GMV without a buyer."""
    visitors = draw(counts)
    buyers = draw(st.integers(0, visitors)) if visitors else 0
    gmv = draw(gmv_cents) if buyers else 0
    return PeriodTotals(visitors, buyers, Decimal(gmv) / 100)


def cents(amount: Decimal) -> int:
    return int(amount * 100)


def independent_factors(period: PeriodTotals, other: PeriodTotals) -> dict[Factor, Fraction]:
    """V, C, A in cents, an undefined ratio taking the other period's (else 0)."""
    conversion = (
        Fraction(period.buyers, period.visitors)
        if period.visitors
        else Fraction(other.buyers, other.visitors)
        if other.visitors
        else Fraction(0)
    )
    order_value = (
        Fraction(cents(period.gmv), period.buyers)
        if period.buyers
        else Fraction(cents(other.gmv), other.buyers)
        if other.buyers
        else Fraction(0)
    )
    return {V: Fraction(period.visitors), C: conversion, A: order_value}


def brute_force_shapley(
    base: dict[Factor, Fraction], comparison: dict[Factor, Fraction]
) -> dict[Factor, Fraction]:
    """Move the factors from base to comparison one at a time, in each of the 6 orders,
    and average each factor's marginal change of the product."""
    total = dict.fromkeys(Factor, Fraction(0))
    orders = list(itertools.permutations(Factor))
    for order in orders:
        current = dict(base)
        for factor in order:
            before = current[V] * current[C] * current[A]
            current[factor] = comparison[factor]
            total[factor] += current[V] * current[C] * current[A] - before
    return {factor: effect / len(orders) for factor, effect in total.items()}


def precise_lmdi(base: PeriodTotals, comparison: PeriodTotals) -> dict[Factor, Decimal]:
    """LMDI-I in cents with 50-digit logarithms."""
    with localcontext() as context:
        context.prec = 50

        def ln(value: Fraction) -> Decimal:
            return Decimal(value.numerator).ln() - Decimal(value.denominator).ln()

        old = independent_factors(base, comparison)
        new = independent_factors(comparison, base)
        gmv0, gmv1 = cents(base.gmv), cents(comparison.gmv)
        weight = (
            Decimal(gmv0)
            if gmv0 == gmv1
            else Decimal(gmv1 - gmv0) / (ln(Fraction(gmv1)) - ln(Fraction(gmv0)))
        )
        return {factor: weight * (ln(new[factor]) - ln(old[factor])) for factor in Factor}


def assert_parts_add_up(result: Decomposition) -> None:
    assert sum(result.parts.values()) + result.unattributed == result.change
    assert all(part == part.quantize(Decimal("0.01")) for part in result.parts.values())


@settings(max_examples=200, deadline=None)
@given(base=any_totals(), comparison=any_totals())
def test_parts_add_up_exactly_and_swapping_periods_negates_them(
    base: PeriodTotals, comparison: PeriodTotals
) -> None:
    forward = decompose(base, comparison)
    backward = decompose(comparison, base)
    assert_parts_add_up(forward)
    assert backward.method is forward.method
    assert backward.parts == {factor: -part for factor, part in forward.parts.items()}
    assert backward.unattributed == -forward.unattributed
    swapped = {Period.BASE: Period.COMPARISON, Period.COMPARISON: Period.BASE}
    assert backward.flags == {QualityFlag(f.issue, swapped[f.period]) for f in forward.flags}


@settings(max_examples=200, deadline=None)
@given(base=factorable_totals(), comparison=factorable_totals())
def test_each_method_where_it_applies_and_within_a_cent_of_an_independent_computation(
    base: PeriodTotals, comparison: PeriodTotals
) -> None:
    result = decompose(base, comparison)
    assert_parts_add_up(result)
    assert result.unattributed == 0
    positive = all(
        period.visitors > 0 and period.buyers > 0 and period.gmv > 0
        for period in (base, comparison)
    )
    if positive:
        assert result.method is Method.LMDI
        expected = precise_lmdi(base, comparison)
        for factor in Factor:
            # strictly within a cent, with a margin for the float logarithms
            error = abs(Decimal(cents(result.parts[factor])) - expected[factor])
            assert error < Decimal("1.0000001"), (factor, result, expected)
    else:
        assert result.method is Method.SHAPLEY
        old = independent_factors(base, comparison)
        new = independent_factors(comparison, base)
        expected_shapley = brute_force_shapley(old, new)
        assert shapley_effects(old, new) == expected_shapley
        for factor in Factor:
            assert abs(cents(result.parts[factor]) - expected_shapley[factor]) < 1


@settings(max_examples=200, deadline=None)
@given(
    base=factorable_totals(),
    comparison=factorable_totals(),
    order=st.permutations(list(Factor)),
)
def test_the_order_of_the_factors_changes_nothing(
    base: PeriodTotals, comparison: PeriodTotals, order: list[Factor]
) -> None:
    old = independent_factors(base, comparison)
    new = independent_factors(comparison, base)
    method, exact = split_product_change(old, new)
    reordered_method, reordered = split_product_change(
        {factor: old[factor] for factor in order}, {factor: new[factor] for factor in order}
    )
    assert reordered_method is method
    assert reordered == exact
    change = cents(comparison.gmv) - cents(base.gmv)
    assert round_parts_to_cents(
        {factor: exact[factor] for factor in order}, change, tuple(Factor)
    ) == round_parts_to_cents(exact, change, tuple(Factor))


@settings(max_examples=100, deadline=None)
@given(
    stores=st.lists(st.tuples(any_totals(), any_totals()), max_size=6),
    shuffle=st.randoms(use_true_random=False),
)
def test_a_group_is_the_sum_of_its_stores_in_any_order(
    stores: list[tuple[PeriodTotals, PeriodTotals]], shuffle: object
) -> None:
    keyed = {f"S{index}": pair for index, pair in enumerate(stores)}
    group = decompose_group(keyed)
    assert sum(group.parts.values()) + group.unattributed == group.change
    assert group.change == sum(
        (comparison.gmv - base.gmv for base, comparison in stores), Decimal("0.00")
    )
    for factor in Factor:
        assert group.parts[factor] == sum(
            (each.parts[factor] for each in group.stores.values()), Decimal("0.00")
        )
    keys = list(keyed)
    shuffle.shuffle(keys)  # type: ignore[attr-defined]
    reordered = decompose_group({key: keyed[key] for key in keys})
    assert reordered.parts == group.parts
    assert reordered.unattributed == group.unattributed
