"""Metrics by group through the service's API, CLI and console page: the store-day figures and
the buyer figures side by side, names not ids, a store manager's stores, refusals by field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.tenancy import crowd_floor
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import ON_SQLITE, TEST_SECRET, Org, api_key_for, console_login, store_args
from tests.console_pages import rows
from tests.diagnosis.test_customers import ledger
from tests.diagnosis.test_metrics import _load

runner = CliRunner()
PARAMS = {
    "first_day": "2026-11-10",
    "last_day": "2026-11-16",
    "base_first_day": "2026-11-03",
    "base_last_day": "2026-11-09",
}


def load(container: Container, org: Org) -> None:
    """The buyer ledger of test_customers at Store 0 (a shop in Shanghai), Store 1 (a counter
    in Beijing) and a web shop without a city, all of the organisation's one brand."""
    with session_scope(container.sessions, org.id) as session:
        owner = Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="test")
        crowd_floor.update_settings(session, owner, 1)  # a handful of people: nothing hidden
        web = tenancy_service.create_store(
            session,
            owner,
            tenancy_schemas.StoreCreate(
                code="W0", name="Web shop", channel_type=ChannelType.ONLINE, brand_id=org.brand_id
            ),
        )
        web_id = str(web.id)
    shop, counter = (str(s) for s in org.store_ids)
    with container.warehouse.lock:
        _load(container.warehouse.connection(), ledger(str(org.id), shop, counter, web_id))


def _get(client: TestClient, org: Org, by: str, **headers: str) -> Any:
    answer = client.get(
        "/api/v1/diagnosis/metrics", params={**PARAMS, "by": by}, headers={**org.auth(), **headers}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_by_store_the_figures_of_both_kinds(
    client: TestClient, container: Container, org: Org
) -> None:
    load(container, org)
    body = _get(client, org, "store")
    assert body["period"] == {"first_day": "2026-11-10", "last_day": "2026-11-16", "days": 7}
    assert [g["name"] for g in body["groups"]] == ["Store 0", "Store 1", "Web shop"]
    shop = body["groups"][0]
    assert shop["change"] == "330.00" and shop["base"]["gmv"] == "0.00"
    now = shop["comparison"]
    assert {k: now[k] for k in ("gmv", "visitors", "transactions", "order_value")} == {
        "gmv": "330.00",
        "visitors": 2,  # a1 on 10 Nov, m2 on 11 Nov
        "transactions": 5,
        "order_value": "66.00",  # ¥330 ÷ 5 buyer-days
    }
    assert now["conversion"] == 1.0  # the 2 buyers of the 2 days with visitors, of 2 visitors
    assert {k: now[k] for k in ("buyers", "new_buyers", "returning_buyers")} == {
        "buyers": 4,
        "new_buyers": 2,
        "returning_buyers": 1,
    }
    assert (now["repeat_rate"], now["member_share"], now["across_share"]) == (
        1 / 3,
        300 / 330,
        1 / 3,
    )
    assert (now["coupons_redeemed"], now["coupon_discount"], now["campaign_gmv"]) == (
        1,
        "5.00",
        "50.00",
    )
    web = body["groups"][2]
    assert (web["base"]["visitors"], web["comparison"]["buyers"]) == (1, 1)  # m1's 9 Nov view


def test_other_groupings(client: TestClient, container: Container, org: Org) -> None:
    load(container, org)
    whole = _get(client, org, "organisation")["groups"]
    assert [
        (g["name"], g["comparison"]["buyers"], g["comparison"]["returning_buyers"]) for g in whole
    ] == [("All your stores", 7, 2)]
    channels = _get(client, org, "channel", **{"Accept-Language": "zh-CN"})["groups"]
    assert [(g["name"], g["comparison"]["gmv"]) for g in channels] == [
        ("门店", "330.00"),
        ("专柜", "80.00"),
        ("线上", "40.00"),
    ]
    cities = _get(client, org, "city")["groups"]
    assert [g["name"] for g in cities] == ["Shanghai", "Beijing", "No city"]
    brands = _get(client, org, "brand")["groups"]
    assert [(g["name"], g["comparison"]["gmv"], g["comparison"]["buyers"]) for g in brands] == [
        ("Brand", "450.00", 7)
    ]
    manager = api_key_for(client, org, Role.STORE_MANAGER, [org.store_ids[1]])
    theirs = client.get(
        "/api/v1/diagnosis/metrics", params={**PARAMS, "by": "store"}, headers=org.auth(manager)
    ).json()["groups"]
    assert [(g["name"], g["comparison"]["gmv"]) for g in theirs] == [("Store 1", "80.00")]
    refused = client.get("/api/v1/diagnosis/metrics", params={"by": "planet"}, headers=org.auth())
    assert refused.status_code == 422 and "by" in refused.text


@ON_SQLITE
def test_the_cli_prints_what_the_api_answers(
    client: TestClient,
    container: Container,
    settings: Any,
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    load(container, org)
    api = _get(client, org, "channel")
    container.warehouse.close()  # the command opens the embedded warehouse itself
    base = [*store_args(settings), "diagnosis", "metrics", "--org", org.slug, "--by", "channel"]
    days = ["--from", "2026-11-10", "--to", "2026-11-16"]
    days += ["--against-from", "2026-11-03", "--against-to", "2026-11-09"]
    as_json = runner.invoke(app, [*base, *days, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == api
    human = " ".join(runner.invoke(app, [*base, *days]).stdout.split())
    assert "Metrics by channel, 2026-11-10 … 2026-11-16 against 2026-11-03 … 2026-11-09" in human
    # conversion over the store-days that counted visitors: 2 buyers of 2 visitors (not 5 of 2)
    assert "Shop │ ¥330.00 │ +¥330.00 │ 2 │ 100.0 % │ ¥66.00 │ ¥0.00" in human
    assert "Shop │ 4 │ 2 │ 1 │ 33.3 % │ 90.9 % │ 33.3 % │ ¥50.00" in human


@ON_SQLITE
def test_the_console_page_in_english_and_chinese(
    client: TestClient, container: Container, org: Org
) -> None:
    load(container, org)
    console_login(client, org.owner_email)
    page = client.get("/console/diagnosis/metrics", params={**PARAMS, "by": "store"})
    assert page.status_code == 200, page.text
    assert rows(page.text, "data-group") == ["Store 0", "Store 1", "Web shop"] * 2  # two tables
    assert '<td class="text-end text-nowrap" data-metric="conversion">100.0 %' in page.text
    assert 'id="metrics-above-visitors"' not in page.text
    assert str(org.store_ids[0]) not in page.text
    assert "Times in Asia/Shanghai (UTC+08:00)" in page.text
    chinese = client.get(
        "/console/diagnosis/metrics",
        params={**PARAMS, "by": "city"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert chinese.status_code == 200
    assert rows(chinese.text, "data-group") == ["Shanghai", "Beijing", "无城市"] * 2
    assert "会员销售占比" in chinese.text
    refused = client.get(
        "/console/diagnosis/metrics",
        params={"by": "planet", "first_day": "2026-11-10"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert refused.status_code == 422
    assert "请按门店、品牌、渠道、城市或整个组织分组。" in refused.text
    assert 'id="metrics-form"' in refused.text and 'value="2026-11-10"' in refused.text
