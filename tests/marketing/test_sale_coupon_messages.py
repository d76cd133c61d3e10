"""A coupon a sale refuses, in the reader's language (the console renders domain errors)."""

from __future__ import annotations

from newretail.core.error_text import domain_error
from newretail.marketing.errors import LedgerError, LedgerErrorCode, RefusalCode
from newretail.marketing.sale_coupons import CouponRefused


def test_refusals_in_english_and_chinese() -> None:
    blocked = CouponRefused("coupons[1]", "SERUM-10PCT", RefusalCode.NOT_COMBINABLE, "LIPS-B2G1")
    assert (blocked.code, blocked.field, blocked.status_code) == (
        "not_combinable",
        "coupons[1]",
        422,
    )
    assert domain_error(blocked, "en") == "the offer SERUM-10PCT does not combine with LIPS-B2G1"
    assert domain_error(blocked, "zh-CN") == "优惠 SERUM-10PCT 不能与 LIPS-B2G1 同时使用。"
    used = LedgerError(LedgerErrorCode.COUPON_ALREADY_USED, field="coupons[0]")
    assert domain_error(used, "zh-CN") == "优惠券已被使用。"
    for reason in RefusalCode:
        refused = CouponRefused("coupons[0]", "X", reason, "Y")
        assert domain_error(refused, "zh-CN") != refused.message, reason
