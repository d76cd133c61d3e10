"""The base metrics per store and local day on a hand-built ledger, on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import ibis
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.errors import InvalidInput
from newretail.core.localtime import local_day
from newretail.diagnosis import metrics
from newretail.diagnosis.metrics import Metrics, StoreDay, VisitorSource
from newretail.events.taxonomy import BUILT_IN, NEEDS_STORE
from newretail.events.validation import compile_schema
from newretail.warehouse.connection import EVENT_SCHEMA, EVENT_TABLE
from tests.conftest import Org
from tests.databank import conftest as warehouses

# the Data Bank's warehouse fixtures: DuckDB per test, PostgreSQL per session
duck = warehouses.duck
pg_warehouse = warehouses.pg_warehouse

ZONE = "Asia/Shanghai"
NOV10, NOV11 = date(2026, 11, 10), date(2026, 11, 11)
ONLINE, SHOP, COUNTER, NEW_YORK = "online-1", "shop-1", "counter-1", "ny-1"
_ids = count(1)


def _event(
    org: str,
    type_: str,
    at: str,
    store: str | None,
    *,
    member: str | None = None,
    anonymous: str | None = None,
    amount: str | None = None,
    channel: str = "store",
    **properties: Any,
) -> dict[str, Any]:
    """One warehouse row; `at` is a UTC instant like '2026-11-10T04:00'."""
    ts = datetime.fromisoformat(at).replace(tzinfo=UTC)
    return {
        "organization_id": org,
        "message_id": f"m-{next(_ids):06d}",
        "type": type_,
        "ts": ts,
        "received_at": ts,
        "brand_id": None,
        "store_id": store,
        "channel": channel,
        "member_id": member,
        "profile_id": member,
        "anonymous_id": anonymous,
        "amount": None if amount is None else Decimal(amount),
        "properties": json.dumps(properties),
    }


def _lines(*quantities: int) -> list[dict[str, Any]]:
    return [{"sku_id": f"sku-{n}", "quantity": q} for n, q in enumerate(quantities)]


def _ledger(org: str) -> list[dict[str, Any]]:
    """Shanghai is UTC+8: 10 Nov local runs 2026-11-09T16:00Z … 2026-11-10T16:00Z."""

    def e(type_: str, at: str, store: str | None, **kw: Any) -> dict[str, Any]:
        return _event(org, type_, at, store, **kw)

    online = {"channel": "online"}
    return [
        # online-1, 10 Nov: three viewers (m1 twice, a page view by anonymous a1), two buyers
        e("product_view", "2026-11-10T01:00", ONLINE, member="m1", product_id="p1", **online),
        e("product_view", "2026-11-10T01:05", ONLINE, member="m1", product_id="p2", **online),
        e("page_view", "2026-11-10T02:00", ONLINE, anonymous="a1", **online),
        e("screen_view", "2026-11-10T02:30", ONLINE, member="m2", **online),
        e(
            "purchase",
            "2026-11-10T03:00",
            ONLINE,
            member="m1",
            amount="100.00",
            order_id="o1",
            lines=_lines(2, 1),
            **online,
        ),
        e(
            "purchase",
            "2026-11-10T04:00",
            ONLINE,
            anonymous="a1",
            amount="50.00",
            order_id="o2",
            items=[{"product_id": "p9"}],  # a collected purchase: an item without quantity
            **online,
        ),
        # online-1, 11 Nov: o1 partly refunded, one viewer, no purchase
        e(
            "order_refunded",
            "2026-11-10T17:00",
            ONLINE,
            member="m1",
            amount="30.00",
            order_id="o1",
            lines=_lines(1),
            **online,
        ),
        e("product_view", "2026-11-10T18:00", ONLINE, member="m2", product_id="p1", **online),
        # shop-1, 10 Nov: store visits by m3 (twice) and m4, and a people counter (40 + 60)
        e("store_visit", "2026-11-10T02:00", SHOP, member="m3"),
        e("store_visit", "2026-11-10T05:00", SHOP, member="m3"),
        e("store_visit", "2026-11-10T06:00", SHOP, member="m4"),
        e("footfall", "2026-11-10T04:00", SHOP, count=40, sensor_id="door-1"),
        e("footfall", "2026-11-10T10:00", SHOP, count=60, sensor_id="door-1"),
        e(
            "purchase",
            "2026-11-10T05:30",
            SHOP,
            member="m3",
            amount="200.00",
            order_id="o3",
            lines=_lines(1),
        ),
        e("purchase", "2026-11-10T07:00", SHOP, amount="80.00", order_id="o4", lines=_lines(3)),
        e("purchase", "2026-11-10T08:00", SHOP, amount="30.00", order_id="o5", quantity=2),
        # the refund of part of o3, the same day; and a returned CSV purchase without an order
        e("order_refunded", "2026-11-10T09:00", SHOP, member="m3", amount="50.00", order_id="o3"),
        e("purchase", "2026-11-10T09:30", SHOP, member="m4", amount="20.00"),
        # one second before local midnight: still 10 Nov
        e("purchase", "2026-11-10T15:59:59", SHOP, member="m4", amount="10.00", order_id="o6"),
        # shop-1, 11 Nov (00:30 local, 16:30Z the day before): visits only, the counter silent
        e("store_visit", "2026-11-10T16:30", SHOP, member="m5"),
        e(
            "purchase",
            "2026-11-10T16:30",
            SHOP,
            member="m5",
            amount="66.00",
            order_id="o7",
            lines=_lines(1, 1),
        ),
        # counter-1, 11 Nov: purchases, no visit of any kind (m6 buys twice: one buyer)
        e("purchase", "2026-11-11T02:00", COUNTER, member="m6", amount="25.00", order_id="o8"),
        e("purchase", "2026-11-11T03:00", COUNTER, member="m6", amount="15.00", order_id="o9"),
        # counter-1, 10 Nov: the counter reported nobody, a member visited anyway
        e("footfall", "2026-11-10T04:00", COUNTER, count=0),
        e("store_visit", "2026-11-10T04:00", COUNTER, member="m7"),
        # ny-1 keeps New York's days: 03:00Z on 11 Nov is 22:00 on 10 Nov there
        e("purchase", "2026-11-11T03:00", NEW_YORK, member="m8", amount="12.50", order_id="o10"),
        e("store_visit", "2026-11-11T02:00", NEW_YORK, member="m8"),
        # 05:00 on 12 Nov in New York: outside the range there
        e("store_visit", "2026-11-12T10:00", NEW_YORK, member="m9"),
        # outside: 12 Nov 00:00 local, before 10 Nov, another type, another organisation
        e("purchase", "2026-11-11T16:00", SHOP, member="m1", amount="999.00", order_id="x1"),
        e("purchase", "2026-11-09T15:59:59", SHOP, member="m1", amount="999.00", order_id="x2"),
        e("ad_impression", "2026-11-10T04:00", SHOP, member="m1"),
        e("add_to_cart", "2026-11-10T04:00", ONLINE, member="m9", product_id="p1", **online),
        _event(str(uuid.uuid4()), "purchase", "2026-11-10T04:00", SHOP, amount="999.00"),
    ]


def _load(con: Any, rows: list[dict[str, Any]]) -> None:
    table = pa.Table.from_pylist(rows, schema=EVENT_SCHEMA.to_pyarrow())
    con.insert(EVENT_TABLE, ibis.memtable(table))


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("duck" if request.param == "duckdb" else "pg_warehouse")


def _compute(con: Any) -> list[StoreDay]:
    org = str(uuid.uuid4())
    _load(con, _ledger(org))
    return metrics.store_day_rows(
        metrics.store_day_table(
            con, org, NOV10, NOV11, ZONE, store_zones={NEW_YORK: "America/New_York", SHOP: ZONE}
        )
    )


def _m(**figures: Any) -> Metrics:
    """A store-day's figures; its buyers count for the visited conversion when it counted
    visitors."""
    for money in ("paid", "refunded"):
        if money in figures:
            figures[money] = Decimal(figures[money])
    if figures.get("visitors"):
        figures.setdefault("buyers_with_visitors", figures.get("buyers", 0))
    return Metrics(store_days=1, **figures)


EXPECTED = [
    StoreDay(
        COUNTER,
        NOV10,
        _m(visitors=0),
        visit_visitors=1,
        footfall=0,
    ),
    StoreDay(
        COUNTER,
        NOV11,
        _m(paid="40.00", transactions=2, buyers=1, purchases_without_visitors=1),
        visit_visitors=0,
        footfall=None,
    ),
    StoreDay(
        NEW_YORK,
        NOV10,
        _m(paid="12.50", transactions=1, buyers=1, visitors=1),
        visit_visitors=1,
        footfall=None,
    ),
    StoreDay(
        ONLINE,
        NOV10,
        _m(
            paid="150.00",
            transactions=2,
            buyers=2,
            units=4,
            transactions_with_units=2,
            visitors=3,
        ),
        visit_visitors=3,
        footfall=None,
    ),
    StoreDay(
        ONLINE,
        NOV11,
        _m(refunded="30.00", refunded_orders=1, visitors=1),
        visit_visitors=1,
        footfall=None,
    ),
    StoreDay(
        SHOP,
        NOV10,
        _m(
            paid="340.00",
            refunded="50.00",
            transactions=5,
            buyers=4,
            units=6,
            transactions_with_units=3,
            refunded_orders=1,
            visitors=100,
        ),
        visit_visitors=2,
        footfall=100,
    ),
    StoreDay(
        SHOP,
        NOV11,
        _m(paid="66.00", transactions=1, buyers=1, units=2, transactions_with_units=1, visitors=1),
        visit_visitors=1,
        footfall=None,
    ),
]


def test_store_days_of_the_ledger(warehouse: Any) -> None:
    found = _compute(warehouse)
    assert found == EXPECTED
    by_key = {(r.store_id, r.day): r for r in found}
    shop = by_key[SHOP, NOV10]
    assert shop.visitor_source is VisitorSource.FOOTFALL
    assert shop.metrics.gmv == Decimal("290.00")
    assert shop.metrics.conversion == 0.04
    assert shop.metrics.transaction_conversion == 0.05
    assert shop.metrics.order_value_per_buyer == Decimal("72.5")
    assert shop.metrics.order_value_per_transaction == Decimal("58")
    assert shop.metrics.units_per_transaction == 2.0
    online = by_key[ONLINE, NOV10]
    assert online.visitor_source is VisitorSource.VISITS
    assert online.metrics.conversion == 2 / 3
    refund_day = by_key[ONLINE, NOV11].metrics
    assert refund_day.gmv == Decimal("-30.00")
    assert refund_day.order_value_per_buyer is None
    assert refund_day.conversion == 0.0
    counter = by_key[COUNTER, NOV11]
    assert counter.visitor_source is None
    assert counter.metrics.conversion is None
    assert counter.metrics.units_per_transaction is None
    assert counter.metrics.order_value_per_transaction == Decimal("20")
    # a counter that reported zero is still the source: the member's visit does not replace it
    assert by_key[COUNTER, NOV10].visitor_source is VisitorSource.FOOTFALL


@pytest.mark.postgres
def test_duckdb_and_postgres_agree(duck: Any, pg_warehouse: Any) -> None:
    assert _compute(duck) == _compute(pg_warehouse) == EXPECTED


def test_groups_sum_store_days_and_recompute_ratios(duck: Any) -> None:
    found = _compute(duck)
    brand = {ONLINE: "brand-a", SHOP: "brand-a", COUNTER: "brand-b", NEW_YORK: "brand-b"}
    groups = metrics.totals_by(found, lambda r: brand[r.store_id or ""])
    a = groups["brand-a"]
    assert a == Metrics(
        paid=Decimal("556.00"),
        refunded=Decimal("80.00"),
        transactions=8,
        buyers=7,
        units=12,
        transactions_with_units=6,
        refunded_orders=2,
        visitors=105,
        store_days=4,
        buyers_with_visitors=7,
    )
    assert a.gmv == Decimal("476.00")
    assert a.conversion == 7 / 105
    assert a.order_value_per_buyer == Decimal("68")
    assert a.order_value_per_buyer * a.buyers == a.gmv
    b = groups["brand-b"]
    assert (b.gmv, b.buyers, b.visitors, b.purchases_without_visitors) == (
        Decimal("52.50"),
        2,
        1,
        1,
    )
    assert b.buyers_above_visitors == 0
    # counter-1's buyer on 11 Nov came on a day without visitors: not in the visited conversion
    assert (b.conversion, b.visited_conversion, b.buyers_with_visitors) == (2.0, 1.0, 1)
    organisation = metrics.total(found)
    assert organisation == metrics.total(groups.values())
    assert (organisation.gmv, organisation.visitors, organisation.store_days) == (
        Decimal("528.50"),
        106,
        7,
    )
    by_day = metrics.totals_by(found, lambda r: r.day)
    assert by_day[NOV10].gmv == Decimal("452.50")  # New York's 10 Nov included
    assert metrics.total([]) == Metrics()


def test_more_buyers_than_visitors_is_flagged(duck: Any) -> None:
    org = str(uuid.uuid4())
    _load(
        duck,
        [
            _event(org, "footfall", "2026-11-10T04:00", SHOP, count=1),
            _event(org, "purchase", "2026-11-10T05:00", SHOP, member="m1", amount="5.00"),
            _event(org, "purchase", "2026-11-10T06:00", SHOP, member="m2", amount="7.00"),
        ],
    )
    [day] = metrics.store_day_rows(metrics.store_day_table(duck, org, NOV10, NOV10, ZONE))
    assert (day.metrics.buyers, day.metrics.visitors, day.metrics.buyers_above_visitors) == (
        2,
        1,
        1,
    )
    assert day.metrics.conversion == 2.0
    assert day.metrics.transactions == 2  # purchases without an order id: one each


def test_counter_approaches_and_shelf_browses_are_visits(duck: Any) -> None:
    """A cloud shelf's visitors are the people who browsed its screen; a counter without a
    people counter counts the people who approached it (the funnels' visit step too)."""
    org = str(uuid.uuid4())
    _load(
        duck,
        [
            _event(org, "shelf_browse", "2026-11-10T04:00", SHOP, member="m1"),
            _event(org, "shelf_browse", "2026-11-10T04:01", SHOP, member="m1"),
            _event(org, "shelf_browse", "2026-11-10T04:02", SHOP, member="m2"),
            _event(org, "counter_approach", "2026-11-10T04:00", COUNTER, member="m3"),
            _event(org, "purchase", "2026-11-10T05:00", SHOP, member="m2", amount="5.00"),
            _event(org, "screen_exposure", "2026-11-10T04:00", COUNTER, member="m4"),
        ],
    )
    found = metrics.store_day_rows(metrics.store_day_table(duck, org, NOV10, NOV10, ZONE))
    assert [
        (r.store_id, r.visitor_source, r.metrics.visitors, r.metrics.buyers) for r in found
    ] == [(COUNTER, VisitorSource.VISITS, 1, 0), (SHOP, VisitorSource.VISITS, 2, 1)]


def test_stores_filter_and_the_organisation_zone_for_every_store(duck: Any) -> None:
    org = str(uuid.uuid4())
    _load(duck, _ledger(org))
    found = metrics.store_day_rows(
        metrics.store_day_table(duck, org, NOV10, NOV11, ZONE, stores=[NEW_YORK])
    )
    # without its own zone New York's purchase is on Shanghai's 11 Nov, its visit too
    assert [(r.store_id, r.day, r.metrics.buyers, r.metrics.visitors) for r in found] == [
        (NEW_YORK, NOV11, 1, 1)
    ]


def test_refused_ranges(duck: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        metrics.store_day_table(duck, "org", NOV11, NOV10, ZONE)
    assert refused.value.field == "last"
    with pytest.raises(InvalidInput):
        metrics.store_day_table(duck, "org", date(2015, 1, 1), date(2026, 1, 1), ZONE)


def test_footfall_is_a_built_in_type_with_a_count() -> None:
    assert "footfall" in NEEDS_STORE
    schema = BUILT_IN["footfall"]
    assert schema["required"] == ["count"]
    assert schema["properties"]["count"] == {"type": "integer", "minimum": 0}
    check = compile_schema(schema)
    assert check({"count": 12, "sensor_id": "door-1"}, "properties") is None
    assert check({"count": -1}, "properties") is not None
    assert check({"count": 1.5}, "properties") is not None
    assert check({}, "properties") is not None


def test_a_people_counter_reports_through_the_collector(
    client: TestClient, container: Container, org: Org
) -> None:
    at = datetime.now(UTC) - timedelta(hours=1)

    def footfall(message_id: str, **properties: Any) -> dict[str, Any]:
        # no identifiers: a counter counts people, it does not know them
        return {"message_id": message_id, "type": "footfall", "ts": at.isoformat(), **properties}

    answer = client.post(
        "/api/v1/events",
        headers={"Authorization": f"Bearer {org.write_key}"},
        json={
            "events": [
                footfall("f1", properties={"count": 7, "sensor_id": "door-1"}),
                footfall("f2", properties={"count": 5}),
                footfall("f3", properties={"count": -1}),
                footfall("f4", properties={}),
            ]
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["accepted"] == 2
    assert [(f["index"], f["field"], f["reason"]) for f in body["failed"]] == [
        (2, "events[2].properties.count", "must be at least 0"),
        (3, "events[3].properties.count", "is required"),
    ]
    client.app.state.collector.pipeline.flush()  # type: ignore[attr-defined]
    on = local_day(at, ZONE)
    with container.warehouse.lock:
        found = metrics.store_day_rows(
            metrics.store_day_table(
                container.warehouse.connection(),
                str(org.id),
                on - timedelta(days=1),
                on + timedelta(days=1),
                ZONE,
            )
        )
    assert [(r.store_id, r.day, r.footfall, r.metrics.visitors) for r in found] == [
        (str(org.store_ids[0]), on, 12, 12)
    ]
