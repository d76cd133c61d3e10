"""Incremental spend of a campaign: the difference of mean spend per member, treated minus
holdout, with a Welch (unequal variances) normal interval, and optionally CUPED (Deng et al.
2013) with each member's pre-period spend as the covariate. Both work on per-arm summaries
(members, means, sample variances and covariance, as a warehouse's `var_samp`/`covar_samp`
give them), never on member rows. docs/reach.md, "Measuring lift"."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from newretail.reach.errors import InvalidLiftInput, LiftGap
from newretail.reach.intervals import Interval, check_count, check_finite, critical_value, undefined


@dataclass(frozen=True)
class SpendSummary:
    """One arm's spend per member in the attribution window (0 for a member who did not buy):
    members, mean and sample variance (n - 1); for CUPED also the pre-period spend's mean and
    sample variance and the sample covariance of the two (all three, or none)."""

    members: int
    mean: float
    variance: float
    pre_mean: float | None = None
    pre_variance: float | None = None
    covariance: float | None = None

    def __post_init__(self) -> None:
        check_count(self.members, "members")
        check_finite(self.mean, "mean")
        check_finite(self.variance, "variance", non_negative=True)
        pre_period = (self.pre_mean, self.pre_variance, self.covariance)
        if any(value is None for value in pre_period) and self.has_pre_period:
            raise InvalidLiftInput(
                "pre_mean, pre_variance and covariance go together", field="pre_mean"
            )
        if self.pre_mean is not None:
            check_finite(self.pre_mean, "pre_mean")
        if self.pre_variance is not None:
            check_finite(self.pre_variance, "pre_variance", non_negative=True)
        if self.covariance is not None:
            check_finite(self.covariance, "covariance")

    @property
    def has_pre_period(self) -> bool:
        """Whether the summary carries the pre-period covariate (any of its three figures)."""
        return any(v is not None for v in (self.pre_mean, self.pre_variance, self.covariance))

    @classmethod
    def of(cls, spend: Sequence[float], pre_spend: Sequence[float] | None = None) -> SpendSummary:
        """The summary of member-level figures (tests, small arms; the report's query
        computes the same aggregates in the warehouse)."""
        members = len(spend)
        mean = statistics.fmean(spend) if members else 0.0
        variance = statistics.variance(spend) if members >= 2 else 0.0
        if pre_spend is None:
            return cls(members, mean, variance)
        if len(pre_spend) != members:
            raise InvalidLiftInput("one pre-period spend per member", field="pre_spend")
        pre_mean = statistics.fmean(pre_spend) if members else 0.0
        if members < 2:
            return cls(members, mean, variance, pre_mean, 0.0, 0.0)
        pre_variance = statistics.variance(pre_spend)
        covariance = statistics.covariance(spend, pre_spend)
        return cls(members, mean, variance, pre_mean, pre_variance, covariance)


@dataclass(frozen=True)
class CupedDifference:
    """The CUPED-adjusted difference of mean spend and the pooled within-arm slope `theta`."""

    theta: float | None
    difference: Interval


def mean_difference_ci(
    treated: SpendSummary, holdout: SpendSummary, alpha: float = 0.05
) -> Interval:
    """Mean spend per member, treated minus holdout, with the Welch normal interval
    (statsmodels `CompareMeans(...).zconfint_diff(usevar="unequal")`)."""
    z = critical_value(alpha)
    gap = _arm_gap(treated, holdout)
    if gap is not None:
        return undefined(gap, _estimate_or_none(treated, holdout))
    difference = treated.mean - holdout.mean
    half = z * math.sqrt(treated.variance / treated.members + holdout.variance / holdout.members)
    return Interval(difference, difference - half, difference + half)


def cuped_difference_ci(
    treated: SpendSummary, holdout: SpendSummary, alpha: float = 0.05
) -> CupedDifference:
    """The difference of mean spend adjusted by the pre-period spend X:
    (Ȳt - Ȳh) - theta (X̄t - X̄h), theta the pooled within-arm slope of Y on X (exactly the
    treatment coefficient of OLS of Y on treatment and X), with the Welch normal interval of
    the adjusted outcome Y - theta X (exactly OLS of that outcome on treatment, HC2)."""
    z = critical_value(alpha)
    if not (treated.has_pre_period and holdout.has_pre_period):
        raise InvalidLiftInput("CUPED needs both arms' pre-period spend", field="pre_mean")
    gap = _arm_gap(treated, holdout)
    if gap is not None:
        return CupedDifference(None, undefined(gap))
    arms = (_PrePeriod.of(treated), _PrePeriod.of(holdout))
    sum_of_squares = sum((arm.members - 1) * arm.pre_variance for arm in arms)
    if sum_of_squares <= 0:
        return CupedDifference(None, undefined(LiftGap.NO_PRE_PERIOD_VARIANCE))
    theta = sum((arm.members - 1) * arm.covariance for arm in arms) / sum_of_squares
    difference = (treated.mean - holdout.mean) - theta * (arms[0].pre_mean - arms[1].pre_mean)
    variance = sum(arm.adjusted_variance(theta) / arm.members for arm in arms)
    half = z * math.sqrt(variance)
    return CupedDifference(theta, Interval(difference, difference - half, difference + half))


@dataclass(frozen=True)
class _PrePeriod:
    members: int
    variance: float
    pre_mean: float
    pre_variance: float
    covariance: float

    @classmethod
    def of(cls, summary: SpendSummary) -> _PrePeriod:
        assert summary.pre_mean is not None and summary.pre_variance is not None
        assert summary.covariance is not None
        return cls(
            summary.members,
            summary.variance,
            summary.pre_mean,
            summary.pre_variance,
            summary.covariance,
        )

    def adjusted_variance(self, theta: float) -> float:
        """Sample variance of Y - theta X in this arm (not below 0 through rounding)."""
        variance = self.variance - 2 * theta * self.covariance + theta**2 * self.pre_variance
        return max(variance, 0.0)


def _arm_gap(treated: SpendSummary, holdout: SpendSummary) -> LiftGap | None:
    if treated.members == 0 or holdout.members == 0:
        return LiftGap.EMPTY_ARM
    if treated.members < 2 or holdout.members < 2:
        return LiftGap.TOO_FEW_MEMBERS  # a sample variance needs two members
    return None


def _estimate_or_none(treated: SpendSummary, holdout: SpendSummary) -> float | None:
    if treated.members == 0 or holdout.members == 0:
        return None
    return treated.mean - holdout.mean
