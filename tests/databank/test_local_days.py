"""Data Bank days are the organisation's local days (Asia/Shanghai: the day starts at UTC 16:00)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import ibis
import pyarrow as pa
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.databank.localdays import local_date, offset_spans
from tests.conftest import Org
from tests.databank.history import count_everyone, event, load


def test_a_purchase_at_half_past_midnight_on_double_11_counts_on_11_november(
    client: TestClient, container: Container, org: Org
) -> None:
    count_everyone(container.sessions, org.id)
    brand, o = str(org.brand_id), str(org.id)
    rows = [
        # 2026-11-11T00:30+08:00 is 2026-11-10T16:30Z: 11 November in Shanghai
        {**event(o, "purchase", date(2026, 11, 10), "double-11", brand), "ts": _at(16, 30)},
        # 2026-11-10T23:59+08:00 is 2026-11-10T15:59Z: still 10 November
        {**event(o, "purchase", date(2026, 11, 10), "eve", brand), "ts": _at(15, 59)},
    ]
    with container.warehouse.lock:
        load(container.warehouse.connection(), rows)
    made = client.post(
        "/api/v1/databank/snapshots",
        headers=org.auth(),
        json={"date": "2026-11-09", "end": "2026-11-11"},
    )
    assert made.status_code == 201, made.text
    assert [(r["date"], r["rows"]) for r in made.json()] == [
        ("2026-11-09", 0),
        ("2026-11-10", 1),
        ("2026-11-11", 2),
    ]
    trends = client.get(
        "/api/v1/databank/trends?from=2026-11-10&to=2026-11-11", headers=org.auth()
    ).json()
    assert trends == [
        {
            "date": "2026-11-10",
            "brand_id": brand,
            "A": 0,
            "I": 0,
            "P": 1,
            "L": 0,
            "suppressed": False,
        },
        {
            "date": "2026-11-11",
            "brand_id": brand,
            "A": 0,
            "I": 0,
            "P": 2,
            "L": 0,
            "suppressed": False,
        },
    ]
    flows = client.get(
        "/api/v1/databank/flows?from=2026-11-10&to=2026-11-11", headers=org.auth()
    ).json()
    assert flows["brands"][0]["new"] == {"A": 0, "I": 0, "P": 1, "L": 0}
    # computed without a snapshot (a day not materialised) the boundary is the same
    on_10 = client.get("/api/v1/databank/stages?date=2026-11-10", headers=org.auth()).json()
    assert on_10["brands"] == [
        {"brand_id": brand, "A": 0, "I": 0, "P": 1, "L": 0, "suppressed": False}
    ]
    fast = client.get("/api/v1/databank/fast?end=2026-11-11&weeks=1", headers=org.auth()).json()
    assert fast[0]["fertility"] == 2


def test_offsets_follow_daylight_saving_time() -> None:
    # Europe/Berlin leaves summer time at 2026-10-25T01:00Z
    assert offset_spans("Europe/Berlin", date(2026, 10, 24), date(2026, 10, 26)) == (
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 7200),
        (None, 3600),
    )
    assert offset_spans("Asia/Shanghai", date(2026, 1, 1), date(2026, 12, 31)) == ((None, 28800),)


def _at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 10, hour, minute, tzinfo=UTC)


def test_duckdb_epoch_arithmetic_gives_the_days_of_the_portable_expression() -> None:
    # every quarter hour around Berlin's and Sydney's clock changes, and Shanghai's midnight
    cases = [
        ("Europe/Berlin", date(2026, 10, 24), date(2026, 10, 26)),
        ("Europe/Berlin", date(2026, 3, 28), date(2026, 3, 30)),
        ("Australia/Sydney", date(2026, 4, 4), date(2026, 4, 6)),
        ("Asia/Shanghai", date(2026, 11, 10), date(2026, 11, 11)),
    ]
    con = ibis.duckdb.connect()
    for zone, first, last in cases:
        start = datetime.combine(first, time(), tzinfo=UTC) - timedelta(hours=14)
        instants = [start + timedelta(minutes=15 * n) for n in range(4 * 24 * 4)]
        table = ibis.memtable(
            pa.table({"ts": pa.array(instants, type=pa.timestamp("us", tz="UTC"))})
        )
        days = table.select(
            table.ts,
            fast=local_date(table.ts, zone, first, last, "duckdb"),
            portable=local_date(table.ts, zone, first, last),
        )
        found = con.to_pyarrow(days).to_pylist()
        expected = [at.astimezone(ZoneInfo(zone)).date() for at in instants]
        assert [r["fast"] for r in found] == expected
        assert [r["portable"] for r in found] == expected
