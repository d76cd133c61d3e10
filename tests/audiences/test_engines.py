"""The same audience gives the same members on DuckDB, PostgreSQL and PySpark."""

from __future__ import annotations

import gc
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from newretail.audiences import compiler, queries, refreshing, rules
from tests.audiences.data import AS_OF, BRAND, BRANDS, ago, setup

TREES: list[dict[str, Any]] = [
    {
        "all": [
            {"type": "behaviour", "events": ["add_to_cart"], "window": {"days": 30}},
            {"type": "did_not", "events": ["purchase"], "window": {"days": 30}},
        ]
    },
    {
        "any": [
            {
                "type": "behaviour",
                "events": ["purchase"],
                "category": ["鞋"],
                "amount": {"op": ">=", "value": "100.00"},
            },
            {"type": "recency", "bucket": "90_365"},
            {"type": "attribute", "field": "age_band", "values": ["55_plus"]},
        ]
    },
    {
        "all": [
            {"type": "aipl_stage", "brand_id": BRAND, "stages": ["I", "P", "L"]},
            {"not": {"type": "attribute", "field": "consent", "channel": "sms"}},
            {
                "not": {
                    "type": "aipl_transition",
                    "brand_id": BRAND,
                    "from_date": ago(20).isoformat(),
                    "from_stages": ["P"],
                    "to_stages": ["L"],
                }
            },
        ]
    },
    {"all": [{"type": "behaviour", "events": ["add_to_cart"], "count": {"value": 2}}]},
]
EXPECTED = [["m1", "m8"], ["m2", "m3", "m4", "m5"], ["m3", "m5", "m6", "m7"], ["m1", "m8"]]


def _members(con: Any) -> list[list[str]]:
    org = str(uuid.uuid4())
    setup(con, org)
    found = []
    for tree in TREES:
        expr = compiler.audience_members(
            con, rules.parse_rules(tree), compiler.CompileContext(org, BRANDS, AS_OF)
        )
        found.append(sorted(r["member_id"] for r in expr.to_pyarrow().to_pylist()))
    return found


def test_duckdb_members(duck: Any) -> None:
    assert _members(duck) == EXPECTED


@pytest.mark.postgres
def test_postgres_agrees(pg_warehouse: Any) -> None:
    assert _members(pg_warehouse) == EXPECTED


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_pyspark_agrees(spark_warehouse: Any) -> None:
    try:
        assert _members(spark_warehouse) == EXPECTED
    finally:
        gc.collect()


def _stored(con: Any) -> list[Any]:
    org = str(uuid.uuid4())
    setup(con, org)
    context = compiler.CompileContext(org, BRANDS, AS_OF)
    first_at = datetime(2026, 4, 30, 8, tzinfo=UTC)
    second_at = datetime(2026, 5, 1, 8, tzinfo=UTC)
    v1, v2 = uuid.uuid4().hex, uuid.uuid4().hex
    carts = compiler.audience_members(con, rules.parse_rules(TREES[3]), context)
    first = refreshing.store_version(con, carts, org, "aud", None, v1, first_at)
    wider = compiler.audience_members(
        con, rules.parse_rules({"type": "behaviour", "events": ["add_to_cart"]}), context
    )
    second = refreshing.store_version(con, wider, org, "aud", v1, v2, second_at)
    rows = queries.stored_members(con, org, "aud", v2).to_pyarrow().to_pylist()
    since = sorted((r["member_id"], r["since"].astimezone(UTC)) for r in rows)
    return [first, second, since]


def _expected_versions() -> list[Any]:
    first_at = datetime(2026, 4, 30, 8, tzinfo=UTC)
    second_at = datetime(2026, 5, 1, 8, tzinfo=UTC)
    return [
        (2, 0),
        (4, 2),
        [("m1", first_at), ("m2", second_at), ("m3", second_at), ("m8", first_at)],
    ]


@pytest.mark.postgres
def test_versions_keep_since_on_duckdb_and_postgres(duck: Any, pg_warehouse: Any) -> None:
    assert _stored(duck) == _expected_versions()
    assert _stored(pg_warehouse) == _expected_versions()
