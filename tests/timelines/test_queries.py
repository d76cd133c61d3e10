"""The timeline expression gives the same pages on DuckDB and on the PostgreSQL warehouse."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import ibis
import pyarrow as pa
import pytest

from newretail.timelines import queries
from newretail.warehouse.connection import EVENT_SCHEMA, EVENT_TABLE
from tests.timelines.events import row

T1 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
T2 = datetime(2026, 5, 1, 9, 30, 15, 250000, tzinfo=UTC)  # sub-second: the cursor keeps it
T3 = datetime(2026, 5, 2, 23, 59, 59, tzinfo=UTC)


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("duck" if request.param == "duckdb" else "pg_warehouse")


def _page(con: Any, window: queries.TimelineWindow, limit: int = 10) -> list[str]:
    result = queries.timeline(con, window, limit).to_pyarrow().to_pylist()
    return [r["message_id"] for r in result]


def test_the_same_pages_on_every_engine(warehouse: Any) -> None:
    org, member = str(uuid.uuid4()), str(uuid.uuid4())
    rows = [
        row(org, member, "a-3", "store_visit", T2, store_id="s1"),
        row(org, member, "a-1", "store_visit", T2, store_id="s2"),
        row(org, member, "a-2", "purchase", T2, store_id="s1", amount="12.50"),
        row(org, member, "b-1", "product_view", T1, channel="online"),
        row(org, member, "c-1", "review", T3, channel="online"),
        row(org, str(uuid.uuid4()), "d-1", "review", T3, channel="online"),
        row(str(uuid.uuid4()), member, "e-1", "review", T3, channel="online"),
    ]
    warehouse.insert(
        EVENT_TABLE, ibis.memtable(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA.to_pyarrow()))
    )
    base = queries.TimelineWindow(organization_id=org, member_id=member)
    assert _page(warehouse, base) == ["b-1", "a-1", "a-2", "a-3", "c-1"]
    assert _page(warehouse, base, 2) == ["b-1", "a-1"]
    after = queries.TimelineWindow(org, member, after=(T2, "a-1"))
    assert _page(warehouse, after) == ["a-2", "a-3", "c-1"]
    back = queries.TimelineWindow(org, member, after=(T2, "a-2"), descending=True)
    assert _page(warehouse, back) == ["a-1", "b-1"]
    newest = queries.TimelineWindow(org, member, descending=True)
    assert _page(warehouse, newest, 3) == ["c-1", "a-3", "a-2"]
    filtered = queries.TimelineWindow(
        org, member, types=("store_visit", "review"), channel="store", store_ids=("s1",)
    )
    assert _page(warehouse, filtered) == ["a-3"]
    dated = queries.TimelineWindow(org, member, ts_from=T2, ts_to=T3)
    assert _page(warehouse, dated) == ["a-1", "a-2", "a-3"]
    [purchase] = (
        queries.timeline(warehouse, queries.TimelineWindow(org, member, types=("purchase",)), 5)
        .to_pyarrow()
        .to_pylist()
    )
    assert (purchase["ts"], str(purchase["amount"]), purchase["properties"]) == (T2, "12.50", None)
