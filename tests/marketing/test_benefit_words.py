"""An offer's benefit in words, as the console's offer list reads it, in both languages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel

from newretail.core.i18n import translator
from newretail.marketing import offer_specs as specs
from newretail.marketing.benefit_words import benefit_words

D = Decimal
CASES: list[tuple[BaseModel, str, str]] = [
    (specs.AmountOffSpec(kind="amount_off", amount=D("20.00")), "¥20 off", "立减 ¥20"),
    (
        specs.AmountOffSpec(kind="amount_off", amount=D("2.50"), per_unit=True),
        "¥2.50 off every unit",
        "每件立减 ¥2.50",
    ),
    (specs.PercentOffSpec(kind="percent_off", percent=D("10.00")), "10% off", "10% 折扣"),
    (
        specs.PercentOffSpec(kind="percent_off", percent=D("10"), cap=D("50.00")),
        "10% off, at most ¥50",
        "10% 折扣，最多减 ¥50",
    ),
    (
        specs.ThresholdSpec(kind="threshold", spend=D("300.00"), save=D("40.00")),
        "Spend ¥300, save ¥40",
        "满 ¥300 减 ¥40",
    ),
    (
        specs.ThresholdSpec(kind="threshold", spend=D("1000"), save=D("40"), repeat=True),
        "Spend ¥1,000, save ¥40, for every ¥1,000",
        "每满 ¥1,000 减 ¥40",
    ),
    (
        specs.ThresholdSpec(
            kind="threshold", spend=D("300"), save=D("40"), repeat=True, max_repeats=3
        ),
        "Spend ¥300, save ¥40, for every ¥300 (at most 3 times)",
        "每满 ¥300 减 ¥40（最多 3 次）",
    ),
    (specs.BuyXGetYSpec(kind="buy_x_get_y", buy=2, get=1), "Buy 2, get 1 free", "买 2 送 1"),
    (
        specs.BuyXGetYSpec(kind="buy_x_get_y", buy=1, get=1, percent_off=D("50.00")),
        "Buy 1, get 1 at 50% off",
        "买 1 件，另 1 件 50% 折扣",
    ),
]


@pytest.mark.parametrize(("benefit", "english", "chinese"), CASES)
def test_a_benefit_in_words(benefit: BaseModel, english: str, chinese: str) -> None:
    assert benefit_words(translator("en"), benefit) == english
    assert benefit_words(translator("zh-CN"), benefit) == chinese
