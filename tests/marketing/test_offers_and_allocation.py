"""Templates refuse what cannot be priced; allocation splits exactly."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest

from newretail.core.money import round_money
from newretail.marketing.allocation import allocate
from newretail.marketing.engine import price_basket
from newretail.marketing.errors import InvalidOffer, MarketingErrorCode
from newretail.marketing.offers import (
    AmountOff,
    Benefit,
    BuyXGetY,
    CombinationClass,
    FreeGift,
    OfferTemplate,
    PercentOff,
    Threshold,
    Validity,
)
from newretail.marketing.worked_examples import AT, DOUBLE_11, ONLINE

D = Decimal


@pytest.mark.parametrize(
    ("benefit", "combination_class"),
    [
        (BuyXGetY(buy=2, get=1), CombinationClass.ORDER),
        (BuyXGetY(buy=2, get=1), CombinationClass.SHIPPING),
        (Threshold(D(100), D(10)), CombinationClass.SHIPPING),
        (FreeGift(uuid.uuid4()), CombinationClass.SHIPPING),
        (AmountOff(D(5), per_unit=True), CombinationClass.ORDER),
    ],
)
def test_a_benefit_takes_only_the_classes_it_can_apply_in(
    benefit: Benefit, combination_class: CombinationClass
) -> None:
    with pytest.raises(InvalidOffer) as refused:
        OfferTemplate("X", benefit, combination_class)

    assert refused.value.code == MarketingErrorCode.INVALID_OFFER == "invalid_offer"
    assert refused.value.field in {"combination_class", "per_unit"}


@pytest.mark.parametrize(
    "build",
    [
        lambda: AmountOff(D(0)),
        lambda: AmountOff(D("0.005")),
        lambda: PercentOff(D(0)),
        lambda: PercentOff(D("100.01")),
        lambda: PercentOff(D(10), cap=D(0)),
        lambda: Threshold(D(0), D(10)),
        lambda: Threshold(D(100), D(10), repeat=True, max_repeats=0),
        lambda: BuyXGetY(buy=0, get=1),
        lambda: BuyXGetY(buy=1, get=1, max_free_quantity=0),
        lambda: BuyXGetY(buy=1, get=1, percent_off=D(0)),
        lambda: FreeGift(uuid.uuid4(), quantity=0),
        lambda: Validity(first_day=date(2026, 11, 12), last_day=date(2026, 11, 11)),
        lambda: Validity(days_after_issue=0),
        lambda: OfferTemplate("", AmountOff(D(1)), CombinationClass.ORDER),
        lambda: OfferTemplate("X", AmountOff(D(1)), CombinationClass.ORDER, minimum_spend=D(-1)),
        lambda: OfferTemplate("X", AmountOff(D(1)), CombinationClass.ORDER, per_member_limit=0),
    ],
)
def test_invalid_templates_are_refused(build: object) -> None:
    with pytest.raises(InvalidOffer):
        build()  # type: ignore[operator]


def test_two_different_offers_under_one_code_are_refused() -> None:
    first = OfferTemplate("A", AmountOff(D(1)), CombinationClass.ORDER)
    other = OfferTemplate("A", AmountOff(D(2)), CombinationClass.ORDER)

    with pytest.raises(InvalidOffer, match="share the code A"):
        price_basket(DOUBLE_11, [first, other], AT, ONLINE)


def test_combining_needs_each_offer_to_name_the_other() -> None:
    first = OfferTemplate(
        "A", AmountOff(D(1)), CombinationClass.ORDER, combines_with=frozenset("B")
    )
    second = OfferTemplate("B", AmountOff(D(1)), CombinationClass.ORDER)
    both = OfferTemplate("B", AmountOff(D(1)), CombinationClass.ORDER, combines_with=frozenset("A"))

    assert not first.combines(second)
    assert not second.combines(first)
    assert first.combines(both) and both.combines(first)


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        ("10.00", ["10.00", "10.00", "10.00"], ["3.34", "3.33", "3.33"]),
        ("80.00", ["300.00", "100.00", "120.00"], ["46.15", "15.39", "18.46"]),
        ("0.01", ["1.00", "1.00"], ["0.01", "0.00"]),
        ("0.00", ["1.00"], ["0.00"]),
        ("5.00", ["0.00", "0.00"], ["0.00", "0.00"]),
        ("30.00", ["0.00", "10.00", "20.00"], ["0.00", "10.00", "20.00"]),
    ],
)
def test_allocation_by_largest_remainder(total: str, weights: list[str], shares: list[str]) -> None:
    assert [str(s) for s in allocate(D(total), [D(w) for w in weights])] == shares


def test_rounding_takes_halves_away_from_zero() -> None:
    assert [round_money(D(x)) for x in ("12.345", "12.344", "0.005")] == [
        D("12.35"),
        D("12.34"),
        D("0.01"),
    ]
