"""Lift of a campaign against its holdout, from per-arm counts and spend summaries (pure, stdlib
only): the conversion difference with the Newcombe hybrid score interval, the rate ratio with
the log interval, incremental purchasers and GMV, cost per incremental purchaser, the
sample-ratio-mismatch check and the minimum detectable effect. Each figure equals what
statsmodels / scipy compute on the same inputs (tests/reach/test_lift.py); the formulas and
when to trust them are in docs/reach.md, "Measuring lift"."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

from newretail.reach.errors import InvalidLiftInput, LiftGap
from newretail.reach.intervals import (
    Interval,
    MoneyInterval,
    check_count,
    check_finite,
    check_level,
    critical_value,
    undefined,
)
from newretail.reach.spend_lift import SpendSummary, cuped_difference_ci, mean_difference_ci

# A sample-ratio mismatch this unlikely under the configured split means the assignment or
# the recording is broken, and no lift figure of the campaign can be trusted.
SAMPLE_RATIO_MISMATCH_P = 0.001
_STANDARD_NORMAL = NormalDist()


def _check_arm(converted: int, members: int, arm: str) -> None:
    check_count(members, f"{arm}_members")
    check_count(converted, f"{arm}_converted")
    if converted > members:
        raise InvalidLiftInput(
            f"{arm}: {converted} converted of {members} members", field=f"{arm}_converted"
        )


def wilson_interval(count: int, members: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of one proportion (statsmodels `proportion_confint`, "wilson")."""
    _check_arm(count, members, "arm")
    if members == 0:
        raise InvalidLiftInput("a proportion of no members", field="arm_members")
    z = critical_value(alpha)
    z2 = z**2
    rate = count / members
    denominator = 1 + z2 / members
    centre = (rate + z2 / (2 * members)) / denominator
    half = z * math.sqrt(rate * (1.0 - rate) / members + z2 / (4.0 * members**2)) / denominator
    return centre - half, centre + half


def proportions_diff_ci(x1: int, n1: int, x0: int, n0: int, alpha: float = 0.05) -> Interval:
    """Conversion rate treated (x1 of n1) minus holdout (x0 of n0), with the Newcombe hybrid
    score interval (Newcombe 1998, method 10: the two Wilson intervals combined)."""
    _check_arm(x1, n1, "treated")
    _check_arm(x0, n0, "holdout")
    check_level(alpha, "alpha")
    if n1 == 0 or n0 == 0:
        return undefined(LiftGap.EMPTY_ARM)
    p1, p0 = x1 / n1, x0 / n0
    low1, high1 = wilson_interval(x1, n1, alpha)
    low0, high0 = wilson_interval(x0, n0, alpha)
    difference = p1 - p0
    low = difference - math.sqrt((p1 - low1) ** 2 + (high0 - p0) ** 2)
    high = difference + math.sqrt((p0 - low0) ** 2 + (high1 - p1) ** 2)
    return Interval(difference, low, high)


def rate_ratio_ci(x1: int, n1: int, x0: int, n0: int, alpha: float = 0.05) -> Interval:
    """Conversion rate treated / holdout with the log interval (Katz): exp(log r ± z·se),
    se² = 1/x1 - 1/n1 + 1/x0 - 1/n0. No conversion in an arm leaves no interval (the log of
    0 or a division by 0), said by the gap; no conversion among the treated keeps r = 0."""
    _check_arm(x1, n1, "treated")
    _check_arm(x0, n0, "holdout")
    z = critical_value(alpha)
    if n1 == 0 or n0 == 0:
        return undefined(LiftGap.EMPTY_ARM)
    if x0 == 0:
        return undefined(LiftGap.NO_HOLDOUT_CONVERSIONS)
    if x1 == 0:
        return undefined(LiftGap.NO_TREATED_CONVERSIONS, 0.0)
    ratio = (x1 / n1) / (x0 / n0)
    half = z * math.sqrt(1 / x1 - 1 / n1 + 1 / x0 - 1 / n0)
    return Interval(ratio, math.exp(math.log(ratio) - half), math.exp(math.log(ratio) + half))


def relative_lift_ci(x1: int, n1: int, x0: int, n0: int, alpha: float = 0.05) -> Interval:
    """Relative lift, rate ratio - 1, with the log-ratio interval shifted likewise."""
    return rate_ratio_ci(x1, n1, x0, n0, alpha).shifted(-1.0)


def cost_per_incremental_purchaser(cost: Decimal, purchasers: Interval) -> MoneyInterval:
    """Campaign cost ÷ incremental purchasers, its interval cost ÷ the purchasers' bounds.
    None (gap `increment_not_established`) unless the purchasers' lower bound is above 0:
    with 0 inside the interval the quotient's interval runs to infinity and its point value
    (huge, or negative) means nothing."""
    check_finite(float(cost), "cost", non_negative=True)
    if purchasers.low is None or purchasers.high is None or purchasers.estimate is None:
        return MoneyInterval(None, None, None, purchasers.gap)
    if purchasers.low <= 0:
        return MoneyInterval(None, None, None, LiftGap.INCREMENT_NOT_ESTABLISHED)
    amount = float(cost)
    per = Interval(amount / purchasers.estimate, amount / purchasers.high, amount / purchasers.low)
    return per.money()


@dataclass(frozen=True)
class SampleRatioCheck:
    """Chi-square goodness of fit of the observed treated/holdout counts to the configured
    holdout share (1 degree of freedom); `mismatch` at p < 0.001."""

    expected_holdout_share: float
    observed_holdout_share: float | None
    chi_square: float
    p_value: float
    mismatch: bool


def sample_ratio_check(
    treated_members: int, holdout_members: int, holdout_share: float
) -> SampleRatioCheck:
    """Whether the arms' sizes fit the configured split (scipy `chisquare` with the expected
    counts; p = erfc(sqrt(chi²/2)), the chi-square survival function at 1 df)."""
    check_count(treated_members, "treated_members")
    check_count(holdout_members, "holdout_members")
    check_level(holdout_share, "holdout_share")
    total = treated_members + holdout_members
    if total == 0:
        return SampleRatioCheck(holdout_share, None, 0.0, 1.0, False)
    expected_treated = total * (1 - holdout_share)
    expected_holdout = total * holdout_share
    chi_square = (treated_members - expected_treated) ** 2 / expected_treated + (
        holdout_members - expected_holdout
    ) ** 2 / expected_holdout
    p_value = math.erfc(math.sqrt(chi_square / 2))
    observed = holdout_members / total
    return SampleRatioCheck(
        holdout_share, observed, chi_square, p_value, p_value < SAMPLE_RATIO_MISMATCH_P
    )


@dataclass(frozen=True)
class DetectableEffect:
    """The smallest true lift the current arm sizes detect with the given power: Cohen's h
    (the standardised effect statsmodels' `NormalIndPower` solves for), and the conversion
    rate difference it means on the holdout's rate (absolute, and relative to that rate)."""

    effect_size: float | None
    absolute: float | None
    relative: float | None
    gap: LiftGap | None = None


def _two_sided_power(shift: float, z: float) -> float:
    """Power of the two-sided z test when the statistic's mean is `shift` (both tails, as
    statsmodels' `normal_power`)."""
    return _STANDARD_NORMAL.cdf(shift - z) + _STANDARD_NORMAL.cdf(-shift - z)


def minimum_detectable_effect(
    treated_members: int,
    holdout_members: int,
    holdout_converted: int,
    alpha: float = 0.05,
    power: float = 0.8,
) -> DetectableEffect:
    """Solve NormalIndPower's equation power(h·sqrt(n1 n0 / (n1 + n0))) = power for Cohen's
    h (bisection to the last bit), then p1 = sin²(asin sqrt(p0) + h/2) on the holdout's p0."""
    check_count(treated_members, "treated_members")
    _check_arm(holdout_converted, holdout_members, "holdout")
    z = critical_value(alpha)
    check_level(power, "power")
    if power <= alpha:
        raise InvalidLiftInput("power must be above alpha", field="power")
    if treated_members == 0 or holdout_members == 0:
        return DetectableEffect(None, None, None, LiftGap.EMPTY_ARM)
    low, high = 0.0, z + _STANDARD_NORMAL.inv_cdf(power)  # power(high) >= power
    while True:
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if _two_sided_power(middle, z) < power:
            low = middle
        else:
            high = middle
    effective_members = 1 / (1 / treated_members + 1 / holdout_members)
    effect_size = high / math.sqrt(effective_members)
    holdout_rate = holdout_converted / holdout_members
    angle = math.asin(math.sqrt(holdout_rate)) + effect_size / 2
    if angle >= math.pi / 2:
        return DetectableEffect(effect_size, None, None, LiftGap.EFFECT_BEYOND_CERTAINTY)
    absolute = math.sin(angle) ** 2 - holdout_rate
    if holdout_converted == 0:
        return DetectableEffect(effect_size, absolute, None, LiftGap.NO_HOLDOUT_CONVERSIONS)
    return DetectableEffect(effect_size, absolute, absolute / holdout_rate)


@dataclass(frozen=True)
class Arm:
    """One arm of a campaign stage within the attribution window: members reached (or, in the
    holdout, who would have been), those who converted, and optionally their spend."""

    members: int
    converted: int
    spend: SpendSummary | None = None

    @property
    def rate(self) -> float | None:
        """Conversion rate, None for an empty arm."""
        return self.converted / self.members if self.members else None


@dataclass(frozen=True)
class LiftReport:
    """The lift of one campaign stage, for the report page and the API (dataclasses.asdict):
    rates and intervals as floats, money as Decimal cents."""

    alpha: float
    treated: Arm
    holdout: Arm
    treated_rate: float | None
    holdout_rate: float | None
    difference: Interval
    ratio: Interval
    relative_lift: Interval
    incremental_purchasers: Interval
    cost: Decimal | None
    cost_per_incremental_purchaser: MoneyInterval | None
    incremental_gmv: MoneyInterval | None
    incremental_gmv_cuped: MoneyInterval | None
    cuped_theta: float | None
    sample_ratio: SampleRatioCheck
    detectable_effect: DetectableEffect


def _check_spend(treated: Arm, holdout: Arm) -> None:
    """Spend of every member of both arms, and the pre-period covariate in both or neither."""
    for arm, name in ((treated, "treated"), (holdout, "holdout")):
        if arm.spend is not None and arm.spend.members != arm.members:
            raise InvalidLiftInput(
                f"{name}: spend of {arm.spend.members} members, {arm.members} in the arm",
                field=f"{name}_spend",
            )
    pre_periods = {arm.spend.has_pre_period if arm.spend else None for arm in (treated, holdout)}
    if len(pre_periods) > 1:
        raise InvalidLiftInput(
            "spend (and pre-period spend) of both arms, or of neither", field="holdout_spend"
        )


def lift_report(
    treated: Arm,
    holdout: Arm,
    *,
    holdout_share: float,
    cost: Decimal | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> LiftReport:
    """Every lift figure of one campaign stage from its two arms (treated and holdout)."""
    _check_spend(treated, holdout)
    counts = (treated.converted, treated.members, holdout.converted, holdout.members)
    difference = proportions_diff_ci(*counts, alpha=alpha)
    purchasers = difference.scaled(treated.members)
    gmv = cuped = theta = None
    if treated.spend is not None and holdout.spend is not None:
        gmv = mean_difference_ci(treated.spend, holdout.spend, alpha).scaled(treated.members)
        if treated.spend.has_pre_period:
            adjusted = cuped_difference_ci(treated.spend, holdout.spend, alpha)
            theta, cuped = adjusted.theta, adjusted.difference.scaled(treated.members)
    return LiftReport(
        alpha=alpha,
        treated=treated,
        holdout=holdout,
        treated_rate=treated.rate,
        holdout_rate=holdout.rate,
        difference=difference,
        ratio=rate_ratio_ci(*counts, alpha=alpha),
        relative_lift=relative_lift_ci(*counts, alpha=alpha),
        incremental_purchasers=purchasers,
        cost=cost,
        cost_per_incremental_purchaser=(
            None if cost is None else cost_per_incremental_purchaser(cost, purchasers)
        ),
        incremental_gmv=None if gmv is None else gmv.money(),
        incremental_gmv_cuped=None if cuped is None else cuped.money(),
        cuped_theta=theta,
        sample_ratio=sample_ratio_check(treated.members, holdout.members, holdout_share),
        detectable_effect=minimum_detectable_effect(
            treated.members, holdout.members, holdout.converted, alpha, power
        ),
    )
