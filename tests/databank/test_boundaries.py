"""Exact AIPL stages on hand-built histories at every window boundary (DuckDB)."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from newretail.databank import queries
from newretail.databank import state as state_queries
from newretail.databank.config import DEFAULT_CONFIG, DatabankConfig
from tests.databank.history import day, event, load, new_org

D = day(1000)
B1, B2 = "brand-1", "brand-2"
BRANDS = [B1, B2]


def stages(
    con: Any, org: str, on: date = D, config: DatabankConfig = DEFAULT_CONFIG
) -> dict[tuple[str, str], str]:
    state = state_queries.full_state(con, org, BRANDS, on, config)
    rows = queries.snapshot_rows(state, org, on).to_pyarrow().to_pylist()
    return {(r["brand_id"], r["member_id"]): r["stage"] for r in rows}


def ago(days: int) -> date:
    return D - timedelta(days=days)


def test_awareness_and_interest_last_15_days_are_d_minus_14_to_d(duck: Any) -> None:
    org = new_org()
    load(
        duck,
        [
            event(org, "ad_impression", ago(14), "a-in", B1),
            event(org, "ad_impression", ago(15), "a-out", B1),
            event(org, "product_view", ago(14), "i-in", B1),
            event(org, "product_view", ago(15), "i-out", B1),
            event(org, "store_visit", D + timedelta(days=1), "future", B1),
            # the UTC day decides: 23:59:59 on D−15 is out, 00:00 on D−14 is in
            event(org, "ad_click", ago(15), "late-evening", B1, at=time(23, 59, 59)),
            event(org, "ad_click", ago(14), "midnight", B1, at=time(0, 0)),
        ],
    )
    assert stages(duck, org) == {
        (B1, "a-in"): "A",
        (B1, "i-in"): "I",
        (B1, "midnight"): "I",
    }


def test_purchase_window_is_913_days(duck: Any) -> None:
    org = new_org()
    load(
        duck,
        [
            event(org, "purchase", ago(912), "p-in", B1),
            event(org, "purchase", ago(913), "p-out", B1),
        ],
    )
    assert stages(duck, org) == {(B1, "p-in"): "P"}


def test_two_purchases_on_one_day_are_one_purchase_day(duck: Any) -> None:
    org = new_org()
    load(
        duck,
        [
            event(org, "purchase", ago(3), "same-day", B1, at=time(9)),
            event(org, "purchase", ago(3), "same-day", B1, at=time(18)),
            event(org, "purchase", ago(364), "two-days", B1),
            event(org, "purchase", D, "two-days", B1),
            event(org, "purchase", ago(365), "too-far", B1),
            event(org, "purchase", D, "too-far", B1),
        ],
    )
    assert stages(duck, org) == {
        (B1, "same-day"): "P",
        (B1, "two-days"): "L",
        (B1, "too-far"): "P",
    }


def test_a_positive_review_or_a_share_makes_loyal(duck: Any) -> None:
    org = new_org()
    load(
        duck,
        [
            event(org, "review", ago(1), "rated-4", B1, properties={"rating": 4}),
            event(org, "review", ago(1), "rated-3", B1, properties={"rating": 3}),
            event(org, "review", ago(1), "flagged", B1, properties={"positive": True}),
            event(org, "review", ago(1), "text-rating", B1, properties={"rating": "4.5"}),
            event(org, "share", ago(364), "shared", B1),
            event(org, "share", ago(365), "shared-long-ago", B1),
        ],
    )
    assert stages(duck, org) == {
        (B1, "rated-4"): "L",
        (B1, "flagged"): "L",
        (B1, "text-rating"): "L",
        (B1, "shared"): "L",
    }


def test_highest_stage_wins(duck: Any) -> None:
    org = new_org()
    load(
        duck,
        [
            event(org, "ad_impression", D, "m", B1),
            event(org, "product_view", D, "m", B1),
            event(org, "purchase", ago(400), "m", B1),
        ],
    )
    assert stages(duck, org) == {(B1, "m"): "P"}


def test_brand_specific_exposure_counts_only_for_its_brand(duck: Any) -> None:
    org = new_org()
    load(
        duck,
        [
            event(org, "ad_impression", D, "brand-only", B1),
            event(org, "district_enter", D, "every-brand", None),
            event(org, "purchase", D, "every-brand", B2),
        ],
    )
    assert stages(duck, org) == {
        (B1, "brand-only"): "A",
        (B1, "every-brand"): "A",
        (B2, "every-brand"): "P",
    }


def test_a_member_merged_mid_period_is_grouped_by_the_surviving_id(duck: Any) -> None:
    org = new_org()
    load(
        duck,
        [
            event(org, "purchase", ago(100), "old-id", B1),
            event(org, "purchase", ago(5), "survivor", B1),
        ],
    )
    assert stages(duck, org) == {(B1, "old-id"): "P", (B1, "survivor"): "P"}
    # The identity domain re-attributes the merged member's events to the survivor.
    duck.raw_sql(
        f"UPDATE event SET member_id = 'survivor' WHERE organization_id = '{org}' "  # noqa: S608
        "AND member_id = 'old-id'"
    )
    assert stages(duck, org) == {(B1, "survivor"): "L"}


def test_other_organisations_events_never_count(duck: Any) -> None:
    org, other = new_org(), new_org()
    load(duck, [event(other, "purchase", D, "m", B1), event(org, "ad_click", D, "m", B1)])
    assert stages(duck, org) == {(B1, "m"): "I"}


def test_windows_and_mapping_are_configurable(duck: Any) -> None:
    org = new_org()
    config = DatabankConfig(
        awareness_days=3,
        interest_events=["ad_click"],
        purchase_days=30,
        loyalty_days=30,
        review_events=[],
    )
    load(
        duck,
        [
            event(org, "ad_impression", ago(2), "a-in", B1),
            event(org, "ad_impression", ago(3), "a-out", B1),
            event(org, "product_view", D, "not-interest", B1),
            event(org, "purchase", ago(29), "p-in", B1),
            event(org, "purchase", ago(30), "p-out", B1),
            event(org, "review", D, "review-ignored", B1, properties={"rating": 5}),
        ],
    )
    assert stages(duck, org, config=config) == {(B1, "a-in"): "A", (B1, "p-in"): "P"}
