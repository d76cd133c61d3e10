"""Why GMV moved (SQLite and PostgreSQL operational stores, the DuckDB warehouse): the service
on a hand-built ledger — exact parts per store, the organisation's the sum of its stores' — and
the REST API: names not ids, a store manager's stores only, refused periods by field."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.diagnosis import service
from newretail.diagnosis.decomposition import Factor, Method, Period, QualityFlag, QualityIssue
from newretail.diagnosis.errors import InvalidDiagnosisPeriod
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import TEST_SECRET, Org, api_key_for, console_login, store_args
from tests.console_pages import rows, text
from tests.diagnosis.test_metrics import _event, _load

runner = CliRunner()
BASE = (date(2026, 11, 1), date(2026, 11, 7))
NOW = (date(2026, 11, 8), date(2026, 11, 14))
# Shanghai noon on 3 and 10 November
BASE_AT, NOW_AT = "2026-11-03T04:00", "2026-11-10T04:00"
PARAMS = {
    "first_day": "2026-11-08",
    "last_day": "2026-11-14",
    "base_first_day": "2026-11-01",
    "base_last_day": "2026-11-07",
}


def ledger(org: Org) -> list[dict[str, Any]]:
    """Store 0 (a shop) is the worked example of docs/diagnosis.md: visitors 1,000 → 1,200
    (a people counter), buyers 50 → 54, GMV ¥5,000.00 → ¥5,940.00. Store 1 (a counter) opens
    in the comparison period: 400 visitors, 20 buyers, ¥3,000.00. And a refund of ¥10.00
    without a store in the comparison period (GMV without buyers: unattributed)."""
    org_id = str(org.id)
    shop, counter = (str(s) for s in org.store_ids)

    def buys(store: str, at: str, count: int, amount: str) -> list[dict[str, Any]]:
        return [
            _event(org_id, "purchase", at, store, amount=amount, order_id=f"o-{uuid.uuid4()}")
            for _ in range(count)
        ]

    return [
        _event(org_id, "footfall", BASE_AT, shop, count=1000),
        *buys(shop, BASE_AT, 50, "100.00"),
        _event(org_id, "footfall", NOW_AT, shop, count=1200),
        *buys(shop, NOW_AT, 54, "110.00"),
        _event(org_id, "footfall", NOW_AT, counter, count=400),
        *buys(counter, NOW_AT, 20, "150.00"),
        _event(org_id, "order_refunded", NOW_AT, None, amount="10.00", order_id="old"),
    ]


def load(container: Container, org: Org) -> None:
    with container.warehouse.lock:
        _load(container.warehouse.connection(), ledger(org))


def _owner(org: Org, store_ids: list[uuid.UUID] | None = None) -> Principal:
    if store_ids is None:
        return Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="test")
    return Principal.for_role(
        PrincipalKind.USER, org.id, Role.STORE_MANAGER, actor="test", store_ids=frozenset(store_ids)
    )


def _money(text: str) -> Decimal:
    return Decimal(text)


def test_each_store_split_exactly_and_the_organisation_is_their_sum(
    container: Container, org: Org
) -> None:
    load(container, org)
    with session_scope(container.sessions, org.id) as session:
        found = service.gmv_change(session, _owner(org), container.warehouse, *NOW, *BASE)
    assert found.time_zone == "Asia/Shanghai"
    assert (found.period.first, found.period.last, found.period.days) == (*NOW, 7)
    assert (found.base_period.first, found.base_period.last) == BASE
    # ranked by the size of the change: the shop +940, the counter +3,000, no store -10
    assert [c.store.name for c in found.stores] == ["Store 1", "Store 0", None]
    assert [c.store.channel_type for c in found.stores] == ["counter", "store", None]
    split = found.decomposition
    counter, shop, nowhere = (split.stores[service.store_key(c)] for c in found.stores)
    assert shop.method is Method.LMDI
    assert dict(shop.parts) == {
        Factor.VISITORS: _money("994.84"),
        Factor.CONVERSION: _money("-574.90"),
        Factor.ORDER_VALUE: _money("520.06"),
    }
    assert counter.method is Method.SHAPLEY
    assert dict(counter.parts) == {
        Factor.VISITORS: _money("3000.00"),
        Factor.CONVERSION: _money("0.00"),
        Factor.ORDER_VALUE: _money("0.00"),
    }
    assert nowhere.method is Method.UNATTRIBUTED
    assert nowhere.unattributed == _money("-10.00")
    assert nowhere.flags == frozenset(
        {
            QualityFlag(QualityIssue.GMV_WITHOUT_BUYERS, Period.COMPARISON),
            QualityFlag(QualityIssue.NEGATIVE_GMV, Period.COMPARISON),
        }
    )
    assert dict(split.parts) == {
        Factor.VISITORS: _money("3994.84"),
        Factor.CONVERSION: _money("-574.90"),
        Factor.ORDER_VALUE: _money("520.06"),
    }
    for factor in Factor:
        assert split.parts[factor] == sum(
            (each.parts[factor] for each in split.stores.values()), Decimal(0)
        )
    assert (split.base_gmv, split.comparison_gmv, split.unattributed) == (
        _money("5000.00"),
        _money("8930.00"),
        _money("-10.00"),
    )
    assert sum(split.parts.values()) + split.unattributed == split.change == _money("3930.00")
    assert (found.base.visitors, found.comparison.visitors) == (1000, 1600)
    assert (found.base.buyers, found.comparison.buyers) == (50, 74)


def test_a_store_manager_sees_only_their_stores(container: Container, org: Org) -> None:
    load(container, org)
    shop = org.store_ids[0]
    with session_scope(container.sessions, org.id) as session:
        found = service.gmv_change(session, _owner(org, [shop]), container.warehouse, *NOW, *BASE)
    assert [c.store.name for c in found.stores] == ["Store 0"]
    assert found.decomposition.change == _money("940.00")


def test_default_periods_and_refusals() -> None:
    yesterday = date(2026, 12, 6)
    period, base = service.check_periods(None, None, None, None, yesterday)
    assert (period.first, period.last) == (date(2026, 11, 30), date(2026, 12, 6))
    assert (base.first, base.last) == (date(2026, 11, 23), date(2026, 11, 29))
    one_day = date(2026, 11, 11)
    period, base = service.check_periods(one_day, one_day, None, None, yesterday)
    assert (base.first, base.last) == (date(2026, 11, 10), date(2026, 11, 10))
    refusals = [
        ((date(2026, 11, 2), date(2026, 11, 1), None, None), "last_day"),
        ((date(2026, 1, 1), date(2026, 4, 3), None, None), "last_day"),  # 93 days
        ((date(2026, 11, 2), None, None, None), "last_day"),
        ((None, date(2026, 11, 2), None, None), "first_day"),
        ((None, None, date(2026, 11, 2), None), "base_last_day"),
        ((None, None, date(2026, 11, 2), date(2026, 11, 1)), "base_last_day"),
    ]
    for given, field in refusals:
        with pytest.raises(InvalidDiagnosisPeriod) as refused:
            service.check_periods(*given, yesterday)
        assert refused.value.field == field, given
    longest = service.check_periods(date(2026, 1, 1), date(2026, 4, 2), None, None, yesterday)
    assert longest[0].days == 92


def test_the_api_names_stores_and_refuses_a_period_by_field(
    client: TestClient, container: Container, org: Org
) -> None:
    load(container, org)
    answer = client.get("/api/v1/diagnosis/gmv-change", params=PARAMS, headers=org.auth())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["time_zone"] == "Asia/Shanghai"
    assert body["period"] == {"first_day": "2026-11-08", "last_day": "2026-11-14", "days": 7}
    assert body["base_period"] == {"first_day": "2026-11-01", "last_day": "2026-11-07", "days": 7}
    assert body["organisation"] == {
        "base": {
            "gmv": "5000.00",
            "visitors": 1000,
            "buyers": 50,
            "conversion": 0.05,
            "order_value": "100.00",
        },
        "comparison": {
            "gmv": "8930.00",
            "visitors": 1600,
            "buyers": 74,
            "conversion": 74 / 1600,
            "order_value": "120.68",
        },
        "change": "3930.00",
        "parts": {"visitors": "3994.84", "conversion": "-574.90", "order_value": "520.06"},
        "unattributed": "-10.00",
    }
    stores = body["stores"]
    assert [(s["store_name"], s["store_code"], s["channel_label"]) for s in stores] == [
        ("Store 1", "S1", "Counter"),
        ("Store 0", "S0", "Shop"),
        ("Without a store", None, None),
    ]
    shop = stores[1]
    assert shop["store_id"] == str(org.store_ids[0])
    assert (shop["change"], shop["method"], shop["method_label"]) == ("940.00", "lmdi", "LMDI")
    assert shop["parts"] == {"visitors": "994.84", "conversion": "-574.90", "order_value": "520.06"}
    assert stores[2]["flags"] == [
        {
            "issue": "gmv_without_buyers",
            "period": "comparison",
            "text": "GMV without buyers (now)",
        },
        {"issue": "negative_gmv", "period": "comparison", "text": "refunds above sales (now)"},
    ]
    chinese = client.get(
        "/api/v1/diagnosis/gmv-change",
        params=PARAMS,
        headers={**org.auth(), "Accept-Language": "zh-CN"},
    ).json()
    assert [s["store_name"] for s in chinese["stores"]] == ["Store 1", "Store 0", "无门店"]
    assert chinese["stores"][2]["flags"][0]["text"] == "有 GMV 无买家（本期）"

    refused = client.get(
        "/api/v1/diagnosis/gmv-change",
        params={**PARAMS, "last_day": "2026-11-01"},
        headers=org.auth(),
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "diagnosis_invalid_period"
    assert refused.json()["field"] == "last_day"
    too_long = client.get(
        "/api/v1/diagnosis/gmv-change",
        params={**PARAMS, "base_first_day": "2026-01-01"},
        headers=org.auth(),
    )
    assert too_long.status_code == 422 and too_long.json()["field"] == "base_last_day"
    not_a_day = client.get(
        "/api/v1/diagnosis/gmv-change", params={"first_day": "11/8"}, headers=org.auth()
    )
    assert not_a_day.status_code == 422 and "first_day" in not_a_day.text

    manager = api_key_for(client, org, Role.STORE_MANAGER, [org.store_ids[1]])
    theirs = client.get("/api/v1/diagnosis/gmv-change", params=PARAMS, headers=org.auth(manager))
    assert theirs.status_code == 200, theirs.text
    assert [s["store_name"] for s in theirs.json()["stores"]] == ["Store 1"]
    assert theirs.json()["organisation"]["change"] == "3000.00"


def test_the_cli_prints_what_the_api_answers(
    client: TestClient,
    container: Container,
    settings: Settings,
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    load(container, org)
    api = client.get("/api/v1/diagnosis/gmv-change", params=PARAMS, headers=org.auth()).json()
    container.warehouse.close()  # the command opens the embedded warehouse itself
    check_the_cli(settings, org, api)


def check_the_cli(settings: Settings, org: Org, api: dict[str, Any]) -> None:
    """`newretail diagnosis gmv-change`: `--json` is the API's answer, the human output names
    the stores, a refused period names its field."""
    base = [*store_args(settings), "diagnosis", "gmv-change", "--org", org.slug]
    periods = ["--from", "2026-11-08", "--to", "2026-11-14"]
    periods += ["--against-from", "2026-11-01", "--against-to", "2026-11-07"]
    as_json = runner.invoke(app, [*base, *periods, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == api
    human = runner.invoke(app, [*base, *periods])
    assert human.exit_code == 0, human.output
    assert "GMV 2026-11-08 … 2026-11-14 against 2026-11-01 … 2026-11-07" in human.stdout
    assert (
        "all stores: ¥5,000.00 → ¥8,930.00, change +¥3,930.00 = visitors +¥3,994.84, "
        "conversion -¥574.90, order value +¥520.06, unattributed -¥10.00"
    ) in " ".join(human.stdout.split())
    assert "Store 1" in human.stdout and "Store 0" in human.stdout
    assert "Without a store" in human.stdout and str(org.store_ids[0]) not in human.stdout
    assert (
        "data quality, Without a store: GMV without buyers (now); refunds above sales (now)"
        in " ".join(human.stdout.split())
    )
    refused = runner.invoke(app, [*base, "--from", "2026-11-08", "--to", "2026-11-01"])
    assert refused.exit_code == 2
    assert "diagnosis_invalid_period" in refused.output and "last_day" in refused.output


def test_the_console_page_in_english_and_chinese(
    client: TestClient, container: Container, org: Org
) -> None:
    load(container, org)
    console_login(client, org.owner_email)
    page = client.get("/console/diagnosis", params=PARAMS)
    assert page.status_code == 200, page.text
    html = page.text
    assert "Coming in a later release" not in html
    assert '<h1 class="h3" id="diagnosis-title">Why GMV moved</h1>' in html
    assert "2026-11-08 – 2026-11-14 (7 days) against 2026-11-01 – 2026-11-07 (7 days)." in html
    assert "Times in Asia/Shanghai (UTC+08:00)" in html
    assert 'id="f-base_first_day" name="base_first_day" type="date" value="2026-11-01"' in html
    cells = ("base-gmv", "gmv", "change", "visitors", "conversion", "order-value")
    organisation = [text(html, f"org-{cell}") for cell in cells]
    assert organisation == [
        "¥5,000.00",
        "¥8,930.00",
        "+¥3,930.00",
        "+¥3,994.84",
        "-¥574.90",
        "+¥520.06",
    ]
    assert "Unattributed: -¥10.00" in html
    assert rows(html, "data-store") == ["Store 1", "Store 0", "Without a store"]
    shop = _row(html, "Store 0")
    assert shop == [
        "Store 0 Brand · Recommendations",
        "Shop",
        "¥5,000.00",
        "¥5,940.00",
        "+¥940.00",
        "+¥994.84",
        "-¥574.90",
        "+¥520.06",
        "LMDI",
        "Tier 7 of 7",
        "—",
    ]
    without = _row(html, "Without a store")
    # the flags in words under the store's name
    assert without[0] == "Without a store ⚠ GMV without buyers (now); refunds above sales (now)"
    assert without[-3:] == ["Not split", "—", "—"]
    assert str(org.store_ids[0]) not in html

    chinese = client.get("/console/diagnosis", params=PARAMS, headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 200
    assert "GMV 为什么变了" in chinese.text and "时间为 Asia/Shanghai" in chinese.text
    assert "2026-11-08 至 2026-11-14（7 天）对比 2026-11-01 至 2026-11-07（7 天）" in chinese.text
    assert _row(chinese.text, "Store 1")[:5] == [
        "Store 1 Brand · 建议",
        "专柜",
        "¥0.00",
        "¥3,000.00",
        "+¥3,000.00",
    ]
    assert _row(chinese.text, "无门店")[0] == "无门店 ⚠ 有 GMV 无买家（本期）; 退款多于销售（本期）"

    refused = client.get("/console/diagnosis", params={**PARAMS, "last_day": "2026-11-01"})
    assert refused.status_code == 422
    assert "last day comes before the first day" in refused.text
    defaults = client.get("/console/diagnosis")
    assert defaults.status_code == 200 and 'id="diagnosis-empty"' in defaults.text


def _row(html: str, store: str) -> list[str]:
    """The cells of a store's row in the stores table, as text."""
    found = re.search(rf'<tr data-store="{re.escape(store)}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {store}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)
    return [unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip()) for c in cells]
