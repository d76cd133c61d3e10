"""Validation of the rule language: every fault is named by its path in the tree."""

from __future__ import annotations

from typing import Any

import pytest

from newretail.audiences import rules

CART = {"type": "behaviour", "events": ["add_to_cart"]}

FAULTS: list[tuple[Any, str, str]] = [
    (
        {"all": [CART, CART, {**CART, "window": {"days": 0}}]},
        "rules.all[2].window.days",
        "must be at least 1",
    ),
    ({"all": []}, "rules.all", "needs at least 1 item(s)"),
    ({"any": {"type": "x"}}, "rules.any", "must be a list of rules"),
    ({"not": [CART]}, "rules.not", "must be an object"),
    ({"all": [CART], "any": [CART]}, "rules.any", "a all group holds only its all key"),
    ({"events": ["x"]}, "rules.type", "is required (or use all, any, not)"),
    (
        {"type": "bought"},
        "rules.type",
        "must be one of behaviour, did_not, aipl_stage, aipl_transition, recency, audience, "
        "attribute",
    ),
    ({"type": "behaviour"}, "rules.events", "is required"),
    ({**CART, "colour": "red"}, "rules.colour", "is not a known field"),
    ({**CART, "window": {"days": 5000}}, "rules.window.days", "must be at most 3660"),
    (
        {**CART, "window": {"from": "2026-05-02", "to": "2026-05-01"}},
        "rules.window",
        "to must not be before from",
    ),
    ({**CART, "window": {}}, "rules.window", "give either days or both from and to"),
    (
        {**CART, "count": {"op": "<", "value": 1}},
        "rules",
        "a behaviour needs at least one event; use did_not for none",
    ),
    (
        {**CART, "count": {"op": "~", "value": 1}},
        "rules.count.op",
        "must be one of '>=', '>', '=', '!=', '<=' or '<'",
    ),
    ({**CART, "amount": {"value": -1}}, "rules.amount.value", "must be at least 0"),
    ({**CART, "category": []}, "rules.category", "needs at least 1 item(s)"),
    (
        {"not": {"any": [CART, {"type": "attribute", "field": "shoe_size"}]}},
        "rules.not.any[1].field",
        "must be one of city, gender, age_band, tier, points, consent",
    ),
    (
        {"type": "attribute", "field": "age_band", "values": ["30s"]},
        "rules",
        "'30s' is not one of under_18, 18_24, 25_34, 35_44, 45_54, 55_plus, unknown",
    ),
    (
        {"type": "aipl_stage", "brand_id": "b", "stages": ["X"]},
        "rules.stages[0]",
        "must be one of 'A', 'I', 'P' or 'L'",
    ),
    (
        {
            "type": "aipl_transition",
            "brand_id": "b",
            "from_date": "2026-05-01",
            "to_date": "2026-05-01",
            "from_stages": ["A"],
            "to_stages": ["I"],
        },
        "rules",
        "to_date must be after from_date",
    ),
    (
        {"type": "recency", "bucket": "1_2"},
        "rules.bucket",
        "must be one of '0_30', '30_60', '60_90', '90_365', '365_plus' or 'never'",
    ),
    ("everyone", "rules", "must be an object"),
]


@pytest.mark.parametrize(("tree", "path", "reason"), FAULTS)
def test_faults_name_their_path(tree: Any, path: str, reason: str) -> None:
    with pytest.raises(rules.RuleError) as caught:
        rules.parse_rules(tree)
    assert (caught.value.field, caught.value.reason) == (path, reason)
    assert caught.value.message == f"{path}: {reason}"
    assert caught.value.status_code == 422


def test_depth_and_size_are_bounded() -> None:
    deep: dict[str, Any] = CART
    for _ in range(8):
        deep = {"not": deep}
    with pytest.raises(rules.RuleError) as caught:
        rules.parse_rules(deep)
    assert caught.value.field == "rules" + ".not" * 8
    with pytest.raises(rules.RuleError) as many:
        rules.parse_rules({"any": [CART] * 51})
    assert (many.value.field, many.value.reason) == (
        "rules.any[50]",
        "a rule tree holds at most 50 conditions",
    )


def test_a_valid_tree_round_trips_to_its_canonical_json() -> None:
    tree = {
        "all": [
            {**CART, "window": {"from": "2026-05-01", "to": "2026-05-20"}, "count": {"value": 2}},
            {"not": {"type": "attribute", "field": "consent", "channel": "sms"}},
        ]
    }
    node = rules.parse_rules(tree)
    assert rules.dump(node) == {
        "all": [
            {
                "type": "behaviour",
                "events": ["add_to_cart"],
                "window": {"from": "2026-05-01", "to": "2026-05-20"},
                "count": {"op": ">=", "value": 2},
            },
            {"not": {"type": "attribute", "field": "consent", "granted": True, "channel": "sms"}},
        ]
    }
    assert rules.dump(rules.parse_rules(rules.dump(node))) == rules.dump(node)
    assert [c.path for c in rules.conditions(node)] == ["rules.all[0]", "rules.all[1].not"]
