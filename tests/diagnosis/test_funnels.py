"""Funnels online, offline and across on a hand-built ledger, on DuckDB and PostgreSQL: who
reaches each step in order within the window, optional steps, a store's side, and the API,
the CLI and the console page."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.diagnosis import funnels
from newretail.diagnosis.funnels import FUNNELS, FunnelKind, Where
from newretail.diagnosis.service import Period
from newretail.tenancy import crowd_floor
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import ON_SQLITE, TEST_SECRET, Org, api_key_for, console_login, store_args
from tests.console_pages import rows, text
from tests.diagnosis.test_metrics import _event, _load, duck, pg_warehouse  # noqa: F401

runner = CliRunner()
ZONE = "Asia/Shanghai"
PERIOD = Period(date(2026, 11, 10), date(2026, 11, 16))  # 9 Nov 16:00Z … 16 Nov 16:00Z


def ledger(org: str, shop: str, counter: str, web: str) -> list[dict[str, Any]]:
    """Times are UTC (Shanghai is UTC+8)."""

    def on(type_: str, at: str, person: str, **kw: Any) -> dict[str, Any]:
        who = {"anonymous": person[2:]} if person.startswith("a:") else {"member": person}
        return _event(org, type_, at, web, channel="online", **who, **kw)

    def at(store: str, type_: str, when: str, person: str | None, **kw: Any) -> dict[str, Any]:
        channel = "store" if store == shop else "counter"
        return _event(org, type_, when, store, member=person, channel=channel, **kw)

    return [
        # m1: the whole online funnel on 10 Nov
        on("product_view", "2026-11-10T01:00", "m1", product_id="p1"),
        on("favorite", "2026-11-10T01:10", "m1", product_id="p1"),
        on("add_to_cart", "2026-11-10T01:20", "m1", product_id="p1"),
        on("order_placed", "2026-11-10T01:30", "m1", order_id="o1"),
        on("purchase", "2026-11-10T01:31", "m1", amount="10.00", order_id="o1"),
        # m2: viewed and carted; ordered only after the period
        on("product_view", "2026-11-10T02:00", "m2", product_id="p1"),
        on("add_to_cart", "2026-11-11T02:00", "m2", product_id="p1"),
        on("order_placed", "2026-11-20T02:00", "m2", order_id="o2"),
        # a1 (anonymous): carted before viewing: a view only
        on("add_to_cart", "2026-11-10T00:50", "a:a1", product_id="p2"),
        on("product_view", "2026-11-10T01:00", "a:a1", product_id="p2"),
        # m3: viewed and favourited online, visited the shop and paid there two days later
        on("product_view", "2026-11-10T03:00", "m3", product_id="p3"),
        on("favorite", "2026-11-10T03:05", "m3", product_id="p3"),
        at(shop, "store_visit", "2026-11-12T03:00", "m3"),
        at(shop, "purchase", "2026-11-12T03:30", "m3", amount="30.00", order_id="o3"),
        # m4: viewed online, paid in the shop after the window and the period
        on("product_view", "2026-11-10T04:00", "m4", product_id="p4"),
        at(shop, "purchase", "2026-11-18T04:00", "m4", amount="40.00", order_id="o4"),
        # m5: walked in and paid
        at(shop, "store_visit", "2026-11-11T02:00", "m5"),
        at(shop, "purchase", "2026-11-11T02:20", "m5", amount="50.00", order_id="o5"),
        # m6: browsed the counter's shelf, ordered and paid there
        at(counter, "shelf_browse", "2026-11-12T05:00", "m6", product_id="p6"),
        at(counter, "order_placed", "2026-11-12T05:10", "m6", order_id="o6"),
        at(counter, "purchase", "2026-11-12T05:11", "m6", amount="60.00", order_id="o6"),
        # m7: viewed online and bought online without a cart (the online funnel needs one)
        on("product_view", "2026-11-13T01:00", "m7", product_id="p7"),
        on("purchase", "2026-11-13T01:30", "m7", amount="70.00", order_id="o7"),
        # m8: paid in the shop, then was seen visiting: not paid after entering
        at(shop, "purchase", "2026-11-11T02:00", "m8", amount="80.00", order_id="o8"),
        at(shop, "store_visit", "2026-11-11T03:00", "m8"),
        # nobody to follow; before the period; another organisation
        at(shop, "store_visit", "2026-11-11T03:00", None),
        on("product_view", "2026-11-09T15:59", "m9", product_id="p9"),
        _event(str(uuid.uuid4()), "product_view", "2026-11-10T01:00", None, member="m1"),
    ]


SHOP, COUNTER, WEB = "shop", "counter", "web"


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def loaded(request: pytest.FixtureRequest) -> tuple[Any, str]:
    con = request.getfixturevalue("duck" if request.param == "duckdb" else "pg_warehouse")
    org = str(uuid.uuid4())
    _load(con, ledger(org, SHOP, COUNTER, WEB))
    return con, org


def _counts(
    loaded: tuple[Any, str], kind: FunnelKind, stores: dict[Where, list[str]] | None = None
) -> list[int]:
    con, org = loaded
    return funnels.step_counts(con, org, FUNNELS[kind], PERIOD, ZONE, 7, stores)


def test_online_funnel_in_order_within_the_window(loaded: tuple[Any, str]) -> None:
    # view: m1 m2 a1 m3 m4 m7; favourite (optional): m1 m3; cart: m1 m2; order: m1; pay: m1
    assert _counts(loaded, FunnelKind.ONLINE) == [6, 2, 2, 1, 1]


def test_offline_funnel_with_optional_steps(loaded: tuple[Any, str]) -> None:
    # view: m3 m5 m6 m8; favourite, cart: nobody; order: m6; pay: m3 m5 m6 (m8 paid before)
    assert _counts(loaded, FunnelKind.OFFLINE) == [4, 0, 0, 1, 3]


def test_across_funnel_online_interest_paid_in_a_store(loaded: tuple[Any, str]) -> None:
    # viewed online: 6; carted: m1 m2; visited a store: m3; paid in a store in 7 days: m3
    assert _counts(loaded, FunnelKind.ACROSS) == [6, 2, 1, 1]


def test_a_store_restricts_its_side_only(loaded: tuple[Any, str]) -> None:
    assert _counts(loaded, FunnelKind.OFFLINE, {Where.OFFLINE: [SHOP]}) == [3, 0, 0, 0, 2]
    assert _counts(loaded, FunnelKind.OFFLINE, {Where.OFFLINE: [COUNTER]}) == [1, 0, 0, 1, 1]
    # the shop's across funnel: everyone's online interest, paid in the shop
    assert _counts(loaded, FunnelKind.ACROSS, {Where.OFFLINE: [SHOP]}) == [6, 2, 1, 1]
    assert _counts(loaded, FunnelKind.ACROSS, {Where.OFFLINE: [COUNTER]}) == [6, 2, 0, 0]
    assert _counts(loaded, FunnelKind.ONLINE, {Where.ONLINE: []}) == [0, 0, 0, 0, 0]


def test_conversions_from_the_previous_required_step() -> None:
    found = funnels.counted(FUNNELS[FunnelKind.ONLINE], [6, 2, 2, 1, 1])
    assert [(s.people, s.from_previous, s.from_first) for s in found] == [
        (6, None, None),
        (2, 2 / 6, 2 / 6),  # favourite, of the viewers
        (2, 2 / 6, 2 / 6),  # cart, of the viewers too: the favourite is optional
        (1, 1 / 2, 1 / 6),
        (1, 1.0, 1 / 6),
    ]
    assert funnels.counted(FUNNELS[FunnelKind.ACROSS], [0, 0, 0, 0])[3].from_previous is None


def _owned(container: Container, org: Org) -> dict[str, str]:
    """The ledger loaded into the embedded warehouse with the organisation's stores: S0 (a
    shop), S1 (a counter) and an online store W0."""

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
    return {"shop": shop, "counter": counter, "web": web_id}


PARAMS = {"first_day": "2026-11-10", "last_day": "2026-11-16"}


def test_the_api_in_english_and_chinese_and_its_refusals(
    client: TestClient, container: Container, org: Org
) -> None:
    _owned(container, org)
    answer = client.get(
        "/api/v1/diagnosis/funnels", params={**PARAMS, "kind": "across"}, headers=org.auth()
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["kind_label"] == "Online to store" and body["time_zone"] == "Asia/Shanghai"
    assert body["period"] == {"first_day": "2026-11-10", "last_day": "2026-11-16", "days": 7}
    assert [(s["step"], s["label"], s["people"]) for s in body["steps"]] == [
        ("view", "View", 6),
        ("cart", "Cart", 2),
        ("visit", "Store visit", 1),
        ("pay", "Payment", 1),
    ]
    assert (body["entered"], body["converted"], body["conversion"]) == (6, 1, 1 / 6)
    shop = client.get(
        "/api/v1/diagnosis/funnels",
        params={"kind": "offline", **PARAMS, "store": "S0"},
        headers=org.auth(),
    ).json()
    assert (shop["store_name"], [s["people"] for s in shop["steps"]]) == (
        "Store 0",
        [3, 0, 0, 0, 2],
    )
    online = client.get(
        "/api/v1/diagnosis/funnels",
        params={"kind": "online", **PARAMS, "store": "W0"},
        headers={**org.auth(), "Accept-Language": "zh-CN"},
    ).json()
    assert online["kind_label"] == "线上" and online["steps"][-1]["label"] == "支付"
    assert [s["people"] for s in online["steps"]] == [6, 2, 2, 1, 1]

    window = client.get(
        "/api/v1/diagnosis/funnels",
        params={"kind": "online", **PARAMS, "window_days": "31"},
        headers=org.auth(),
    )
    # the schema says 1 to 30 (maximum), so the request's shape is refused
    assert window.status_code == 422 and window.json()["field"] == "query.window_days"
    kind = client.get("/api/v1/diagnosis/funnels", params={"kind": "sideways"}, headers=org.auth())
    assert kind.status_code == 422 and "kind" in kind.text
    store = client.get(
        "/api/v1/diagnosis/funnels", params={"kind": "online", "store": "NOPE"}, headers=org.auth()
    )
    assert store.status_code == 404 and store.json()["field"] == "store"


def test_a_store_manager_sees_their_stores_side(
    client: TestClient, container: Container, org: Org
) -> None:
    _owned(container, org)
    manager = api_key_for(client, org, Role.STORE_MANAGER, [org.store_ids[1]])
    theirs = client.get(
        "/api/v1/diagnosis/funnels", params={**PARAMS, "kind": "offline"}, headers=org.auth(manager)
    ).json()
    assert [s["people"] for s in theirs["steps"]] == [1, 0, 0, 1, 1]  # the counter's m6
    across = client.get(
        "/api/v1/diagnosis/funnels", params={**PARAMS, "kind": "across"}, headers=org.auth(manager)
    ).json()
    assert [s["people"] for s in across["steps"]] == [6, 2, 0, 0]
    shop = client.get(
        "/api/v1/diagnosis/funnels",
        params={"kind": "offline", **PARAMS, "store": "S0"},
        headers=org.auth(manager),
    )
    assert shop.status_code == 404


@ON_SQLITE
def test_the_cli_prints_what_the_api_answers(
    client: TestClient,
    container: Container,
    settings: Any,
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    _owned(container, org)
    api = client.get(
        "/api/v1/diagnosis/funnels", params={**PARAMS, "kind": "offline"}, headers=org.auth()
    )
    container.warehouse.close()  # the command opens the embedded warehouse itself
    base = [*store_args(settings), "diagnosis", "funnel", "offline", "--org", org.slug]
    days = ["--from", "2026-11-10", "--to", "2026-11-16"]
    as_json = runner.invoke(app, [*base, *days, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == api.json()
    human = " ".join(runner.invoke(app, [*base, *days]).stdout.split())
    assert "In the stores funnel, 2026-11-10 … 2026-11-16 (local days, Asia/Shanghai" in human
    assert "Order (optional) │ 1 │ 25.0 % │ 25.0 %" in human
    assert "3 of 4 paid (75.0 %)" in human
    refused = runner.invoke(app, [*base, "--window", "0"])
    assert refused.exit_code == 2 and "window_days" in refused.output


@ON_SQLITE
def test_the_console_page_in_english_and_chinese(
    client: TestClient, container: Container, org: Org
) -> None:
    _owned(container, org)
    console_login(client, org.owner_email)
    page = client.get("/console/diagnosis/funnels", params=PARAMS)
    assert page.status_code == 200, page.text
    html = page.text
    assert "2026-11-10 – 2026-11-16 (7 days), conversion window 7 days." in html
    assert "Times in Asia/Shanghai (UTC+08:00)" in html
    assert rows(html, "data-funnel") == ["online", "offline", "across"]
    assert "4 of 6 paid" not in html and "1 of 6 paid (16.7 %)." in html
    assert "3 of 4 paid (75.0 %)." in html
    assert '<option value="S0" >Store 0 · Shop</option>' in html
    assert str(org.store_ids[0]) not in html
    chinese = client.get(
        "/console/diagnosis/funnels", params=PARAMS, headers={"Accept-Language": "zh-CN"}
    )
    assert "转化漏斗" in chinese.text and "4 人中 3 人支付（75.0 %）。" in chinese.text
    refused = client.get(
        "/console/diagnosis/funnels",
        params={**PARAMS, "window_days": "x"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert refused.status_code == 422
    assert 'data-error="window_days"' in refused.text
    assert "转化窗口须为 1 到 30 之间的整数天。" in refused.text
    assert 'id="funnel-form"' in refused.text and 'value="2026-11-10"' in refused.text
    assert text(refused.text, "funnel-title") == "转化漏斗"


def test_a_brand_restricts_each_side_to_its_stores(
    client: TestClient, container: Container, org: Org
) -> None:
    """Brand b1 holds S0, S1 and W0: its funnels are the organisation's. Brand b2 holds only a
    counter without events: its offline funnel is empty, and its across funnel keeps the
    organisation's online interest, as a store manager's does."""
    _owned(container, org)
    with session_scope(container.sessions, org.id) as session:
        owner = Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="test")
        other = tenancy_service.create_brand(
            session, owner, tenancy_schemas.BrandCreate(code="b2", name="Other brand")
        )
        tenancy_service.create_store(
            session,
            owner,
            tenancy_schemas.StoreCreate(
                code="C2", name="Counter 2", channel_type=ChannelType.COUNTER, brand_id=other.id
            ),
        )

    def people(kind: str, brand: str) -> list[int]:
        answer = client.get(
            "/api/v1/diagnosis/funnels",
            params={**PARAMS, "kind": kind, "brand": brand},
            headers=org.auth(),
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["brand_code"] == brand
        return [s["people"] for s in answer.json()["steps"]]

    assert people("offline", "b1") == [4, 0, 0, 1, 3]
    assert people("online", "b1") == [6, 2, 2, 1, 1]
    assert people("offline", "b2") == [0, 0, 0, 0, 0]
    assert people("online", "b2") == [0, 0, 0, 0, 0]
    assert people("across", "b2") == [6, 2, 0, 0]
    missing = client.get(
        "/api/v1/diagnosis/funnels", params={"kind": "online", "brand": "x"}, headers=org.auth()
    )
    assert missing.status_code == 404 and missing.json()["field"] == "brand"
