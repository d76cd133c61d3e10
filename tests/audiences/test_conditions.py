"""Exact members for each condition type, compiled to one DuckDB query over a fixed history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newretail.audiences import compiler, rules
from newretail.audiences.tables import AUDIENCE_MEMBER_SCHEMA, AUDIENCE_MEMBER_TABLE
from tests.audiences.data import AS_OF, BRAND, BRANDS, OTHER_BRAND, ago, setup

SAVED = "saved-audience"


def members(con: Any, org: str, tree: dict[str, Any], **context: Any) -> list[str]:
    node = rules.parse_rules(tree)
    ctx = compiler.CompileContext(org, BRANDS, AS_OF, versions={SAVED: "v1"}, **context)
    expr = compiler.audience_members(con, node, ctx)
    return sorted(r["member_id"] for r in expr.to_pyarrow().to_pylist())


@pytest.fixture
def org(duck: Any) -> str:
    organization_id = str(uuid.uuid4())
    setup(duck, organization_id)
    return organization_id


def cart(**extra: Any) -> dict[str, Any]:
    return {"type": "behaviour", "events": ["add_to_cart"], **extra}


def bought(**extra: Any) -> dict[str, Any]:
    return {"type": "behaviour", "events": ["purchase"], **extra}


def attribute(field: str, **extra: Any) -> dict[str, Any]:
    return {"type": "attribute", "field": field, **extra}


def d(days: int) -> str:
    return ago(days).isoformat()


CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    # behaviour: window, brand, count, amount, filters
    ("cart 30 days", cart(window={"days": 30}), ["m1", "m2", "m8"]),
    ("cart 31 days", cart(window={"days": 31}), ["m1", "m2", "m3", "m8"]),
    ("cart brand", cart(window={"days": 30}, brand_id=BRAND), ["m1", "m2"]),
    ("cart from/to", cart(window={"from": d(10), "to": d(5)}), ["m1", "m2"]),
    ("cart >= 2", cart(count={"op": ">=", "value": 2}), ["m1", "m8"]),
    ("cart = 3", cart(count={"op": "=", "value": 3}), ["m8"]),
    ("cart > 1", cart(count={"op": ">", "value": 1}), ["m1", "m8"]),
    ("cart <= 1", cart(count={"op": "<=", "value": 1}), ["m2", "m3"]),
    ("spent >= 100", bought(amount={"op": ">=", "value": "100"}), ["m2", "m7"]),
    ("spent >= 250", bought(amount={"op": ">=", "value": "250.00"}), ["m2", "m7"]),
    ("spent > 250", bought(amount={"op": ">", "value": "250"}), ["m7"]),
    ("spent 30 days", bought(window={"days": 30}, amount={"op": ">=", "value": 100}), ["m2", "m7"]),
    ("spent 29 days", bought(window={"days": 29}, amount={"op": ">=", "value": 100}), ["m2"]),
    ("category top-level", cart(category=["鞋"]), ["m1"]),
    ("category in lines", bought(category=["鞋"]), ["m2"]),
    (
        "category either",
        {"type": "behaviour", "events": ["add_to_cart", "purchase"], "category": ["鞋"]},
        ["m1", "m2"],
    ),
    ("product in lines", bought(product_id=["p-3"]), ["m2"]),
    ("product top-level", cart(product_id=["p-1", "p-9"]), ["m1"]),
    (
        "store",
        {"type": "behaviour", "events": ["store_visit"], "store_id": ["popup-1"]},
        ["m4", "m6"],
    ),
    (
        "channel",
        {"type": "behaviour", "events": ["add_to_cart", "product_view"], "channel": ["online"]},
        ["m1", "m5"],
    ),
    (
        "brandless visit counts for a brand",
        {"type": "behaviour", "events": ["store_visit"], "brand_id": OTHER_BRAND},
        ["m4"],
    ),
    # did-not
    ("never bought", {"type": "did_not", "events": ["purchase"]}, ["m1", "m10", "m8"]),
    (
        "not bought 30 days",
        {"type": "did_not", "events": ["purchase"], "window": {"days": 30}},
        ["m1", "m10", "m3", "m4", "m5", "m6", "m8"],
    ),
    (
        "cart and did not buy",
        {
            "all": [
                cart(window={"days": 30}),
                {"type": "did_not", "events": ["purchase"], "window": {"days": 30}},
            ]
        },
        ["m1", "m8"],
    ),
    # recency buckets: days since the last purchase, [low, high)
    ("recency 0-30", {"type": "recency", "bucket": "0_30"}, ["m2", "m7"]),
    ("recency 30-60", {"type": "recency", "bucket": "30_60"}, ["m4"]),
    ("recency 60-90", {"type": "recency", "bucket": "60_90"}, []),
    ("recency 90-365", {"type": "recency", "bucket": "90_365"}, ["m3", "m5"]),
    ("recency 365+", {"type": "recency", "bucket": "365_plus"}, ["m6"]),
    ("recency never", {"type": "recency", "bucket": "never"}, ["m1", "m10", "m8"]),
    ("recency brand", {"type": "recency", "bucket": "30_60", "brand_id": BRAND}, []),
    (
        "recency never brand",
        {"type": "recency", "bucket": "never", "brand_id": BRAND},
        ["m1", "m10", "m4", "m8"],
    ),
    # attributes
    ("city", attribute("city", values=["Shanghai"]), ["m1", "m3", "m8"]),
    (
        "city not in (null included)",
        attribute("city", op="not_in", values=["Shanghai"]),
        ["m10", "m2", "m4", "m5", "m6", "m7"],
    ),
    ("gender", attribute("gender", values=["female"]), ["m1", "m3", "m7"]),
    ("gender unknown", attribute("gender", values=["unknown"]), ["m10", "m4"]),
    ("age 25-34", attribute("age_band", values=["25_34"]), ["m1", "m5"]),
    (
        "age 45-54 or under 18",
        attribute("age_band", values=["45_54", "under_18"]),
        ["m2", "m3", "m7"],
    ),
    ("age unknown", attribute("age_band", values=["unknown"]), ["m10"]),
    ("tier", attribute("tier", values=["Gold"]), ["m1", "m4"]),
    (
        "tier not in",
        attribute("tier", op="not_in", values=["Gold"]),
        ["m10", "m2", "m3", "m5", "m6", "m7", "m8"],
    ),
    ("points >= 300", attribute("points", op=">=", value=300), ["m1", "m2", "m4"]),
    ("points < 50", attribute("points", op="<", value=50), ["m10", "m5", "m6", "m7", "m8"]),
    ("consent any channel", attribute("consent"), ["m1", "m2", "m4"]),
    ("consent sms", attribute("consent", channel="sms"), ["m1", "m4"]),
    (
        "no consent",
        attribute("consent", granted=False),
        ["m10", "m3", "m5", "m6", "m7", "m8"],
    ),
    # AIPL stage on a date and transitions (the Data Bank's default windows)
    ("stage I", {"type": "aipl_stage", "brand_id": BRAND, "stages": ["I"]}, ["m1", "m4"]),
    (
        "stage P",
        {"type": "aipl_stage", "brand_id": BRAND, "stages": ["P"]},
        ["m3", "m5", "m6", "m7"],
    ),
    ("stage L", {"type": "aipl_stage", "brand_id": BRAND, "stages": ["L"]}, ["m2"]),
    (
        "stage earlier date",
        {"type": "aipl_stage", "brand_id": BRAND, "stages": ["I", "P"], "on": d(9)},
        ["m1", "m2", "m3", "m5", "m6", "m7"],
    ),
    (
        "new to I",
        {
            "type": "aipl_transition",
            "brand_id": BRAND,
            "from_date": d(20),
            "from_stages": ["none"],
            "to_stages": ["I"],
        },
        ["m1", "m4"],
    ),
    (
        "P to L",
        {
            "type": "aipl_transition",
            "brand_id": BRAND,
            "from_date": d(20),
            "from_stages": ["P"],
            "to_stages": ["L"],
        },
        ["m2"],
    ),
    # saved audiences and the boolean operators
    ("saved audience", {"type": "audience", "audience_id": SAVED}, ["m1", "m2"]),
    (
        "difference",
        {"all": [cart(), {"not": {"type": "audience", "audience_id": SAVED}}]},
        ["m3", "m8"],
    ),
    (
        "union",
        {"any": [{"type": "audience", "audience_id": SAVED}, attribute("tier", values=["Gold"])]},
        ["m1", "m2", "m4"],
    ),
    (
        "intersection",
        {
            "all": [
                {"type": "audience", "audience_id": SAVED},
                attribute("city", values=["Beijing"]),
            ]
        },
        ["m2"],
    ),
    (
        "any",
        {"any": [attribute("city", values=["Beijing"]), attribute("consent", channel="sms")]},
        ["m1", "m2", "m4", "m7"],
    ),
    ("not cart (tomorrow's ignored)", {"not": cart()}, ["m10", "m4", "m5", "m6", "m7"]),
    ("double not", {"not": {"not": attribute("tier", values=["Silver"])}}, ["m2", "m7"]),
]


def _store_saved(con: Any, org: str) -> None:
    now = datetime(2026, 4, 1, tzinfo=UTC)
    rows = [
        {"organization_id": org, "audience_id": SAVED, "version": v, "member_id": m, "since": now}
        # the old version v0 of the saved audience is not read
        for v, m in (("v1", "m1"), ("v1", "m2"), ("v0", "m3"))
    ]
    table = pa.Table.from_pylist(rows, schema=AUDIENCE_MEMBER_SCHEMA.to_pyarrow())
    con.insert(AUDIENCE_MEMBER_TABLE, ibis.memtable(table))


@pytest.mark.parametrize(("label", "tree", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_condition_gives_exact_members(
    duck: Any, org: str, label: str, tree: dict[str, Any], expected: list[str]
) -> None:
    _store_saved(duck, org)
    assert members(duck, org, tree) == expected, label


def test_other_organisations_events_and_members_never_count(duck: Any, org: str) -> None:
    other = str(uuid.uuid4())
    setup(duck, other)
    assert members(duck, org, cart(window={"days": 30})) == ["m1", "m2", "m8"]
    assert members(duck, str(uuid.uuid4()), cart()) == []


def test_the_whole_tree_is_one_query_with_one_scan_of_the_events(duck: Any, org: str) -> None:
    tree = {
        "all": [
            cart(window={"days": 30}),
            bought(amount={"op": ">=", "value": 10}),
            {"type": "did_not", "events": ["purchase"], "window": {"days": 7}},
            {"type": "recency", "bucket": "0_30"},
            attribute("city", values=["Beijing"]),
        ]
    }
    node = rules.parse_rules(tree)
    expr = compiler.audience_members(duck, node, compiler.CompileContext(org, BRANDS, AS_OF))
    sql = str(duck.compile(expr))
    assert sql.count('FROM "event"') == 1
    assert members(duck, org, tree) == []
    tree["all"].pop(2)
    assert members(duck, org, tree) == ["m2"]


_SAVED_FOR: set[str] = set()
UNIVERSE = {"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m10"}
LEAVES = [(tree, set(expected)) for _, tree, expected in CASES if "type" in tree]


def _trees(depth: int) -> st.SearchStrategy[tuple[dict[str, Any], set[str]]]:
    leaf = st.sampled_from(LEAVES)
    if depth == 0:
        return leaf
    inner = _trees(depth - 1)

    def group(key: str, parts: list[tuple[dict[str, Any], set[str]]]) -> tuple[Any, set[str]]:
        sets = [p[1] for p in parts]
        combined = set.intersection(*sets) if key == "all" else set.union(*sets)
        return {key: [p[0] for p in parts]}, combined

    return st.one_of(
        leaf,
        st.builds(lambda p: ({"not": p[0]}, UNIVERSE - p[1]), inner),
        st.builds(group, st.sampled_from(["all", "any"]), st.lists(inner, min_size=1, max_size=3)),
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=_trees(3))
def test_any_tree_of_conditions_is_the_set_algebra_of_its_leaves(
    duck: Any, org: str, case: tuple[dict[str, Any], set[str]]
) -> None:
    """One query for a random tree equals all=∩, any=∪, not=universe− of the exact leaves."""
    if org not in _SAVED_FOR:  # the fixtures live across the examples of one test
        _SAVED_FOR.add(org)
        _store_saved(duck, org)
    tree, expected = case
    try:
        node = rules.parse_rules(tree)
    except rules.RuleError:
        return  # over the size limits: refused, nothing to compare
    ctx = compiler.CompileContext(org, BRANDS, AS_OF, versions={SAVED: "v1"})
    found = compiler.audience_members(duck, node, ctx).to_pyarrow().to_pylist()
    assert sorted(r["member_id"] for r in found) == sorted(expected)
