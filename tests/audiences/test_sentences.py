"""Conditions as sentences in English and Chinese, with names instead of ids."""

from __future__ import annotations

from typing import Any

import pytest

from newretail.audiences import rules
from newretail.audiences.sentences import Names, Sentences
from newretail.core.i18n import translator

NAMES = Names(
    brands={"b-1": "Tea House"},
    stores={"s-1": "Jing'an", "s-2": "Xuhui"},
    products={"p-1": "Longjing"},
    audiences={"a-1": "Pre-sale carts"},
)

CASES: list[tuple[dict[str, Any], str, str]] = [
    (
        {
            "type": "behaviour",
            "events": ["add_to_cart", "purchase"],
            "brand_id": "b-1",
            "store_id": ["s-1", "s-2"],
            "product_id": ["p-1"],
            "channel": ["store", "vending"],
            "window": {"days": 30},
            "count": {"op": ">=", "value": 2},
            "amount": {"op": "<", "value": "100"},
        },
        "Had Add to cart or Purchase — brand Tea House, at Jing'an, Xuhui, products Longjing, "
        "on Shop, Vending machine, in the last 30 days, at least 2 times, spending less than 100",
        "有过加购或购买——品牌 Tea House，门店：Jing'an、Xuhui，商品：Longjing，"
        "渠道：门店、无人售货机，最近 30 天内，至少 2 次，金额少于 100",
    ),
    (
        {
            "type": "did_not",
            "events": ["purchase"],
            "category": ["Tea"],
            "window": {"from": "2026-10-20", "to": "2026-11-10"},
        },
        "Had no Purchase — categories Tea, from 2026-10-20 to 2026-11-10",
        "没有购买——品类：Tea，2026-10-20 至 2026-11-10",
    ),
    (
        {"type": "attribute", "field": "age_band", "op": "not_in", "values": ["18_24", "unknown"]},
        "Age band is not 18–24, unknown",
        "年龄段不是18–24 岁、未知",
    ),
    (
        {"type": "attribute", "field": "consent", "channel": "wechat"},
        "Marketing consent on WeChat",
        "已授权微信营销",
    ),
    (
        {"type": "aipl_stage", "brand_id": "b-1", "stages": ["I", "P"]},
        "Interested or Purchased for brand Tea House on the reference date",
        "参考日处于品牌 Tea House 的兴趣或购买阶段",
    ),
    (
        {"type": "recency", "bucket": "90_365", "brand_id": "b-1"},
        "Days since the last purchase: 90–365 days, brand Tea House",
        "距上次购买：90–365 天，品牌 Tea House",
    ),
    (
        {"not": {"type": "audience", "audience_id": "a-1"}},
        "not (In the audience “Pre-sale carts”)",
        "非（属于人群“Pre-sale carts”）",
    ),
]


@pytest.mark.parametrize(("tree", "english", "chinese"), CASES)
def test_conditions_read_as_sentences(tree: dict[str, Any], english: str, chinese: str) -> None:
    node = rules.parse_rules(tree)
    assert Sentences(translator("en"), NAMES).tree(node) == english
    assert Sentences(translator("zh-CN"), NAMES).tree(node) == chinese


def test_a_tree_reads_one_sentence_per_top_level_condition() -> None:
    node = rules.parse_rules(
        {
            "any": [
                {"type": "attribute", "field": "points", "op": ">=", "value": 500},
                {
                    "all": [
                        {"type": "recency", "bucket": "never"},
                        {"type": "attribute", "field": "city", "values": ["Shanghai"]},
                    ]
                },
            ]
        }
    )
    assert Sentences(translator("en"), NAMES).top_level(node) == [
        "Points at least 500",
        "all of (Days since the last purchase: never purchased; City is Shanghai)",
    ]
