"""Incremental snapshots equal the full recomputation (Hypothesis, DuckDB and PostgreSQL)."""

from __future__ import annotations

from datetime import time, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newretail.databank import queries, snapshots
from newretail.databank import state as state_queries
from newretail.databank.config import DEFAULT_CONFIG, DatabankConfig
from newretail.databank.tables import STATE_COLUMNS, STATE_TABLE
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
    org = new_org()
    _load_history(con, org, history)
    first, last = day(start), day(start + 29)
    runs = snapshots.backfill(con, org, BRANDS, first, last, config)
    assert [r.mode for r in runs] == ["full"] + ["incremental"] * 29
    dates = [first + timedelta(days=k) for k in range(30)]
    stored = _rows(
        queries.stored_snapshots(con, org, queries.materialised_days(con, org, first, last))
    )
    full = _rows(
        queries.snapshot_rows(state_queries.full_states(con, org, BRANDS, dates, config), org, None)
    )
    assert stored == full
    assert [r.rows for r in runs] == [sum(1 for r in full if r["date"] == d) for d in dates]
    # the one-query range recomputation agrees with the single-date one, and so does the
    # single-date read of the stored rows
    single = queries.snapshot_rows(
        state_queries.full_state(con, org, BRANDS, last, config), org, last
    )
    assert _rows(single) == [r for r in full if r["date"] == last]
    assert _rows(queries.stored_snapshot(con, org, last)) == _rows(single)


def _load_history(con: Any, org: str, history: list[Any]) -> None:
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


def check_any_order_equals_full(
    con: Any, history: list[Any], operations: list[tuple[int, str]], config: Any
) -> None:
    """Materialise days in any order and mode; every materialised day equals full."""
    org = new_org()
    _load_history(con, org, history)
    for offset, mode in operations:
        on = day(offset)
        chosen = snapshots.SnapshotMode(mode)
        if chosen == snapshots.SnapshotMode.INCREMENTAL and not snapshots.is_materialised(
            con, org, on - timedelta(days=1)
        ):
            chosen = snapshots.SnapshotMode.AUTO
        snapshots.materialise(con, org, BRANDS, on, config, chosen)
    dates = sorted(snapshots.materialised_dates(con, org, day(0), day(80)))
    assert dates == sorted({day(offset) for offset, _ in operations})
    stored = _rows(
        queries.stored_snapshots(con, org, queries.materialised_days(con, org, day(0), day(80)))
    )
    full = _rows(
        queries.snapshot_rows(state_queries.full_states(con, org, BRANDS, dates, config), org, None)
    )
    assert stored == full
    # no two state rows of a member overlap
    table = con.table(STATE_TABLE)
    rows = table.filter(table.organization_id == org).to_pyarrow().to_pylist()
    spans: dict[tuple[str, str], list[tuple[Any, Any]]] = {}
    for r in rows:
        assert r["valid_from"] < r["valid_to"]
        spans.setdefault((r["brand_id"], r["member_id"]), []).append(
            (r["valid_from"], r["valid_to"])
        )
    for intervals in spans.values():
        intervals.sort()
        assert all(a[1] <= b[0] for a, b in pairwise(intervals))


operations = st.lists(
    st.tuples(
        st.integers(min_value=20, max_value=45),
        st.sampled_from(["auto", "full", "incremental"]),
    ),
    min_size=1,
    max_size=25,
)


@pytest.mark.parametrize(("config_name", "examples"), [("short", 5), ("default", 2)])
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
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories, start=st.integers(min_value=0, max_value=50))
def test_incremental_equals_full_on_postgres(
    pg_warehouse: Any, history: list[Any], start: int
) -> None:
    check_incremental_equals_full(pg_warehouse, history, start, SHORT)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories, operations=operations)
def test_days_materialised_in_any_order_equal_full_on_duckdb(
    duck: Any, history: list[Any], operations: list[tuple[int, str]]
) -> None:
    """Replacing a day, filling a gap, going back: interval rows stay exact."""
    check_any_order_equals_full(duck, history, operations, SHORT)


@pytest.mark.postgres
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories, operations=operations)
def test_days_materialised_in_any_order_equal_full_on_postgres(
    pg_warehouse: Any, history: list[Any], operations: list[tuple[int, str]]
) -> None:
    check_any_order_equals_full(pg_warehouse, history, operations, SHORT)


def test_an_incremental_day_writes_only_the_members_with_events(duck: Any) -> None:
    """Day 2 adds m2's new state and closes m2's old row; m1's row stays, m3 starts."""
    org = new_org()
    load(
        duck,
        [
            event(org, "purchase", day(0), "m1", "brand-1"),
            event(org, "purchase", day(0), "m2", "brand-1"),
            event(org, "product_view", day(2), "m2", "brand-1"),
            event(org, "ad_impression", day(2), "m3", None),  # every brand
            # a review that is not positive earns nothing: m1's row goes on unchanged
            event(org, "review", day(2), "m1", "brand-1", properties={"rating": 2}),
        ],
    )
    snapshots.backfill(duck, org, BRANDS, day(1), day(2), DEFAULT_CONFIG)
    table = duck.table(STATE_TABLE)
    rows = table.filter(table.organization_id == org).to_pyarrow().to_pylist()
    spans = sorted((r["member_id"], r["brand_id"], r["valid_from"], r["valid_to"]) for r in rows)
    assert spans == [
        ("m1", "brand-1", day(1), day(913)),  # until the purchase leaves the P window
        ("m2", "brand-1", day(1), day(2)),
        ("m2", "brand-1", day(2), day(913)),
        ("m3", "brand-1", day(2), day(17)),  # A for 15 days
        ("m3", "brand-2", day(2), day(17)),
    ]
    assert _rows(queries.stored_snapshot(duck, org, day(2))) == [
        {
            "date": day(2),
            "brand_id": "brand-1",
            "member_id": member,
            "stage": stage,
            "last_aware_date": aware,
            "last_interest_date": interest,
            "last_purchase_date": day(0) if member != "m3" else None,
            "previous_purchase_date": None,
            "last_advocacy_date": None,
        }
        for member, stage, aware, interest in [
            ("m1", "P", None, None),
            ("m2", "P", None, day(2)),
            ("m3", "A", day(2), None),
        ]
    ] + [
        {
            "date": day(2),
            "brand_id": "brand-2",
            "member_id": "m3",
            "stage": "A",
            "last_aware_date": day(2),
            "last_interest_date": None,
            "last_purchase_date": None,
            "previous_purchase_date": None,
            "last_advocacy_date": None,
        }
    ]


def test_late_events_recomputed_from_a_day_leave_later_days_as_they_were(duck: Any) -> None:
    """backfill --from a past day over materialised days: those days change, later ones not."""
    org = new_org()
    load(duck, [event(org, "ad_impression", day(0), "m1", "brand-1")])
    snapshots.backfill(duck, org, BRANDS, day(0), day(20), SHORT)
    before = {d: _rows(queries.stored_snapshot(duck, org, day(d))) for d in range(21)}
    load(duck, [event(org, "purchase", day(5), "m1", "brand-1")])  # arrives late
    runs = snapshots.backfill(duck, org, BRANDS, day(5), day(8), SHORT)
    assert [r.mode for r in runs] == ["incremental"] * 4
    after = {d: _rows(queries.stored_snapshot(duck, org, day(d))) for d in range(21)}
    stages = {d: [r["stage"] for r in after[d]] for d in range(21)}
    assert stages == {
        0: ["A"],
        1: ["A"],
        2: ["A"],
        **{d: [] for d in (3, 4)},
        **{d: ["P"] for d in (5, 6, 7, 8)},
        **{d: [] for d in range(9, 21)},  # computed before the purchase arrived
    }
    assert all(after[d] == before[d] for d in (*range(5), *range(9, 21)))


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
