"""Codes of the marketing domain: why an offer was refused on a basket (shown by a till
and a checkout next to the offer), why the coupon or budget ledger refused a change, and the
domain's own errors."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from newretail.core.errors import InvalidInput, NewRetailError


class RefusalCode(StrEnum):
    """Why `price_basket` did not apply an offer to a basket."""

    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    NOT_ISSUED = "not_issued"
    WRONG_CHANNEL = "wrong_channel"
    OUT_OF_SCOPE = "out_of_scope"
    NOT_COMBINABLE = "not_combinable"
    BELOW_MINIMUM_SPEND = "below_minimum_spend"
    BELOW_MINIMUM_QUANTITY = "below_minimum_quantity"
    NOTHING_TO_DISCOUNT = "nothing_to_discount"
    DUPLICATE = "duplicate"


class MarketingErrorCode(StrEnum):
    """Codes of the marketing domain's errors."""

    INVALID_OFFER = "invalid_offer"


class InvalidOffer(InvalidInput):
    """An offer template that cannot be priced (a percent over 100, a benefit its
    combination class does not allow, ...)."""

    code = MarketingErrorCode.INVALID_OFFER


class LedgerErrorCode(StrEnum):
    COUPON_NOT_FOUND = "coupon_not_found"
    COUPON_ALREADY_USED = "coupon_already_used"
    COUPON_RESERVED = "coupon_reserved"
    COUPON_NOT_VALID_YET = "coupon_not_valid_yet"
    COUPON_EXPIRED = "coupon_expired"
    COUPON_VOIDED = "coupon_voided"
    COUPON_NOT_YOURS = "coupon_not_yours"
    BUDGET_SPENT = "budget_spent"
    MEMBER_LIMIT = "member_limit"
    CLAIM_LIMIT = "claim_limit"


_MESSAGES = {
    LedgerErrorCode.COUPON_NOT_FOUND: "no such coupon",
    LedgerErrorCode.COUPON_ALREADY_USED: "the coupon has already been used",
    LedgerErrorCode.COUPON_RESERVED: "the coupon is held by another till or checkout",
    LedgerErrorCode.COUPON_NOT_VALID_YET: "the coupon is not valid yet",
    LedgerErrorCode.COUPON_EXPIRED: "the coupon has expired",
    LedgerErrorCode.COUPON_VOIDED: "the coupon was withdrawn",
    LedgerErrorCode.COUPON_NOT_YOURS: "the coupon belongs to another member",
    LedgerErrorCode.BUDGET_SPENT: "the budget {budget} is spent",
    LedgerErrorCode.MEMBER_LIMIT: "the member holds as many coupons of the offer as it allows",
    LedgerErrorCode.CLAIM_LIMIT: "the code {claim_code} has been claimed as often as it allows",
}
_STATUS = {LedgerErrorCode.COUPON_NOT_FOUND: 404}


class LedgerError(NewRetailError):
    """A coupon or budget change the ledger refused; `code` says why."""

    code: LedgerErrorCode

    def __init__(self, code: LedgerErrorCode, *, field: str = "coupon", **values: Any) -> None:
        super().__init__(_MESSAGES[code].format(**values), field=field)
        self.code = code
        self.status_code = _STATUS.get(code, 409)


class BudgetSpent(LedgerError):
    def __init__(self, *, budget: str) -> None:
        super().__init__(LedgerErrorCode.BUDGET_SPENT, field="budget", budget=budget)
