"""A brand's diagnosis — the console page over HTTP in English and Chinese, the API, the CLI —
on the ledger of test_gmv_change: brand b1 ("Brand") holds Store 0 (the worked example,
¥5,000.00 → ¥5,940.00) and Store 1 (a counter opened in the comparison period, ¥3,000.00); the
refund without a store is no brand's. And the late-outbox flag."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope, utcnow
from newretail.core.settings import Settings
from newretail.events import outbox
from newretail.events import service as events_service
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import TEST_SECRET, Org, api_key_for, console_login, store_args
from tests.console_pages import text
from tests.diagnosis.test_gmv_change import PARAMS, load

runner = CliRunner()
QUERY = "first_day=2026-11-08&amp;last_day=2026-11-14&amp;base_first_day=2026-11-01"
QUIET = "2026-11-08 – 2026-11-09, 2026-11-11 – 2026-11-14"  # the ledger sells on 10 Nov only


def _cells(html: str, attribute: str, key: str) -> list[str]:
    found = re.search(rf'<tr {attribute}="{re.escape(key)}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row {key}"
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found.group(1), re.S)
    return [unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip()) for c in cells]


def test_the_api_splits_the_brand_into_stores_and_factors(
    client: TestClient, container: Container, org: Org
) -> None:
    load(container, org)
    answer = client.get("/api/v1/diagnosis/brands/b1", params=PARAMS, headers=org.auth())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["brand"] == {"code": "b1", "name": "Brand"}
    assert body["period"] == {"first_day": "2026-11-08", "last_day": "2026-11-14", "days": 7}
    total = body["total"]
    # the refund without a store (−¥10.00) is not the brand's: nothing left unattributed
    assert (total["base"]["gmv"], total["comparison"]["gmv"], total["change"]) == (
        "5000.00",
        "8940.00",
        "3940.00",
    )
    assert total["parts"] == {
        "visitors": "3994.84",
        "conversion": "-574.90",
        "order_value": "520.06",
    }
    assert total["unattributed"] == "0.00"
    stores = {s["store_code"]: s for s in body["stores"]}
    assert [s["store_name"] for s in body["stores"]] == ["Store 1", "Store 0"]
    assert stores["S0"]["parts"] == {
        "visitors": "994.84",
        "conversion": "-574.90",
        "order_value": "520.06",
    }
    assert stores["S1"]["parts"] == {
        "visitors": "3000.00",
        "conversion": "0.00",
        "order_value": "0.00",
    }
    for factor in ("visitors", "conversion", "order_value"):
        assert sum(Decimal(s["parts"][factor]) for s in body["stores"]) == Decimal(
            total["parts"][factor]
        )
    assert [(d["day"], d["gmv"]) for d in body["days"]][1:3] == [
        ("2026-11-09", "0.00"),
        ("2026-11-10", "8940.00"),
    ]
    assert [c["text"] for c in body["causes"]] == [
        "traffic at Store 1: +¥3,000.00",
        "conversion at Store 0: −¥574.90",
        "order value at Store 0: +¥520.06",
    ]
    assert body["tier_period"]["first_day"] == "2026-10-16"
    assert [(s["store_name"], s["tier"], s["figures"]["gmv"]) for s in body["tiers"]] == [
        ("Store 0", 7, "10940.00"),
        ("Store 1", 7, "3000.00"),
    ]
    assert [(q["issue"], q["store_code"], q["text"]) for q in body["data_quality"]] == [
        (
            "days_without_events",
            "S0",
            f"Store 0: nothing arrived from the store on {QUIET} (a till or feed that stopped?)",
        ),
        (
            "days_without_events",
            "S1",
            f"Store 1: nothing arrived from the store on {QUIET} (a till or feed that stopped?)",
        ),
    ]
    chinese = client.get(
        "/api/v1/diagnosis/brands/b1",
        params=PARAMS,
        headers={**org.auth(), "Accept-Language": "zh-CN"},
    ).json()
    assert chinese["data_quality"][0]["text"] == (
        f"Store 0: 门店在 {QUIET} 没有任何事件到达（收银或数据源是否中断？）"
    )

    missing = client.get("/api/v1/diagnosis/brands/nope", headers=org.auth())
    assert missing.status_code == 404 and missing.json()["field"] == "brand"
    refused = client.get(
        "/api/v1/diagnosis/brands/b1",
        params={**PARAMS, "last_day": "2026-11-01"},
        headers=org.auth(),
    )
    assert refused.status_code == 422 and refused.json()["field"] == "last_day"

    manager = api_key_for(client, org, Role.STORE_MANAGER, [org.store_ids[1]])
    theirs = client.get("/api/v1/diagnosis/brands/b1", params=PARAMS, headers=org.auth(manager))
    assert theirs.status_code == 200, theirs.text
    assert [s["store_name"] for s in theirs.json()["stores"]] == ["Store 1"]
    assert theirs.json()["total"]["change"] == "3000.00"
    assert [s["store_name"] for s in theirs.json()["tiers"]] == ["Store 1"]


def test_the_brand_page_in_english_and_chinese(
    client: TestClient, container: Container, org: Org
) -> None:
    load(container, org)
    console_login(client, org.owner_email)
    page = client.get("/console/diagnosis/brands/b1", params=PARAMS)
    assert page.status_code == 200, page.text
    html = page.text
    assert text(html, "brand-title") == "Brand Brand diagnosis"
    assert "2026-11-08 – 2026-11-14 (7 days) against 2026-11-01 – 2026-11-07 (7 days)." in html
    bars = re.findall(r'data-bar="([^"]+)".*?class="chart-value"[^>]*>([^<]+)<', html, re.S)
    assert bars == [
        ("base", "¥5,000.00"),
        ("visitors", "+¥3,994.84"),
        ("conversion", "-¥574.90"),
        ("order_value", "+¥520.06"),
        ("comparison", "¥8,940.00"),
    ]
    split = html[html.index('id="brand-split"') :]
    assert _cells(split, "data-store", "Store 0") == [
        "Store 0 Shop",
        "¥5,000.00",
        "¥5,940.00",
        "+¥940.00",
        "+¥994.84",
        "-¥574.90",
        "+¥520.06",
        "—",
        "LMDI",
    ]
    assert _cells(split, "data-store", "Store 1")[3:7] == [
        "+¥3,000.00",
        "+¥3,000.00",
        "¥0.00",
        "¥0.00",
    ]
    assert _cells(split, "data-store", "")[:7] == [
        "Brand, all stores",
        "¥5,000.00",
        "¥8,940.00",
        "+¥3,940.00",
        "+¥3,994.84",
        "-¥574.90",
        "+¥520.06",
    ]
    days = re.findall(r'data-day="([^"]+)".*?<title>([^<]+)</title>', html, re.S)
    assert len(days) == 7 and days[2] == ("2026-11-10", "2026-11-10: ¥8,940.00")
    assert "traffic at Store 1: +¥3,000.00" in html
    tiers = html[html.index('id="brand-tier-table"') :]
    assert re.findall(r'<tr data-store="([^"]+)" data-tier="(\d)"', tiers) == [
        ("Store 0", "7"),
        ("Store 1", "7"),
    ]
    assert _cells(tiers, "data-store", "Store 0")[:6] == [
        "Store 0",
        "Shop",
        "No category",
        "Tier 7 of 7",
        "¥10,940.00",
        "Tier 7 is the top tier.",
    ]
    assert f"Store 0: nothing arrived from the store on {QUIET}" in unescape(html)
    for link in (
        "/console/diagnosis/funnels?brand=b1&amp;first_day=2026-11-08&amp;last_day=2026-11-14",
        f"/console/diagnosis/metrics?by=brand&amp;{QUERY}",
        f"/console/diagnosis/stores/S0?{QUERY}",
        f"/console/diagnosis?{QUERY}",
    ):
        assert link in html, link
    assert str(org.store_ids[0]) not in html

    chinese = client.get(
        "/console/diagnosis/brands/b1", params=PARAMS, headers={"Accept-Language": "zh-CN"}
    ).text
    assert "品牌诊断" in chinese and "按门店和因素拆分的变化" in chinese
    assert _cells(chinese, "data-store", "")[0] == "Brand，全部门店"
    assert "旗下门店的同行层级" in chinese and "第 7 层 / 共 7 层" in chinese

    missing = client.get("/console/diagnosis/brands/nope")
    assert missing.status_code == 404
    refused = client.get("/console/diagnosis/brands/b1", params={**PARAMS, "first_day": "8/11"})
    assert refused.status_code == 422 and "give a date as YYYY-MM-DD" in refused.text


def test_the_diagnosis_pages_link_the_brand(
    client: TestClient, container: Container, org: Org
) -> None:
    load(container, org)
    console_login(client, org.owner_email)
    link = f'href="/console/diagnosis/brands/b1?{QUERY}'
    why = client.get("/console/diagnosis", params=PARAMS).text
    assert why.count(link) == 2  # under each of its stores
    store = client.get("/console/diagnosis/stores/S0", params=PARAMS).text
    assert link in store and text(store, "store-brand") == "Brand: Brand"
    chinese = client.get(
        "/console/diagnosis/stores/S0", params=PARAMS, headers={"Accept-Language": "zh-CN"}
    ).text
    assert text(chinese, "store-brand") == "品牌：Brand"
    by_brand = client.get("/console/diagnosis/metrics", params={**PARAMS, "by": "brand"}).text
    assert link in by_brand
    funnels = client.get("/console/diagnosis/funnels", params={"brand": "b1"})
    assert funnels.status_code == 200, funnels.text
    assert '<option value="b1" selected>Brand</option>' in funnels.text
    unknown = client.get("/console/diagnosis/funnels", params={"brand": "nope"})
    assert unknown.status_code == 404 and "no brand" in unknown.text


def test_the_cli_prints_what_the_api_answers(
    client: TestClient,
    container: Container,
    settings: Settings,
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    load(container, org)
    api = client.get("/api/v1/diagnosis/brands/b1", params=PARAMS, headers=org.auth()).json()
    container.warehouse.close()  # the command opens the embedded warehouse itself
    base = [*store_args(settings), "diagnosis", "brand", "b1", "--org", org.slug]
    periods = ["--from", "2026-11-08", "--to", "2026-11-14"]
    periods += ["--against-from", "2026-11-01", "--against-to", "2026-11-07"]
    as_json = runner.invoke(app, [*base, *periods, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == api
    human = runner.invoke(app, [*base, *periods])
    assert human.exit_code == 0, human.output
    words = " ".join(human.stdout.split())
    assert (
        "all its stores: ¥5,000.00 → ¥8,940.00, change +¥3,940.00 = visitors +¥3,994.84, "
        "conversion -¥574.90, order value +¥520.06"
    ) in words
    assert "cause: traffic at Store 1: +¥3,000.00" in words
    missing = runner.invoke(
        app, [*store_args(settings), "diagnosis", "brand", "x", "--org", org.slug]
    )
    assert missing.exit_code != 0 and "brand" in missing.output


def test_a_late_outbox_marks_the_figures_as_maybe_incomplete(
    client: TestClient, container: Container, org: Org
) -> None:
    """Two facts written 20 and 16 minutes ago and one a minute ago, none relayed: with the
    default 15 minutes, two are late; once relayed, none."""
    load(container, org)
    now = utcnow()
    with session_scope(container.sessions, org.id) as session:
        for minutes in (20, 16, 1):
            message = outbox.enqueue(session, org.id, "purchase", amount=Decimal("1.00"))
            message.created_at = now - timedelta(minutes=minutes)
    owner = Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="test")
    with session_scope(container.sessions, org.id) as session:
        delay = events_service.late_outbox(session, owner, timedelta(minutes=15), now)
        assert (delay.waiting, delay.oldest) == (2, now - timedelta(minutes=20))
        assert events_service.late_outbox(session, owner, timedelta(minutes=30), now).waiting == 0
    answer = client.get("/api/v1/diagnosis/brands/b1", params=PARAMS, headers=org.auth()).json()
    late = answer["data_quality"][0]
    assert (late["issue"], late["waiting"], late["store_code"]) == ("late_outbox", 2, None)
    assert late["oldest"].endswith("+08:00")  # the organisation's local time, with its offset
    assert late["text"].startswith("2 sales, refunds or other facts are not yet in the warehouse")
    assert late["text"].endswith("local time): these figures may be incomplete")
    console_login(client, org.owner_email)
    for path in ("/console/diagnosis", "/console/diagnosis/stores/S0"):
        html = client.get(path, params=PARAMS).text
        assert "2 sales, refunds or other facts are not yet in the warehouse" in text(
            html, "late-outbox"
        )
    chinese = client.get(
        "/console/diagnosis", params=PARAMS, headers={"Accept-Language": "zh-CN"}
    ).text
    assert "有 2 条销售、退款等业务事实尚未进入数据仓库" in text(chinese, "late-outbox")

    outbox.relay_all(container.sessions, container.warehouse)
    answer = client.get("/api/v1/diagnosis/brands/b1", params=PARAMS, headers=org.auth()).json()
    assert [q["issue"] for q in answer["data_quality"]] == ["days_without_events"] * 2
    assert 'id="late-outbox"' not in client.get("/console/diagnosis", params=PARAMS).text


def test_the_demo_says_its_tier_settings_are_its_own(
    client: TestClient, container: Container, org: Org
) -> None:
    load(container, org)
    console_login(client, org.owner_email)
    note = "Demo settings: the demo's peer groups hold 1 to 5 stores"
    assert note not in client.get("/console/diagnosis", params=PARAMS).text
    container.settings.demo = True
    container.settings.diagnosis_min_peers = 2
    container.settings.diagnosis_tier_cut_points = "50"
    for path in (
        "/console/diagnosis",
        "/console/diagnosis/brands/b1",
        "/console/diagnosis/stores/S0",
    ):
        html = client.get(path, params=PARAMS).text
        assert text(html, "demo-tier-note").startswith(note), path
        assert "Tier 3 of 3" in html, path
    chinese = client.get(
        "/console/diagnosis", params=PARAMS, headers={"Accept-Language": "zh-CN"}
    ).text
    assert text(chinese, "demo-tier-note").startswith("演示设置")
