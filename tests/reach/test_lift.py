"""Lift statistics (newretail.reach.lift) against statsmodels and scipy on the same inputs,
the coverage of the difference's interval on simulated campaigns with a known effect, the
sample-ratio-mismatch check at its threshold, and the report's figures and gaps."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy.stats import chisquare
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from newretail.core.i18n import catalogue
from newretail.core.money import round_money
from newretail.reach.errors import InvalidLiftInput, LiftGap
from newretail.reach.intervals import Interval, MoneyInterval
from newretail.reach.lift import (
    Arm,
    LiftReport,
    cost_per_incremental_purchaser,
    lift_report,
    minimum_detectable_effect,
    proportions_diff_ci,
    rate_ratio_ci,
    relative_lift_ci,
    sample_ratio_check,
    wilson_interval,
)
from newretail.reach.spend_lift import SpendSummary, cuped_difference_ci, mean_difference_ci

# (treated converted, treated members, holdout converted, holdout members)
COUNTS = [
    (1, 7, 2, 9),  # small counts
    (3, 20, 1, 4),
    (0, 40, 5, 50),  # no treated conversion
    (6, 30, 0, 25),  # no holdout conversion
    (0, 12, 0, 15),  # nobody converted
    (10, 10, 3, 8),  # everyone treated converted
    (50, 1000, 5, 100),  # equal rates
    (400, 5000, 25, 500),
    (123_456, 1_000_000, 11_111, 100_000),  # large n
]
TOLERANCE = 1e-12  # absolute; the two differ only in float rounding (~1e-16)


@pytest.mark.parametrize(("x1", "n1", "x0", "n0"), COUNTS)
@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_difference_interval_is_statsmodels_newcombe(
    x1: int, n1: int, x0: int, n0: int, alpha: float
) -> None:
    low, high = confint_proportions_2indep(
        x1, n1, x0, n0, method="newcomb", compare="diff", alpha=alpha
    )
    interval = proportions_diff_ci(x1, n1, x0, n0, alpha)
    assert interval.estimate == x1 / n1 - x0 / n0
    assert interval.low == pytest.approx(low, abs=TOLERANCE, rel=0)
    assert interval.high == pytest.approx(high, abs=TOLERANCE, rel=0)
    assert interval.gap is None


@pytest.mark.parametrize(("x1", "n1", "x0", "n0"), [c for c in COUNTS if c[0] and c[2]])
def test_ratio_interval_is_statsmodels_log(x1: int, n1: int, x0: int, n0: int) -> None:
    low, high = confint_proportions_2indep(x1, n1, x0, n0, method="log", compare="ratio")
    ratio = rate_ratio_ci(x1, n1, x0, n0)
    assert ratio.low == pytest.approx(low, rel=TOLERANCE, abs=0)
    assert ratio.high == pytest.approx(high, rel=TOLERANCE, abs=0)
    lift = relative_lift_ci(x1, n1, x0, n0)
    assert lift == Interval(ratio.estimate - 1, ratio.low - 1, ratio.high - 1)  # type: ignore[operator]


@pytest.mark.parametrize(("count", "members"), [(0, 7), (3, 20), (9, 9), (11_111, 100_000)])
def test_wilson_interval_is_statsmodels(count: int, members: int) -> None:
    low, high = proportion_confint(count, members, alpha=0.05, method="wilson")
    assert wilson_interval(count, members) == (
        pytest.approx(low, abs=TOLERANCE, rel=0),
        pytest.approx(high, abs=TOLERANCE, rel=0),
    )


def test_equal_rates_give_a_ratio_of_one_inside_its_interval() -> None:
    ratio = rate_ratio_ci(50, 1000, 5, 100)
    assert ratio.estimate == 1.0
    assert ratio.low == pytest.approx(0.40818806, abs=1e-8)
    assert ratio.high == pytest.approx(2.44985119, abs=1e-8)


def test_zero_counts_give_reasons_not_infinities() -> None:
    # statsmodels divides by zero here (ZeroDivisionError on ints, inf/nan on floats)
    assert rate_ratio_ci(6, 30, 0, 25) == Interval(None, None, None, LiftGap.NO_HOLDOUT_CONVERSIONS)
    assert rate_ratio_ci(0, 40, 5, 50) == Interval(0.0, None, None, LiftGap.NO_TREATED_CONVERSIONS)
    assert relative_lift_ci(0, 40, 5, 50) == Interval(
        -1.0, None, None, LiftGap.NO_TREATED_CONVERSIONS
    )
    assert rate_ratio_ci(0, 12, 0, 15).gap is LiftGap.NO_HOLDOUT_CONVERSIONS
    assert proportions_diff_ci(3, 10, 0, 0) == Interval(None, None, None, LiftGap.EMPTY_ARM)
    assert rate_ratio_ci(0, 0, 3, 10) == Interval(None, None, None, LiftGap.EMPTY_ARM)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ((11, 10, 1, 10), "treated_converted"),
        ((1, 10, -1, 10), "holdout_converted"),
        ((1, 10, 1, 10, 1.5), "alpha"),
        ((1, 10, 1, 10, 0), "alpha"),
    ],
)
def test_impossible_counts_are_refused_by_field(arguments: tuple[float, ...], field: str) -> None:
    with pytest.raises(InvalidLiftInput) as refused:
        proportions_diff_ci(*arguments)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert refused.value.code == "invalid_lift_input"


def _simulated_coverage(seed: int, runs: int = 100) -> int:
    """Campaigns with holdout rate 5% and a true effect of +2 points (treated 7%), 5,000
    treated and 500 held out: how many 95% intervals of the difference cover the effect."""
    rng = random.Random(seed)
    p0, effect, n1, n0 = 0.05, 0.02, 5_000, 500
    covered = 0
    for _ in range(runs):
        x1 = sum(rng.random() < p0 + effect for _ in range(n1))
        x0 = sum(rng.random() < p0 for _ in range(n0))
        interval = proportions_diff_ci(x1, n1, x0, n0)
        assert interval.low is not None and interval.high is not None
        covered += interval.low <= effect <= interval.high
    return covered


@pytest.mark.parametrize(("seed", "covered"), [(14, 97), (2026, 95)])
def test_interval_covers_the_true_effect_in_simulated_campaigns(seed: int, covered: int) -> None:
    assert _simulated_coverage(seed) == covered
    assert covered >= 93


def test_sample_ratio_mismatch_is_flagged_below_one_in_a_thousand() -> None:
    mismatch = sample_ratio_check(9_100, 900, 0.1)
    statistic, p_value = chisquare([9_100, 900], f_exp=[9_000, 1_000])
    assert mismatch.chi_square == pytest.approx(statistic, rel=1e-12)
    assert mismatch.p_value == pytest.approx(p_value, rel=1e-12)
    assert mismatch.chi_square == pytest.approx(10 / 9 + 10, rel=1e-12)
    assert mismatch.p_value == pytest.approx(0.000858121, abs=1e-9)
    assert mismatch.mismatch is True
    assert mismatch.observed_holdout_share == 0.09

    fine = sample_ratio_check(9_020, 980, 0.1)
    statistic, p_value = chisquare([9_020, 980], f_exp=[9_000, 1_000])
    assert fine.chi_square == pytest.approx(statistic, rel=1e-12)
    assert fine.p_value == pytest.approx(p_value, rel=1e-12)
    assert fine.p_value == pytest.approx(0.504985075, abs=1e-9)
    assert fine.mismatch is False


@pytest.mark.parametrize(
    ("n1", "n0", "x0"), [(5_000, 500, 25), (9_000, 1_000, 120), (100, 10, 1), (900_000, 100_000, 0)]
)
def test_detectable_effect_solves_normal_ind_power(n1: int, n0: int, x0: int) -> None:
    effect = minimum_detectable_effect(n1, n0, x0)
    assert effect.effect_size is not None and effect.absolute is not None
    power = NormalIndPower()
    # the exact root of the equation statsmodels solves ...
    assert power.power(effect.effect_size, n1, 0.05, ratio=n0 / n1) == pytest.approx(0.8, abs=1e-12)
    # ... which its own solver only approaches: within 5e-4 relative (2.2e-4 at 1M members)
    solved = power.solve_power(nobs1=n1, alpha=0.05, power=0.8, ratio=n0 / n1)
    assert effect.effect_size == pytest.approx(solved, rel=5e-4)
    p0 = x0 / n0
    assert proportion_effectsize(p0 + effect.absolute, p0) == pytest.approx(
        effect.effect_size, rel=1e-12
    )


def test_detectable_effect_on_the_holdout_rate() -> None:
    effect = minimum_detectable_effect(5_000, 500, 25)
    assert effect.effect_size == pytest.approx(0.131405834, abs=1e-9)
    assert effect.absolute == pytest.approx(0.032436486, abs=1e-9)  # 5% -> 8.24% detectable
    assert effect.relative == pytest.approx(0.648729717, abs=1e-9)
    assert minimum_detectable_effect(5_000, 500, 0).gap is LiftGap.NO_HOLDOUT_CONVERSIONS
    assert minimum_detectable_effect(3, 2, 2).gap is LiftGap.EFFECT_BEYOND_CERTAINTY
    assert minimum_detectable_effect(0, 500, 25).gap is LiftGap.EMPTY_ARM


def _spend(
    rng: random.Random, members: int, rate: float, pre_rate: float
) -> tuple[list[float], list[float]]:
    """Zero-inflated spend per member, and pre-period spend from the same habit."""
    spend, pre = [], []
    for _ in range(members):
        habit = rng.lognormvariate(4, 0.8)
        bought_before = rng.random() < pre_rate
        pre.append(round(habit * rng.uniform(0.6, 1.4), 2) if bought_before else 0.0)
        buys = rng.random() < rate + (0.5 if bought_before else 0.0)
        spend.append(round(habit * rng.uniform(0.6, 1.4), 2) if buys else 0.0)
    return spend, pre


def test_spend_difference_is_statsmodels_welch_normal_interval() -> None:
    rng = random.Random(7)
    treated, _ = _spend(rng, 600, 0.12, 0.3)
    holdout, _ = _spend(rng, 80, 0.08, 0.3)
    interval = mean_difference_ci(SpendSummary.of(treated), SpendSummary.of(holdout))
    compare = CompareMeans(DescrStatsW(np.array(treated)), DescrStatsW(np.array(holdout)))
    low, high = compare.zconfint_diff(alpha=0.05, usevar="unequal")
    assert interval.estimate == pytest.approx(np.mean(treated) - np.mean(holdout), abs=1e-9)
    assert interval.low == pytest.approx(low, abs=1e-9)
    assert interval.high == pytest.approx(high, abs=1e-9)


def test_cuped_is_ols_with_the_pre_period_spend() -> None:
    rng = random.Random(11)
    treated, treated_pre = _spend(rng, 2_000, 0.12, 0.4)
    holdout, holdout_pre = _spend(rng, 200, 0.08, 0.4)
    result = cuped_difference_ci(
        SpendSummary.of(treated, treated_pre), SpendSummary.of(holdout, holdout_pre)
    )
    y = np.array(treated + holdout)
    x = np.array(treated_pre + holdout_pre)
    treatment = np.array([1.0] * len(treated) + [0.0] * len(holdout))
    design = np.column_stack([np.ones_like(y), treatment, x - x.mean()])
    fit = OLS(y, design).fit()
    # the estimate is OLS's treatment coefficient; theta its pre-period coefficient
    assert result.difference.estimate == pytest.approx(fit.params[1], abs=1e-9)
    assert result.theta == pytest.approx(fit.params[2], rel=1e-9)
    # the interval is Welch's on Y - theta (X - mean X): OLS of that outcome, HC2 errors
    adjusted = y - fit.params[2] * (x - x.mean())
    welch = OLS(adjusted, design[:, :2]).fit(cov_type="HC2")
    assert welch.params[1] == pytest.approx(fit.params[1], abs=1e-9)
    low, high = welch.conf_int(alpha=0.05)[1]
    assert result.difference.low == pytest.approx(low, abs=1e-9)
    assert result.difference.high == pytest.approx(high, abs=1e-9)
    plain = mean_difference_ci(SpendSummary.of(treated), SpendSummary.of(holdout))
    assert plain.low is not None and plain.high is not None
    assert result.difference.low is not None and result.difference.high is not None
    narrower = (result.difference.high - result.difference.low) / (plain.high - plain.low)
    assert narrower == pytest.approx(0.757365421, abs=1e-9)  # a quarter narrower


def test_cuped_without_pre_period_variance_says_so() -> None:
    flat = SpendSummary(10, 5.0, 4.0, 0.0, 0.0, 0.0)
    result = cuped_difference_ci(flat, flat)
    assert result.theta is None
    assert result.difference == Interval(None, None, None, LiftGap.NO_PRE_PERIOD_VARIANCE)
    with pytest.raises(InvalidLiftInput) as refused:
        SpendSummary(10, 5.0, 4.0, pre_mean=1.0)
    assert refused.value.field == "pre_mean"
    with pytest.raises(InvalidLiftInput) as refused:
        SpendSummary(10, 5.0, -4.0)
    assert refused.value.field == "variance"


def test_cost_per_incremental_purchaser_needs_an_established_increment() -> None:
    established = Interval(150.0, 40.0, 250.0)
    assert cost_per_incremental_purchaser(Decimal("10000.00"), established) == MoneyInterval(
        Decimal("66.67"), Decimal("40.00"), Decimal("250.00")
    )
    unclear = Interval(20.0, -30.0, 70.0)
    assert cost_per_incremental_purchaser(Decimal("10000.00"), unclear) == MoneyInterval(
        None, None, None, LiftGap.INCREMENT_NOT_ESTABLISHED
    )


def test_report_of_a_campaign_stage() -> None:
    treated_spend = SpendSummary(5_000, 30.0, 2_500.0)
    holdout_spend = SpendSummary(500, 22.0, 2_000.0)
    report = lift_report(
        Arm(5_000, 400, treated_spend),
        Arm(500, 25, holdout_spend),
        holdout_share=0.1,
        cost=Decimal("10000.00"),
    )
    assert (report.treated_rate, report.holdout_rate) == (0.08, 0.05)
    assert report.difference.estimate == pytest.approx(0.03, abs=1e-15)
    low, high = confint_proportions_2indep(400, 5_000, 25, 500, method="newcomb")
    assert report.incremental_purchasers.estimate == pytest.approx(150.0, abs=1e-9)
    assert report.incremental_purchasers.low == pytest.approx(low * 5_000, abs=1e-9)
    assert report.incremental_purchasers.high == pytest.approx(high * 5_000, abs=1e-9)
    assert report.cost_per_incremental_purchaser == MoneyInterval(
        Decimal("66.67"), Decimal("41.90"), Decimal("326.79")
    )
    # (30 - 22) × 5,000 = 40,000; half width 1.96 × sqrt(2500/5000 + 2000/500) × 5,000
    assert report.incremental_gmv == MoneyInterval(
        Decimal("40000.00"), Decimal("19211.44"), Decimal("60788.56")
    )
    assert report.incremental_gmv_cuped is None
    assert report.ratio.estimate == pytest.approx(1.6, abs=1e-12)
    # 500 of 5,500 is 9.1% against 10%: p = 0.025, unusual but above the 0.001 flag
    assert report.sample_ratio.p_value == pytest.approx(0.024618761, abs=1e-9)
    assert report.sample_ratio.mismatch is False
    assert report.detectable_effect.absolute == pytest.approx(0.032436486, abs=1e-9)

    body = json.loads(TypeAdapter(LiftReport).dump_json(report))
    assert body["incremental_gmv"] == {
        "estimate": "40000.00",
        "low": "19211.44",
        "high": "60788.56",
        "gap": None,
    }
    assert body["relative_lift"]["estimate"] == pytest.approx(0.6, abs=1e-12)


def test_report_with_pre_period_spend_adds_cuped() -> None:
    rng = random.Random(11)
    treated, treated_pre = _spend(rng, 2_000, 0.12, 0.4)
    holdout, holdout_pre = _spend(rng, 200, 0.08, 0.4)
    report = lift_report(
        Arm(2_000, sum(1 for value in treated if value), SpendSummary.of(treated, treated_pre)),
        Arm(200, sum(1 for value in holdout if value), SpendSummary.of(holdout, holdout_pre)),
        holdout_share=0.1,
    )
    y = np.array(treated + holdout)
    x = np.array(treated_pre + holdout_pre)
    treatment = np.array([1.0] * 2_000 + [0.0] * 200)
    fit = OLS(y, np.column_stack([np.ones_like(y), treatment, x - x.mean()])).fit()
    assert report.cuped_theta == pytest.approx(fit.params[2], rel=1e-9)
    assert report.incremental_gmv_cuped is not None and report.incremental_gmv is not None
    assert report.incremental_gmv_cuped.estimate == round_money(Decimal(fit.params[1] * 2_000))
    assert report.incremental_gmv.estimate == round_money(
        Decimal((np.mean(treated) - np.mean(holdout)) * 2_000)
    )
    assert report.cost is None and report.cost_per_incremental_purchaser is None


def test_report_before_anyone_is_held_out() -> None:
    report = lift_report(
        Arm(40, 3, SpendSummary(40, 2.5, 30.0)),
        Arm(0, 0, SpendSummary(0, 0.0, 0.0)),
        holdout_share=0.1,
        cost=Decimal("500.00"),
    )
    assert (report.treated_rate, report.holdout_rate) == (0.075, None)
    assert report.difference == Interval(None, None, None, LiftGap.EMPTY_ARM)
    assert report.ratio == Interval(None, None, None, LiftGap.EMPTY_ARM)
    assert report.incremental_purchasers == Interval(None, None, None, LiftGap.EMPTY_ARM)
    assert report.cost_per_incremental_purchaser == MoneyInterval(
        None, None, None, LiftGap.EMPTY_ARM
    )
    assert report.incremental_gmv == MoneyInterval(None, None, None, LiftGap.EMPTY_ARM)
    assert report.detectable_effect.gap is LiftGap.EMPTY_ARM
    # 40 treated and none held out against a 10% share: chi² = 4.444..., p = 0.035
    assert report.sample_ratio.chi_square == pytest.approx(40 / 9, rel=1e-12)
    assert report.sample_ratio.mismatch is False


def test_spend_of_a_single_member_has_no_interval() -> None:
    one = SpendSummary.of([12.5])
    assert one == SpendSummary(1, 12.5, 0.0)
    assert mean_difference_ci(SpendSummary.of([20.0, 30.0]), one) == Interval(
        12.5, None, None, LiftGap.TOO_FEW_MEMBERS
    )


def test_report_refuses_spend_of_another_arm_size() -> None:
    with pytest.raises(InvalidLiftInput) as refused:
        lift_report(
            Arm(10, 2, SpendSummary(9, 1.0, 1.0)),
            Arm(5, 1, SpendSummary(5, 1.0, 1.0)),
            holdout_share=0.3,
        )
    assert refused.value.field == "treated_spend"
    with pytest.raises(InvalidLiftInput) as refused:
        lift_report(
            Arm(10, 2, SpendSummary(10, 1.0, 1.0, 0.5, 1.0, 0.2)),
            Arm(5, 1, SpendSummary(5, 1.0, 1.0)),
            holdout_share=0.3,
        )
    assert refused.value.field == "holdout_spend"


def test_every_gap_reads_in_english_and_chinese() -> None:
    for locale in ("en", "zh-CN"):
        messages = catalogue(locale)
        assert all(f"reach.lift_gap.{gap}" in messages for gap in LiftGap)
        assert "errors.invalid_lift_input" in messages
