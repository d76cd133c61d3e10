"""Validity in the organisation's local days: the last day holds until local midnight."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from newretail.core.localtime import zone
from newretail.marketing.basket import SaleContext
from newretail.marketing.engine import price_basket
from newretail.marketing.errors import InvalidOffer, RefusalCode
from newretail.marketing.offers import AmountOff, CombinationClass, OfferTemplate, Validity
from newretail.marketing.worked_examples import DOUBLE_11, ONLINE

SHANGHAI = zone("Asia/Shanghai")
DOUBLE_11_DAY = Validity(first_day=date(2026, 11, 11), last_day=date(2026, 11, 11))


def refusal(validity: Validity, at: datetime, context: SaleContext = ONLINE) -> RefusalCode | None:
    offer = OfferTemplate("D11", AmountOff(Decimal(10)), CombinationClass.ORDER, validity=validity)
    return price_basket(DOUBLE_11, [offer], at, context).refusal("D11")


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 11, 10, 23, 59, 59, tzinfo=SHANGHAI), RefusalCode.NOT_YET_VALID),
        (datetime(2026, 11, 11, 0, 0, tzinfo=SHANGHAI), None),
        (datetime(2026, 11, 11, 23, 59, tzinfo=SHANGHAI), None),
        (datetime(2026, 11, 11, 23, 59, 59, 999999, tzinfo=SHANGHAI), None),
        (datetime(2026, 11, 12, 0, 0, tzinfo=SHANGHAI), RefusalCode.EXPIRED),
        # the same instants in UTC: Shanghai's 11 November is [10th 16:00Z, 11th 16:00Z)
        (datetime(2026, 11, 10, 16, 0, tzinfo=UTC), None),
        (datetime(2026, 11, 11, 15, 59, tzinfo=UTC), None),
        (datetime(2026, 11, 11, 16, 0, tzinfo=UTC), RefusalCode.EXPIRED),
        # a naive instant is UTC
        (datetime(2026, 11, 11, 16, 0), RefusalCode.EXPIRED),
    ],
)
def test_fixed_days_run_from_local_midnight_to_local_midnight(
    at: datetime, expected: RefusalCode | None
) -> None:
    assert refusal(DOUBLE_11_DAY, at) == expected


def test_the_window_is_the_utc_instants_of_the_local_days() -> None:
    issued = datetime(2026, 11, 11, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai

    assert DOUBLE_11_DAY.window("Asia/Shanghai") == (
        datetime(2026, 11, 10, 16, 0, tzinfo=UTC),
        datetime(2026, 11, 11, 16, 0, tzinfo=UTC),
    )
    assert Validity(days_after_issue=3).window("Asia/Shanghai", issued) == (
        issued,
        datetime(2026, 11, 13, 16, 0, tzinfo=UTC),
    )
    assert Validity().window("Asia/Shanghai") == (None, None)
    with pytest.raises(InvalidOffer):
        Validity(days_after_issue=3).window("Asia/Shanghai")


def test_a_coupon_issued_after_its_campaign_is_never_valid() -> None:
    validity = Validity(last_day=date(2026, 11, 11), days_after_issue=7)
    issued = replace(ONLINE, issued_at={"D11": datetime(2026, 11, 12, 9, 0, tzinfo=SHANGHAI)})

    assert refusal(validity, datetime(2026, 11, 12, 10, 0, tzinfo=SHANGHAI), issued) == (
        RefusalCode.EXPIRED
    )


def test_the_day_is_the_organisations_not_utc() -> None:
    # 11 November 20:00 in New York is 12 November 01:00 in UTC and 09:00 in Shanghai
    at = datetime(2026, 11, 12, 1, 0, tzinfo=UTC)

    assert refusal(DOUBLE_11_DAY, at, replace(ONLINE, zone_name="America/New_York")) is None
    assert refusal(DOUBLE_11_DAY, at) == RefusalCode.EXPIRED


@pytest.mark.parametrize(
    ("days", "at", "expected"),
    [
        (1, datetime(2026, 11, 11, 21, 59, tzinfo=SHANGHAI), RefusalCode.NOT_YET_VALID),
        (1, datetime(2026, 11, 11, 22, 0, tzinfo=SHANGHAI), None),
        (1, datetime(2026, 11, 11, 23, 59, tzinfo=SHANGHAI), None),
        (1, datetime(2026, 11, 12, 0, 0, tzinfo=SHANGHAI), RefusalCode.EXPIRED),
        (3, datetime(2026, 11, 13, 23, 59, tzinfo=SHANGHAI), None),
        (3, datetime(2026, 11, 14, 0, 0, tzinfo=SHANGHAI), RefusalCode.EXPIRED),
    ],
)
def test_days_after_issue_count_the_local_day_of_issue_as_the_first(
    days: int, at: datetime, expected: RefusalCode | None
) -> None:
    issued = replace(ONLINE, issued_at={"D11": datetime(2026, 11, 11, 14, 0, tzinfo=UTC)})

    assert refusal(Validity(days_after_issue=days), at, issued) == expected


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of November 2026 in Shanghai."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("issued", "days", "at", "expected"),
    [
        # issued on the 9th: 7 days would run to the 15th, the campaign ends on the 11th
        (local(9, 12), 7, local(11, 23, 59), None),
        (local(9, 12), 7, local(12, 0), RefusalCode.EXPIRED),
        # issued on the 5th, before the campaign starts: valid from its first day
        (local(5, 12), 7, local(9, 23, 59), RefusalCode.NOT_YET_VALID),
        (local(5, 12), 7, local(10, 0), None),
        # issued on the 10th for 1 day only
        (local(10, 12), 1, local(10, 23, 59), None),
        (local(10, 12), 1, local(11, 0), RefusalCode.EXPIRED),
    ],
)
def test_days_after_issue_within_fixed_days_take_the_days_both_allow(
    issued: datetime, days: int, at: datetime, expected: RefusalCode | None
) -> None:
    validity = Validity(
        first_day=date(2026, 11, 10), last_day=date(2026, 11, 11), days_after_issue=days
    )

    assert refusal(validity, at, replace(ONLINE, issued_at={"D11": issued})) == expected


def test_an_offer_valid_after_issue_is_refused_without_an_issue_time() -> None:
    at = datetime(2026, 11, 11, 12, 0, tzinfo=SHANGHAI)

    assert refusal(Validity(days_after_issue=7), at) == RefusalCode.NOT_ISSUED
