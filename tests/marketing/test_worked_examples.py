"""Exact values of the worked examples (one per kind of offer and refusal, every pair of
combination classes); docs/marketing.md shows the same cases."""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations_with_replacement

import pytest

from newretail.marketing.engine import price_basket
from newretail.marketing.kind_examples import kind_cases
from newretail.marketing.offers import APPLICATION_ORDER
from newretail.marketing.worked_examples import PricingCase, pair_cases

CASES = [
    *kind_cases(),
    *(case for *_, both, apart in pair_cases() for case in (both, apart)),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_engine_prices_each_worked_example_exactly(case: PricingCase) -> None:
    result = price_basket(case.basket, case.offers, case.at, case.context)

    assert {a.code: str(a.discount) for a in result.applied} == dict(case.applied)
    assert {r.code: r.reason for r in result.refused} == dict(case.refused)
    assert str(result.total) == case.total
    if case.line_discounts is not None:
        assert tuple(str(line.discount) for line in result.lines) == case.line_discounts


def test_the_pair_cases_cover_every_pair_of_combination_classes() -> None:
    pairs = [(first, second) for first, second, *_ in pair_cases()]

    assert pairs == list(combinations_with_replacement(APPLICATION_ORDER, 2))
    for first, second, both, apart in pair_cases():
        assert [o.combination_class for o in both.offers] == [first, second]
        assert len(both.applied) == 2
        assert len(apart.applied) == 1
        assert len(apart.refused) == 1


def test_a_threshold_counts_the_price_after_product_offers() -> None:
    # D11-250-25 on 520.00 alone saves twice; after SERUM-20PCT (460.00) once.
    product_and_order = next(both for first, second, both, _ in pair_cases() if second == "order")
    alone = price_basket(
        product_and_order.basket,
        product_and_order.offers[1:],
        product_and_order.at,
        product_and_order.context,
    )

    assert [(a.code, a.times, a.discount) for a in alone.applied] == [
        ("D11-250-25", 2, Decimal("50.00"))
    ]
    both = price_basket(
        product_and_order.basket,
        product_and_order.offers,
        product_and_order.at,
        product_and_order.context,
    )
    assert [(a.code, a.times, a.discount) for a in both.applied] == [
        ("SERUM-20PCT", 1, Decimal("60.00")),
        ("D11-250-25", 1, Decimal("25.00")),
    ]


def test_buy_x_get_y_counts_free_units_per_multiple() -> None:
    per_multiple = next(case for case in kind_cases() if "3 free" in case.name)
    result = price_basket(
        per_multiple.basket, per_multiple.offers, per_multiple.at, per_multiple.context
    )

    assert [(a.code, a.reward_units) for a in result.applied] == [("LIPS-B2G1", 3)]
    # the two glosses (30.00) first, then one lipstick of seven (280.00 / 7)
    assert [line.charged for line in result.lines] == [Decimal("240.00"), Decimal("0.00")]


def test_a_free_gift_is_listed_with_its_offer() -> None:
    gift_case = next(case for case in kind_cases() if "gift" in case.name)
    result = price_basket(gift_case.basket, gift_case.offers, gift_case.at, gift_case.context)

    assert [(g.offer_code, g.quantity) for g in result.gifts] == [("GIFT-POUCH", 1)]
    assert result.discount == Decimal("0.00")
