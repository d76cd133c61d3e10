"""Codes of the marketing domain: why an offer was refused on a basket (shown by a till
and a checkout next to the offer) and the domain's own errors."""

from __future__ import annotations

from enum import StrEnum

from newretail.core.errors import InvalidInput


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
