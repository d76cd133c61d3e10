"""An estimate with its confidence interval, as the lift report carries it: floats for rates and
counts, Decimal cents for money; a missing value or bound comes with its reason (`LiftGap`)
instead of an inf or a NaN."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from statistics import NormalDist

from newretail.core.money import round_money
from newretail.reach.errors import InvalidLiftInput, LiftGap


@dataclass(frozen=True)
class Interval:
    """A point estimate and its two-sided interval; `gap` says why a part is None."""

    estimate: float | None
    low: float | None
    high: float | None
    gap: LiftGap | None = None

    def scaled(self, factor: float) -> Interval:
        """The same interval multiplied by a positive factor (a rate -> members)."""
        low, high = _times(self.low, factor), _times(self.high, factor)
        return Interval(_times(self.estimate, factor), low, high, self.gap)

    def shifted(self, offset: float) -> Interval:
        """The same interval moved by `offset` (a ratio -> a relative lift)."""
        low, high = _plus(self.low, offset), _plus(self.high, offset)
        return Interval(_plus(self.estimate, offset), low, high, self.gap)

    def money(self) -> MoneyInterval:
        """The interval in cents (the report's edge; the arithmetic stays in floats)."""
        return MoneyInterval(_cents(self.estimate), _cents(self.low), _cents(self.high), self.gap)


@dataclass(frozen=True)
class MoneyInterval:
    """An amount of money and its interval, in cents (halves away from zero)."""

    estimate: Decimal | None
    low: Decimal | None
    high: Decimal | None
    gap: LiftGap | None = None


def undefined(gap: LiftGap, estimate: float | None = None) -> Interval:
    """An interval that cannot be given, with its reason (and the estimate where it exists)."""
    return Interval(estimate, None, None, gap)


def critical_value(alpha: float) -> float:
    """z of a two-sided interval at level 1 - alpha (1.959963984540054 for 0.05)."""
    check_level(alpha, "alpha")
    return NormalDist().inv_cdf(1 - alpha / 2)


def check_level(value: float, field: str) -> None:
    """A probability strictly between 0 and 1 (alpha, power, a holdout share)."""
    if not (isinstance(value, int | float) and 0 < value < 1):
        raise InvalidLiftInput(f"{field} must be between 0 and 1, not {value!r}", field=field)


def check_count(value: int, field: str) -> None:
    """A whole number of members, zero or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidLiftInput(f"{field} must be a whole number >= 0, not {value!r}", field=field)


def check_finite(value: float, field: str, *, non_negative: bool = False) -> None:
    """A finite number (and not below zero where `non_negative`)."""
    if not math.isfinite(value) or (non_negative and value < 0):
        bound = " >= 0" if non_negative else ""
        raise InvalidLiftInput(
            f"{field} must be a finite number{bound}, not {value!r}", field=field
        )


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _plus(value: float | None, offset: float) -> float | None:
    return None if value is None else value + offset


def _cents(value: float | None) -> Decimal | None:
    return None if value is None else round_money(Decimal(value))
