"""Codes of the reach domain: its errors (text in en and zh-CN: `errors.<code>` in reach/locales),
and why a lift estimate has no value or interval."""

from __future__ import annotations

from enum import StrEnum

from newretail.core.errors import Conflict, InvalidInput, NotFound


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


class StageNotFound(NotFound):
    code = ReachErrorCode.STAGE_NOT_FOUND

    def __init__(self) -> None:
        super().__init__("the campaign has no such stage", field="stage")


class EndpointNotFound(NotFound):
    code = ReachErrorCode.ENDPOINT_NOT_FOUND

    def __init__(self) -> None:
        super().__init__("no such webhook endpoint", field="endpoint")


class DeliveryNotFound(NotFound):
    code = ReachErrorCode.DELIVERY_NOT_FOUND

    def __init__(self) -> None:
        super().__init__("no such webhook delivery", field="delivery")


class EndpointUrlInvalid(InvalidInput):
    """Not an absolute http(s) URL (https outside a loopback address)."""

    code = ReachErrorCode.ENDPOINT_URL_INVALID

    def __init__(self) -> None:
        super().__init__(
            "the URL must be https:// (http:// only for localhost or 127.0.0.1)", field="url"
        )


class DeliveryNotResendable(Conflict):
    """Only a dead (failed) or cancelled delivery is sent again by hand."""

    code = ReachErrorCode.DELIVERY_NOT_RESENDABLE

    def __init__(self) -> None:
        super().__init__(
            "only a failed or cancelled delivery can be resent; a pending one is still "
            "being retried and a delivered one has arrived",
            field="delivery",
        )


class DeliveryNotCancellable(Conflict):
    """Only a pending delivery is withdrawn."""

    code = ReachErrorCode.DELIVERY_NOT_CANCELLABLE

    def __init__(self) -> None:
        super().__init__("only a pending delivery can be cancelled", field="delivery")


class InboxMessageNotFound(NotFound):
    """No such message in the member's inbox (another member's, another organisation's)."""

    code = ReachErrorCode.INBOX_MESSAGE_NOT_FOUND

    def __init__(self) -> None:
        super().__init__("no such message in the member's inbox", field="message_id")
