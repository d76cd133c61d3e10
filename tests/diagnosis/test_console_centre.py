"""The operations centre in the console: the home page at a glance (today so far and yesterday
against the same weekday last week, the alerts) from one query over those days, a store's page
(waterfall, metrics against its tier, daily GMV, links to the store's pages) and the tier
columns of the diagnosis page, in English and Chinese."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.core.errors import InvalidInput
from newretail.core.localtime import local_day_bounds, today
from newretail.diagnosis import glance, metrics
from newretail.diagnosis.decomposition import Factor, Method
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import Org, console_login
from tests.console_pages import rows, text
from tests.diagnosis import test_metrics as ledgers
from tests.diagnosis.test_gmv_change import PARAMS, load
from tests.diagnosis.test_metrics import _event, _load
from tests.diagnosis.test_peer_tiers import make_counters

warehouse = ledgers.warehouse
duck = ledgers.duck
pg_warehouse = ledgers.pg_warehouse

ZONE = "Asia/Shanghai"
NOW = datetime(2026, 11, 11, 6, 0, tzinfo=UTC)  # 14:00 on Wednesday 11 November in Shanghai


def _owner(org: Org) -> Principal:
    return Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="test")


def _store(container: Container, org: Org, code: str, channel: ChannelType) -> str:
    with session_scope(container.sessions, org.id) as session:
        created = tenancy_service.create_store(
            session,
            _owner(org),
            tenancy_schemas.StoreCreate(code=code, name=f"Store {code}", channel_type=channel),
        )
        return str(created.id)


def glance_ledger(
    org: str, shop: str, counter: str, vending: str, unsensed: str | None = None
) -> list[dict[str, Any]]:
    """UTC instants; Shanghai is UTC+8. Today 11 Nov (to 14:00), yesterday 10 Nov, and 4 and
    3 November a week before."""

    def buys(store: str, at: str, n: int, amount: str) -> list[dict[str, Any]]:
        return [
            _event(org, "purchase", at, store, amount=amount, order_id=f"o-{uuid.uuid4()}")
            for _ in range(n)
        ]

    return [
        # today so far, and 4 November up to 14:00 (the 15:00 sales are after the hour)
        _event(org, "footfall", "2026-11-11T02:00", shop, count=80),
        *buys(shop, "2026-11-11T02:00", 6, "120.00"),
        _event(org, "footfall", "2026-11-04T02:00", shop, count=100),
        *buys(shop, "2026-11-04T02:00", 10, "100.00"),
        *buys(shop, "2026-11-04T07:00", 5, "100.00"),
        # yesterday and 3 November: the shop's conversion halves
        _event(org, "footfall", "2026-11-10T04:00", shop, count=200),
        *buys(shop, "2026-11-10T04:00", 10, "100.00"),
        _event(org, "footfall", "2026-11-03T04:00", shop, count=200),
        *buys(shop, "2026-11-03T04:00", 20, "100.00"),
        # the counter's people counter falls silent while it sells
        _event(org, "footfall", "2026-11-03T04:00", counter, count=50),
        *buys(counter, "2026-11-03T04:00", 5, "100.00"),
        *buys(counter, "2026-11-10T04:00", 1, "50.00"),
        # the vending machine sent nothing yesterday
        _event(org, "footfall", "2026-11-03T04:00", vending, count=30),
        *buys(vending, "2026-11-03T04:00", 3, "100.00"),
        # a vending machine without a sensor sells on both days, one of its buyers identified
        # yesterday: buyers above visitors, no visitor then — how it is equipped, no alert
        *(buys(unsensed, "2026-11-10T04:00", 2, "100.00") if unsensed else []),
        *(
            [_event(org, "store_visit", "2026-11-10T04:00", unsensed, member="m1")]
            if unsensed
            else []
        ),
        *(buys(unsensed, "2026-11-03T04:00", 2, "100.00") if unsensed else []),
        # a day not shown
        *buys(shop, "2026-11-05T04:00", 1, "999.00"),
    ]


def test_the_glance_reads_the_four_days_it_shows(container: Container, org: Org) -> None:
    shop, counter = (str(s) for s in org.store_ids)
    vending = _store(container, org, "V2", ChannelType.VENDING)
    unsensed = _store(container, org, "V3", ChannelType.VENDING)
    ledger = glance_ledger(str(org.id), shop, counter, vending, unsensed)
    with container.warehouse.lock:
        _load(container.warehouse.connection(), ledger)
    with session_scope(container.sessions, org.id) as session:
        found = glance.at_a_glance(session, _owner(org), container.warehouse, NOW)
    d = Decimal
    day = found.today
    assert (day.day, day.week_before, day.until) == (
        date(2026, 11, 11),
        date(2026, 11, 4),
        time(14),
    )
    assert (day.now.gmv, day.now.visitors, day.now.buyers) == (d("720.00"), 80, 6)
    assert (day.before.gmv, day.before.visitors, day.before.buyers) == (d("1000.00"), 100, 10)
    assert (day.now.conversion, day.now.order_value_per_buyer) == (0.075, d(120))
    day = found.yesterday
    assert (day.day, day.week_before, day.until) == (date(2026, 11, 10), date(2026, 11, 3), None)
    assert (day.now.gmv, day.now.visitors, day.now.buyers) == (d("1250.00"), 201, 13)
    assert (day.before.gmv, day.before.visitors, day.before.buyers) == (d("3000.00"), 280, 30)
    drops = [(x.store.name, x.now.gmv - x.before.gmv, x.decomposition.method) for x in found.drops]
    assert drops == [
        ("Store 0", d("-1000.00"), Method.LMDI),
        ("Store 1", d("-450.00"), Method.UNATTRIBUTED),
        ("Store V2", d("-300.00"), Method.SHAPLEY),
    ]
    parts = [dict(x.decomposition.parts) for x in found.drops]
    assert parts[0] == {
        Factor.VISITORS: d("0.00"),
        Factor.CONVERSION: d("-1000.00"),
        Factor.ORDER_VALUE: d("0.00"),
    }
    assert [glance.largest_fall(x.decomposition) for x in found.drops] == [
        "conversion",
        None,
        "visitors",
    ]
    assert [(q.store.name, q.issues) for q in found.quality] == [
        ("Store 1", ("buyers_without_visitors",)),
        ("Store V2", ("no_events",)),
    ]

    manager = Principal.for_role(
        PrincipalKind.USER,
        org.id,
        Role.STORE_MANAGER,
        actor="test",
        store_ids=frozenset({org.store_ids[1]}),
    )
    with session_scope(container.sessions, org.id) as session:
        theirs = glance.at_a_glance(session, manager, container.warehouse, NOW)
    assert (theirs.yesterday.now.gmv, theirs.yesterday.before.gmv) == (d("50.00"), d("500.00"))
    assert [x.store.name for x in theirs.drops] == ["Store 1"]


def test_metrics_of_chosen_days_up_to_an_hour(warehouse: Any) -> None:
    org = str(uuid.uuid4())
    rows_ = glance_ledger(org, "shop", "counter", "vending")
    _load(warehouse, rows_)
    days = {date(2026, 11, 4): timedelta(hours=14), date(2026, 11, 10): timedelta(days=1)}
    found = metrics.store_day_rows(
        metrics.store_day_table(
            warehouse, org, date(2026, 11, 3), date(2026, 11, 11), ZONE, days=days
        )
    )
    assert [(r.store_id, r.day, r.metrics.gmv) for r in found] == [
        ("counter", date(2026, 11, 10), Decimal("50.00")),
        ("shop", date(2026, 11, 4), Decimal("1000.00")),
        ("shop", date(2026, 11, 10), Decimal("1000.00")),
    ]
    with pytest.raises(InvalidInput) as refused:
        metrics.store_day_table(
            warehouse, org, date(2026, 11, 5), date(2026, 11, 11), ZONE, days=days
        )
    assert refused.value.field == "days"


def test_the_home_page_in_english_and_chinese(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = str(org.store_ids[0])
    yesterday = today(ZONE) - timedelta(days=1)
    noon = local_day_bounds(yesterday, ZONE)[0] + timedelta(hours=12)
    week_before = noon - timedelta(days=7)

    def at(moment: datetime) -> str:
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat()

    oid = str(org.id)
    ledger = [
        _event(oid, "footfall", at(noon), shop, count=100),
        *[_event(oid, "purchase", at(noon), shop, amount="1000.00") for _ in range(2)],
        _event(oid, "footfall", at(week_before), shop, count=100),
        *[_event(oid, "purchase", at(week_before), shop, amount="1000.00") for _ in range(4)],
    ]
    with container.warehouse.lock:
        _load(container.warehouse.connection(), ledger)
    console_login(client, org.owner_email)
    page = client.get("/console")
    assert page.status_code == 200, page.text
    html = page.text
    assert '<h1 class="h3" id="home-title">Operations centre</h1>' in html
    assert "Times in Asia/Shanghai (UTC+08:00)" in html
    assert f"Against {(yesterday - timedelta(days=7)).isoformat()} (the same day last week)." in (
        text(html, "glance-yesterday-against")
    )
    assert _cells(html, "yesterday-gmv") == ["GMV", "¥2,000.00", "¥4,000.00", "-50.0%"]
    assert _cells(html, "yesterday-visitors") == ["Visitors", "100", "100", "0.0%"]
    assert _cells(html, "yesterday-conversion") == [
        "Paying conversion",
        "2.00%",
        "4.00%",
        "-2.00 pts",
    ]
    assert _cells(html, "yesterday-order-value")[1:3] == ["¥1,000.00", "¥1,000.00"]
    assert _cells(html, "today-gmv")[1] == "¥0.00"
    assert rows(html, "data-drop") == ["Store 0"]
    drop = _cells(html, "Store 0", "data-drop")
    assert drop == [
        "Store 0",
        "Shop",
        "¥4,000.00",
        "¥2,000.00",
        "-¥2,000.00",
        "lower conversion (-¥2,000.00)",
    ]
    link = f"/console/diagnosis/stores/S0?first_day={yesterday.isoformat()}"
    assert link in html
    assert shop not in html.replace(f"/console/stores/{shop}", "")  # names, not ids

    chinese = client.get("/console", headers={"Accept-Language": "zh-CN"}).text
    assert "运营中心" in chinese and "时间为 Asia/Shanghai" in chinese
    assert _cells(chinese, "yesterday-conversion")[0] == "支付转化率"
    assert _cells(chinese, "Store 0", "data-drop")[-1] == "转化率下降（-¥2,000.00）"

    assert client.get("/console/", follow_redirects=False).status_code == 200
    client.cookies.clear()
    signed_out = client.get("/console", follow_redirects=False)
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/console/login")


def test_the_store_page_in_english_and_chinese(
    client: TestClient, container: Container, org: Org
) -> None:
    """Store 0 of the worked example: ¥5,000.00 → ¥5,940.00, LMDI parts +994.84, −574.90,
    +520.06; alone in its group over 16 October – 14 November, so tier 7 of 7."""
    load(container, org)
    console_login(client, org.owner_email)
    page = client.get("/console/diagnosis/stores/S0", params=PARAMS)
    assert page.status_code == 200, page.text
    html = page.text
    assert "Store 0" in text(html, "store-title")
    assert "2026-11-08 – 2026-11-14 (7 days) against 2026-11-01 – 2026-11-07 (7 days)." in html
    bars = re.findall(r'data-bar="([^"]+)".*?class="chart-value"[^>]*>([^<]+)<', html, re.S)
    assert bars == [
        ("base", "¥5,000.00"),
        ("visitors", "+¥994.84"),
        ("conversion", "-¥574.90"),
        ("order_value", "+¥520.06"),
        ("comparison", "¥5,940.00"),
    ]
    assert _cells(html, "visitors", "data-factor") == ["Visitors", "1,000", "1,200", "+¥994.84"]
    assert _cells(html, "conversion", "data-factor") == [
        "Conversion",
        "5.00%",
        "4.50%",
        "-¥574.90",
    ]
    assert _cells(html, "order_value", "data-factor") == [
        "Order value",
        "¥100.00",
        "¥110.00",
        "+¥520.06",
    ]
    assert _cells(html, "gmv", "data-factor") == ["GMV", "¥5,000.00", "¥5,940.00", "+¥940.00"]
    assert "Split by LMDI." in text(html, "store-method")
    assert "Tier 7 of 7" in html
    assert "by GMV over the 30 local days 2026-10-16 – 2026-11-14. Stores in this tier: 1." in html
    assert "among its peers (No category · Shop)" in html
    assert text(html, "store-next-tier") == "Tier 7 is the top tier."
    # 30 days: both periods' sales, ¥10,940.00; alone in its cell, so no peer figures
    assert _cells(html, "gmv", "data-metric") == [
        "30-day GMV",
        "¥10,940.00",
        "—",
        "—",
        "—",
        "fewer peers than the minimum",
    ]
    assert _cells(html, "conversion", "data-metric")[1] == f"{104 / 2200 * 100:.2f}%"
    days = re.findall(r'data-day="([^"]+)".*?<title>([^<]+)</title>', html, re.S)
    assert len(days) == 7 and days[2] == ("2026-11-10", "2026-11-10: ¥5,940.00")
    assert days[0] == ("2026-11-08", "2026-11-08: ¥0.00")
    assert 'id="store-causes"' in html
    store_id = org.store_ids[0]
    for link in (
        f"/console/stores/{store_id}/today",
        f"/console/orders?store_id={store_id}",
        f"/console/stock?location_id={store_id}",
        f'/console/stores/{store_id}"',
        "/console/diagnosis/stores/S0/report?format=pdf",
        "/console/diagnosis/stores/S0/causes?first_day=2026-11-08&amp;last_day=2026-11-14",
        "/console/diagnosis/stores/S0/recommendations?first_day=2026-11-08",
    ):
        assert link in html, link

    chinese = client.get(
        "/console/diagnosis/stores/S0", params=PARAMS, headers={"Accept-Language": "zh-CN"}
    ).text
    assert "GMV 变化拆解" in chinese and "同行对比" in chinese
    assert "第 7 层 / 共 7 层" in chinese and "第 7 层已是最高层级。" in chinese
    assert _cells(chinese, "gmv", "data-metric")[0] == "近 30 天 GMV"
    assert "对比期 GMV" in chinese and "每日 GMV，2026-11-08 至 2026-11-14" in chinese

    missing = client.get("/console/diagnosis/stores/NOPE")
    assert missing.status_code == 404 and "no store with code" in missing.text
    refused = client.get("/console/diagnosis/stores/S0", params={**PARAMS, "first_day": "8/11"})
    assert refused.status_code == 422 and "give a date as YYYY-MM-DD" in refused.text


def test_the_diagnosis_page_links_stores_and_shows_their_tier(
    client: TestClient, container: Container, org: Org
) -> None:
    load(container, org)
    console_login(client, org.owner_email)
    html = client.get("/console/diagnosis", params=PARAMS).text
    query = "first_day=2026-11-08&amp;last_day=2026-11-14&amp;base_first_day=2026-11-01"
    assert f'href="/console/diagnosis/stores/S0?{query}' in html
    assert re.findall(r'data-tier="([^"]*)"', html) == ["7", "7", ""]
    assert re.findall(r'data-grades="([^"]*)"', html) == [",,", ",,", ""]
    assert "over the 30 local days 2026-10-16 – 2026-11-14" in text(html, "diagnosis-tier-note")


def _cells(html: str, key: str, attribute: str = "data-figure") -> list[str]:
    found = re.search(rf'<tr {attribute}="{re.escape(key)}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row {key}"
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found.group(1), re.S)
    return [unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip()) for c in cells]


def test_peer_figures_on_the_pages_when_the_tiers_hold_enough_stores(
    client: TestClient, container: Container, org: Org
) -> None:
    """The peer ledger of test_peer_tiers with a privacy minimum of 2: K4 is graded against
    K5, and K3's gap to tier 4 is split by factor."""
    make_counters(container, org)
    container.settings.diagnosis_min_peers = 2
    console_login(client, org.owner_email)
    november = {
        "first_day": "2026-11-01",
        "last_day": "2026-11-30",
        "base_first_day": "2026-10-02",
        "base_last_day": "2026-10-31",
    }
    html = client.get("/console/diagnosis", params=november).text
    k4 = _cells(html, "Counter K4", "data-store")
    assert k4[9:] == [
        "Tier 4 of 7",
        "Visitors · Poor Conversion · Excellent Order value · Poor",
    ]
    assert 'data-grades="poor,excellent,poor"' in html
    page = client.get("/console/diagnosis/stores/K3", params=november)
    assert page.status_code == 200, page.text
    k3 = page.text
    assert text(k3, "store-next-tier") == "¥100.00 more 30-day GMV to reach tier 4"
    assert text(k3, "store-gap-parts") == (
        "By factor, towards the next tier's typical store: visitors -¥25.99, "
        "conversion +¥96.94, order value +¥29.05."
    )
    assert _cells(k3, "gmv", "data-metric")[1:] == [
        "¥300.00",
        "—",
        "—",
        "—",
        "fewer peers than the minimum",
    ]
    k4_page = client.get("/console/diagnosis/stores/K4", params=november).text
    assert _cells(k4_page, "gmv", "data-metric")[1:] == [
        "¥400.00",
        "¥450.00",
        "¥450.00",
        "¥490.00",
        "Poor",
    ]
    assert _cells(k4_page, "conversion", "data-metric")[1:] == [
        "5.00%",
        "4.50%",
        "4.50%",
        "4.90%",
        "Excellent",
    ]
    chinese = client.get(
        "/console/diagnosis/stores/K3", params=november, headers={"Accept-Language": "zh-CN"}
    ).text
    assert text(chinese, "store-next-tier") == "近 30 天 GMV 再增加 ¥100.00 即可升至第 4 层"
    assert "访客数 -¥25.99，转化率 +¥96.94，客单价 +¥29.05" in text(chinese, "store-gap-parts")
