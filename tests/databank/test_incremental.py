"""Incremental snapshots equal the full recomputation (Hypothesis, DuckDB and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newretail.databank import queries, snapshots
from newretail.databank.config import DEFAULT_CONFIG, DatabankConfig
from newretail.databank.tables import SNAPSHOT_TABLE, STATE_COLUMNS
from tests.databank.history import day, event, load, new_org

BRANDS = ["brand-1", "brand-2"]
# Short windows so that stages lapse inside the 30 days; and the defaults.
SHORT = DatabankConfig(awareness_days=3, interest_days=5, purchase_days=20, loyalty_days=10)
CONFIGS = {"short": SHORT, "default": DEFAULT_CONFIG}

TYPES = [
    "ad_impression",
    "district_enter",
    "product_view",
    "member_join",
    "purchase",
    "review",
    "share",
    "follow",
]

histories = st.lists(
    st.tuples(
        st.sampled_from(TYPES),
        st.integers(min_value=0, max_value=70),  # day offset
        st.sampled_from(["m1", "m2", "m3", "m4"]),
        st.sampled_from([*BRANDS, None]),
        st.integers(min_value=1, max_value=5),  # review rating
        st.integers(min_value=0, max_value=23),  # hour
    ),
    max_size=40,
)


def _key(row: dict[str, Any]) -> tuple[Any, str, str]:
    return (row["date"], row["brand_id"], row["member_id"])


def _rows(expr: Any) -> list[dict[str, Any]]:
    columns = ["date", "brand_id", "member_id", "stage", *STATE_COLUMNS]
    return sorted(({c: r[c] for c in columns} for r in expr.to_pyarrow().to_pylist()), key=_key)


def check_incremental_equals_full(
    con: Any, history: list[tuple[str, int, str, str | None, int, int]], start: int, config: Any
) -> None:
    from datetime import time

    org = new_org()
    load(
        con,
        [
            event(
                org,
                kind,
                day(offset),
                member,
                brand,
                properties={"rating": rating} if kind == "review" else {},
                at=time(hour),
            )
            for kind, offset, member, brand, rating, hour in history
        ],
    )
    first, last = day(start), day(start + 29)
    runs = snapshots.backfill(con, org, BRANDS, first, last, config)
    assert [r.mode for r in runs] == ["full"] + ["incremental"] * 29
    dates = [first + timedelta(days=k) for k in range(30)]
    table = con.table(SNAPSHOT_TABLE)
    stored = _rows(table.filter(table.organization_id == org))
    full = _rows(
        queries.snapshot_rows(queries.full_states(con, org, BRANDS, dates, config), org, None)
    )
    assert stored == full
    # the one-query range recomputation agrees with the single-date one
    single = queries.snapshot_rows(queries.full_state(con, org, BRANDS, last, config), org, last)
    assert _rows(single) == [r for r in full if r["date"] == last]


@pytest.mark.parametrize(("config_name", "examples"), [("short", 12), ("default", 4)])
def test_incremental_equals_full_on_duckdb(duck: Any, config_name: str, examples: int) -> None:
    config = CONFIGS[config_name]

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(history=histories, start=st.integers(min_value=0, max_value=50))
    def check(history: list[Any], start: int) -> None:
        check_incremental_equals_full(duck, history, start, config)

    check()


@pytest.mark.postgres
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories, start=st.integers(min_value=0, max_value=50))
def test_incremental_equals_full_on_postgres(
    pg_warehouse: Any, history: list[Any], start: int
) -> None:
    check_incremental_equals_full(pg_warehouse, history, start, SHORT)


def test_a_known_history_day_by_day(duck: Any) -> None:
    """A purchase ages out of L and P exactly at the window edges, incrementally."""
    org = new_org()
    load(
        duck,
        [
            event(org, "purchase", day(0), "m", "brand-1"),
            event(org, "purchase", day(1), "m", "brand-1"),
            event(org, "ad_impression", day(12), "m", "brand-1"),
        ],
    )
    runs = snapshots.backfill(duck, org, BRANDS, day(0), day(25), SHORT)
    assert runs[0].mode == "full"
    seen = {}
    for offset in range(26):
        rows = _rows(queries.stored_snapshot(duck, org, day(offset)))
        seen[offset] = rows[0]["stage"] if rows else None
    # L while both purchase days are in the last 10 days (day 0 leaves on day 10),
    # P until day 1 leaves the 20-day window (day 21), A from the impression for 3 days.
    assert seen == {
        0: "P",
        **dict.fromkeys(range(1, 10), "L"),
        **dict.fromkeys(range(10, 21), "P"),
        21: None,
        22: None,
        23: None,
        24: None,
        25: None,
    }
