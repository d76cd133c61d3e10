"""The same Ibis expressions give the same snapshots and flows on DuckDB, PostgreSQL, PySpark."""

from __future__ import annotations

import gc
import random
from datetime import time
from typing import Any

import pytest

from newretail.core.errors import Conflict
from newretail.databank import analytics, queries, snapshots
from newretail.databank.config import DatabankConfig
from newretail.databank.tables import STATE_COLUMNS
from tests.databank.history import day, event, load, new_org

BRANDS = ["brand-1", "brand-2"]
CONFIG = DatabankConfig(awareness_days=5, interest_days=7, purchase_days=40, loyalty_days=20)
TYPES = ["ad_impression", "district_enter", "product_view", "purchase", "review", "share"]


def _history(org: str) -> list[dict[str, Any]]:
    rng = random.Random(20261124)
    rows = []
    for _ in range(300):
        kind = rng.choice(TYPES)
        rows.append(
            event(
                org,
                kind,
                day(rng.randrange(0, 60)),
                f"m{rng.randrange(40)}",
                rng.choice([*BRANDS, None]),
                properties={"rating": rng.randrange(1, 6), "city": rng.choice(["SH", "BJ"])},
                at=time(rng.randrange(24), rng.randrange(60)),
                channel=rng.choice(["online", "store", "popup"]),
            )
        )
    return rows


def _compute(con: Any) -> dict[str, Any]:
    org = new_org()
    load(con, _history(org))
    first = snapshots.materialise(con, org, BRANDS, day(50), CONFIG)
    second = snapshots.materialise(con, org, BRANDS, day(51), CONFIG)
    columns = ["brand_id", "member_id", "stage", *STATE_COLUMNS]
    rows = {}
    for on in (day(50), day(51)):
        stored = queries.stored_snapshot(con, org, on).to_pyarrow().to_pylist()
        rows[on] = sorted(tuple(r[c] for c in columns) for r in stored)
    flows = analytics.flows(con, org, BRANDS, day(50), day(51), CONFIG)
    return {
        "org": org,
        "runs": [(first.mode, first.rows), (second.mode, second.rows)],
        "rows": rows,
        "flows": [f.as_dict() for f in flows],
    }


@pytest.mark.postgres
@pytest.mark.spark
# Py4J leaves result sockets to the garbage collector; collected inside this test below.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_duckdb_postgres_and_pyspark_agree(
    duck: Any, pg_warehouse: Any, spark_warehouse: Any
) -> None:
    expected = _compute(duck)
    expected.pop("org")
    assert expected["runs"] == [
        ("full", expected["runs"][0][1]),
        ("incremental", expected["runs"][1][1]),
    ]
    assert expected["runs"][0][1] > 20  # the history is not trivial
    on_postgres = _compute(pg_warehouse)
    on_postgres.pop("org")
    assert on_postgres == expected
    try:
        on_spark = _compute(spark_warehouse)
        org = on_spark.pop("org")
        assert on_spark == expected
        # Parquet tables take no UPDATE: an earlier date cannot be cut in there
        with pytest.raises(Conflict):
            snapshots.materialise(spark_warehouse, org, BRANDS, day(50), CONFIG)
    finally:
        gc.collect()
