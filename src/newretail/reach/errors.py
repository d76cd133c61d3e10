"""Codes of the reach domain: its errors (text in en and zh-CN: `errors.<code>` in reach/locales),
and why a lift estimate has no value or interval."""

from __future__ import annotations

from enum import StrEnum

from newretail.core.errors import Conflict, InvalidInput, NewRetailError, NotFound


class ReachErrorCode(StrEnum):
    """Codes of the reach domain's errors."""

    INVALID_LIFT_INPUT = "invalid_lift_input"
    STAGE_NOT_FOUND = "campaign_stage_not_found"
    ENDPOINT_NOT_FOUND = "webhook_endpoint_not_found"
    DELIVERY_NOT_FOUND = "webhook_delivery_not_found"
    ENDPOINT_URL_INVALID = "webhook_endpoint_url_invalid"
    DELIVERY_NOT_RESENDABLE = "webhook_delivery_not_resendable"
    DELIVERY_NOT_CANCELLABLE = "webhook_delivery_not_cancellable"
    INBOX_MESSAGE_NOT_FOUND = "inbox_message_not_found"


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


# what each error below says, and the field at fault (the same every time it is raised)
_SAID: dict[ReachErrorCode, tuple[str, str]] = {
    ReachErrorCode.STAGE_NOT_FOUND: ("the campaign has no such stage", "stage"),
    ReachErrorCode.ENDPOINT_NOT_FOUND: ("no such webhook endpoint", "endpoint"),
    ReachErrorCode.DELIVERY_NOT_FOUND: ("no such webhook delivery", "delivery"),
    ReachErrorCode.ENDPOINT_URL_INVALID: (
        "the URL must be https:// (http:// only for localhost or 127.0.0.1)",
        "url",
    ),
    ReachErrorCode.DELIVERY_NOT_RESENDABLE: (
        "only a failed or cancelled delivery can be resent; a pending one is still "
        "being retried and a delivered one has arrived",
        "delivery",
    ),
    ReachErrorCode.DELIVERY_NOT_CANCELLABLE: (
        "only a pending delivery can be cancelled",
        "delivery",
    ),
    ReachErrorCode.INBOX_MESSAGE_NOT_FOUND: ("no such message in the member's inbox", "message_id"),
}


class _Said(NewRetailError):
    """A reach error raised without arguments: its code (in the class header) says the
    message and the field (`_SAID`); the other base gives the status."""

    code: ReachErrorCode

    def __init__(self) -> None:
        message, field = _SAID[self.code]
        super().__init__(message, field=field)


class StageNotFound(_Said, NotFound, code=ReachErrorCode.STAGE_NOT_FOUND):
    """The campaign has no stage at that position."""


class EndpointNotFound(_Said, NotFound, code=ReachErrorCode.ENDPOINT_NOT_FOUND):
    """No such webhook endpoint in the organisation."""


class DeliveryNotFound(_Said, NotFound, code=ReachErrorCode.DELIVERY_NOT_FOUND):
    """No such webhook delivery in the organisation."""


class EndpointUrlInvalid(_Said, InvalidInput, code=ReachErrorCode.ENDPOINT_URL_INVALID):
    """Not an absolute http(s) URL (https outside a loopback address)."""


class DeliveryNotResendable(_Said, Conflict, code=ReachErrorCode.DELIVERY_NOT_RESENDABLE):
    """Only a dead (failed) or cancelled delivery is sent again by hand."""


class DeliveryNotCancellable(_Said, Conflict, code=ReachErrorCode.DELIVERY_NOT_CANCELLABLE):
    """Only a pending delivery is withdrawn."""


class InboxMessageNotFound(_Said, NotFound, code=ReachErrorCode.INBOX_MESSAGE_NOT_FOUND):
    """No such message in the member's inbox (another member's, another organisation's)."""
