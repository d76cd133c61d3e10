"""The diagnosis benchmark's generated organisation (bench/diagnosis_data.py) at a small size:
the events it writes give the diagnosis metrics the plan meant (orders, GMV from the lines,
units, people-counter visitors), and the bench's hand-written DuckDB SQL computes the same
figures and tiers as the diagnosis."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from bench import diagnosis as bench
from bench import diagnosis_data

from newretail.bootstrap import Container
from newretail.diagnosis import metrics
from newretail.diagnosis.metrics import VisitorSource

SMALL = diagnosis_data.Size(stores=40, events=60_000, orders=6_000)


@pytest.fixture
def generated(container: Container) -> tuple[diagnosis_data.Organisation, dict[str, int], Any]:
    org = diagnosis_data.create_organisation(container, SMALL.stores)
    con = container.warehouse.connection()
    counts = diagnosis_data.generate(con, org, SMALL)
    return org, counts, con


def _plan(con: Any) -> dict[tuple[str, int], dict[str, int]]:
    rows = con.raw_sql(
        "SELECT s.store_id, d, orders, visitors, counter_hours, visits, sessions "
        "FROM bench_store_day JOIN bench_store s USING (k)"
    ).fetchall()
    names = ("orders", "visitors", "counter_hours", "visits", "sessions")
    return {(r[0], r[1]): dict(zip(names, r[2:], strict=True)) for r in rows}


def test_the_events_give_the_planned_figures(
    generated: tuple[diagnosis_data.Organisation, dict[str, int], Any],
) -> None:
    org, counts, con = generated
    stores = {s["store_id"]: s for s in org.stores}
    yesterday = org.today - timedelta(days=1)
    table = metrics.store_day_table(
        con,
        str(org.organization_id),
        org.first_day,
        yesterday,
        diagnosis_data.ORG_ZONE,
        store_zones={key: s["time_zone"] for key, s in stores.items()},
    )
    found = {(r.store_id, (r.day - org.first_day).days): r for r in metrics.store_day_rows(table)}
    plan = _plan(con)
    # the lines' amounts and quantities, read back from the purchases' documents
    lines = con.raw_sql(
        "SELECT store_id, order_id, sum(CAST(l.amount AS DECIMAL(18, 2))), "
        "sum(CAST(l.quantity AS BIGINT)), any_value(amount) "
        "FROM (SELECT store_id, amount, properties->>'order_id' AS order_id, "
        "unnest(from_json(json_extract(properties, '$.lines'), "
        '\'[{"amount": "VARCHAR", "quantity": "BIGINT"}]\')) AS l '
        "FROM event WHERE type = 'purchase') GROUP BY ALL"
    ).fetchall()
    assert all(row[2] == row[4] for row in lines)  # an order's amount is its lines' sum
    assert len(lines) == counts["orders"]
    units_by_store: dict[str, int] = defaultdict(int)
    for row in lines:
        units_by_store[row[0]] += int(row[3])

    checked_counter_days = 0
    for (store_id, day), planned in plan.items():
        if org.first_day + timedelta(days=day) >= yesterday:
            # today is cut at the moment of generation, and yesterday too when the generation
            # ran across the organisation's midnight (a run at 16:00 UTC saw 2 of 3 orders)
            continue
        row = found.get((store_id, day))
        if row is None:
            assert planned["orders"] == planned["visits"] == planned["sessions"] == 0
            assert planned["counter_hours"] == 0 or planned["visitors"] == 0
            continue
        assert row.metrics.transactions == planned["orders"]
        assert row.metrics.buyers <= row.metrics.transactions
        if planned["counter_hours"] == diagnosis_data.OPEN_HOURS:
            assert row.footfall == planned["visitors"]
            assert row.visitor_source is VisitorSource.FOOTFALL
            checked_counter_days += 1
        else:
            assert row.footfall is None
            assert row.metrics.visitors == row.visit_visitors
        if stores[store_id]["channel_type"] == "online":
            assert row.visit_visitors <= planned["sessions"]
        else:
            assert row.visit_visitors <= planned["visits"]
    assert checked_counter_days > 0
    # refunds: about 2 % of the orders
    assert 0 < counts["refunds"] < counts["orders"] * 5 // 100
    # units of the month read back from the lines agree with the metrics' units
    whole = metrics.store_day_rows(
        metrics.store_day_table(
            con,
            str(org.organization_id),
            org.first_day - timedelta(days=1),
            org.today + timedelta(days=1),
            diagnosis_data.ORG_ZONE,
            store_zones={key: s["time_zone"] for key, s in stores.items()},
        )
    )
    units: dict[str, int] = defaultdict(int)
    for row in whole:
        units[row.store_id or ""] += row.metrics.units
    assert dict(units_by_store) == {k: v for k, v in units.items() if v}
    assert sum(r.metrics.paid for r in whole) == sum((row[4] for row in lines), Decimal(0))


def test_the_hand_sql_computes_what_the_diagnosis_does(
    container: Container,
    generated: tuple[diagnosis_data.Organisation, dict[str, int], Any],
) -> None:
    org, _, con = generated
    months = bench.months_of(org.today)
    rows = bench.run_hand_sql(con, bench.hand_sql(org, months))
    found = bench.diagnose(container, org, months, cause_stores=3)
    assert bench.compare(found, rows) == []
    assert len(found.peers.stores) == SMALL.stores
    assert {store.tier.tier for store in found.peers.stores} >= {2, 7}
    assert [c.store.code for c in found.causes] == [
        c.store.code for c in found.change.stores[:3]
    ]  # the largest changes
    assert sum(1 for row in rows if row[1] is not None) == len(
        [c for c in found.change.stores for m in (c.base, c.comparison) if m.store_days]
    )
