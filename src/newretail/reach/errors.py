"""Codes of the reach domain: its errors, and why a lift estimate has no value or interval."""

from __future__ import annotations

from enum import StrEnum

from newretail.core.errors import InvalidInput


class ReachErrorCode(StrEnum):
    """Codes of the reach domain's errors."""

    INVALID_LIFT_INPUT = "invalid_lift_input"


class InvalidLiftInput(InvalidInput):
    """Counts or spend figures a lift cannot be measured from (more converted members than
    members, a negative variance, a level outside (0, 1), ...)."""

    code = ReachErrorCode.INVALID_LIFT_INPUT


class LiftGap(StrEnum):
    """Why a lift figure is reported without a value or without an interval (never inf/NaN)."""

    EMPTY_ARM = "empty_arm"
    TOO_FEW_MEMBERS = "too_few_members"
    NO_HOLDOUT_CONVERSIONS = "no_holdout_conversions"
    NO_TREATED_CONVERSIONS = "no_treated_conversions"
    INCREMENT_NOT_ESTABLISHED = "increment_not_established"
    NO_PRE_PERIOD_VARIANCE = "no_pre_period_variance"
    EFFECT_BEYOND_CERTAINTY = "effect_beyond_certainty"
