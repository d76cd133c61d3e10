"""Recommendations of a store's diagnosis (SQLite and PostgreSQL operational stores, the DuckDB
warehouse) on hand-built ledgers: which recommendation for which cause, in cents; acting
creates the stock transfer, the audience and the campaign draft through their services; the
memory across periods; the API (fields named, another organisation's id not found), the CLI
and the console page."""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from newretail.audiences import service as audiences_service
from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from newretail.core.i18n import translator
from newretail.core.localtime import today
from newretail.core.settings import Settings
from newretail.diagnosis import recommendation_flows as flows
from newretail.diagnosis import recommendations
from newretail.diagnosis.adtributor import Dimension
from newretail.diagnosis.causes import Cause, CauseKind, StoreCauses
from newretail.diagnosis.decomposition import Factor, PeriodTotals, decompose
from newretail.diagnosis.models import DiagnosisRecommendation, RecommendationKind
from newretail.diagnosis.recommendation_schemas import memory_text, sentence
from newretail.diagnosis.recommendations import Location
from newretail.diagnosis.service import Period, StoreRef
from newretail.inventory import reads as inventory_reads
from newretail.inventory import schemas as inventory_schemas
from newretail.inventory import service as inventory_service
from newretail.marketing import campaigns
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Role
from tests.conftest import ON_SQLITE, Org, api_key_for, console_login, store_args
from tests.diagnosis import test_gmv_change
from tests.diagnosis.test_causes import BASE, NOW, PRICES, _lmdi, _skus, ledger
from tests.diagnosis.test_gmv_change import _owner
from tests.diagnosis.test_metrics import _event, _load

Kind = RecommendationKind
runner = CliRunner()
EN = translator("en")
LATER = (date(2026, 11, 15), date(2026, 11, 21))
NOV17 = "2026-11-17T04:00"  # noon in Shanghai
PARAMS = {
    "first_day": "2026-11-08",
    "last_day": "2026-11-14",
    "base_first_day": "2026-11-01",
    "base_last_day": "2026-11-07",
}


# --- the rules on plain objects ------------------------------------------------------------


def _place(code: str, city: str | None, available: int, at: tuple[float, float] | None = None):  # type: ignore[no-untyped-def]
    lat, lon = at or (None, None)
    return Location(uuid.uuid4(), code, f"Store {code}", city, lat, lon, available)


def test_the_nearest_source_is_in_the_same_city_first_then_the_closest() -> None:
    shop = _place("S0", "Shanghai", 0, (31.23, 121.47))
    beijing = _place("BJ", "Beijing", 100, (39.90, 116.40))
    far_sh = _place("SH-FAR", "Shanghai", 40, (31.00, 121.90))
    near_sh = _place("SH-NEAR", "Shanghai", 40, (31.24, 121.48))
    few_sh = _place("SH-FEW", "Shanghai", 5, (31.23, 121.47))
    empty = _place("SH-EMPTY", "Shanghai", 0, (31.23, 121.47))
    found = recommendations.nearest_source
    assert found(shop, [beijing, far_sh, near_sh, few_sh, empty], 22) == near_sh
    # those with all the units wanted before those with fewer
    assert found(shop, [beijing, few_sh], 22) == few_sh  # the same city wins first
    assert found(shop, [far_sh, few_sh], 22) == far_sh
    assert found(shop, [beijing], 22) == beijing
    assert found(shop, [empty], 22) is None
    # without coordinates: by code within the city
    bare = _place("S0", "Shanghai", 0)
    b, a = _place("B", "Shanghai", 50), _place("A", "Shanghai", 50)
    assert found(bare, [b, a], 1) == a


def test_units_are_the_lost_sales_at_the_price_rounded_up_and_capped() -> None:
    assert recommendations.units_to_transfer(Decimal("-2156.00"), Decimal("100.00"), 30) == 22
    assert recommendations.units_to_transfer(Decimal("-2156.00"), Decimal("100.00"), 8) == 8
    assert recommendations.units_to_transfer(Decimal("-2100.00"), Decimal("100.00"), 30) == 21
    assert recommendations.units_to_transfer(Decimal("-0.50"), Decimal("100.00"), 30) == 1
    assert recommendations.units_to_transfer(Decimal("-2156.00"), None, 30) is None


def _diagnosis(base: PeriodTotals, now: PeriodTotals, found: list[Cause]) -> StoreCauses:
    store = StoreRef(uuid.UUID(int=7), "S7", "Store 7", "store")
    return StoreCauses(
        store=store,
        time_zone="Asia/Shanghai",
        period=Period(*NOW),
        base_period=Period(*BASE),
        decomposition=decompose(base, now),
        explanations={},
        causes=found,
    )


def _no_transfer(cause: Cause) -> dict[str, Any]:
    raise AssertionError("no stock-out here")


def test_a_traffic_drop_asks_for_the_lapsed_buyers_and_order_value_for_the_buyers() -> None:
    # visitors 1,000 -> 800 (×0.8), conversion and order value unchanged: all of −¥1,000.00
    # is traffic, no searched value explains it (the factor's part is the amount)
    traffic = _diagnosis(
        PeriodTotals(1000, 50, Decimal("5000.00")),
        PeriodTotals(800, 40, Decimal("4000.00")),
        [],
    )
    (proposal,) = recommendations.propose(traffic, _no_transfer)
    store = str(uuid.UUID(int=7))
    assert (proposal.kind, proposal.factor, proposal.cause) == (
        Kind.LAPSED_CAMPAIGN,
        Factor.VISITORS,
        "factor",
    )
    assert proposal.amount == proposal.factor_amount == Decimal("-1000.00")
    purchase = {"events": ["purchase"], "store_id": [store]}
    assert proposal.detail == {
        "base": {"visitors": 1000, "buyers": 50, "gmv": "5000.00"},
        "rules": {
            "all": [
                {
                    "type": "behaviour",
                    **purchase,
                    "window": {"from": "2025-11-08", "to": "2026-11-07"},
                },
                {
                    "type": "did_not",
                    **purchase,
                    "window": {"from": "2026-11-08", "to": "2026-11-14"},
                },
            ]
        },
        "holdout_percent": 10,
    }
    # order value ¥100 -> ¥80 with the same buyers: −¥1,000.00 of order value
    basket = _diagnosis(
        PeriodTotals(1000, 50, Decimal("5000.00")),
        PeriodTotals(1000, 50, Decimal("4000.00")),
        [],
    )
    (proposal,) = recommendations.propose(basket, _no_transfer)
    assert (proposal.kind, proposal.factor, proposal.amount) == (
        Kind.BUYERS_CAMPAIGN,
        Factor.ORDER_VALUE,
        Decimal("-1000.00"),
    )
    assert proposal.detail["rules"] == {
        "type": "behaviour",
        **purchase,
        "window": {"from": "2026-11-08", "to": "2026-11-14"},
    }
    # nothing fell: nothing to recommend
    grew = _diagnosis(
        PeriodTotals(1000, 50, Decimal("5000.00")),
        PeriodTotals(1100, 60, Decimal("6600.00")),
        [],
    )
    assert recommendations.propose(grew, _no_transfer) == []


def test_a_conversion_drop_without_a_stock_out_asks_for_the_interested_not_bought() -> None:
    hour = Cause(
        kind=CauseKind.BUSINESS,
        amount=Decimal("-574.90"),
        factor=Factor.CONVERSION,
        dimension=Dimension.HOUR,
        key="12",
        label="12:00–13:00",
    )
    found = _diagnosis(
        PeriodTotals(1000, 50, Decimal("5000.00")),
        PeriodTotals(1200, 54, Decimal("5940.00")),
        [hour],
    )
    (proposal,) = recommendations.propose(found, _no_transfer)
    assert (proposal.kind, proposal.factor, proposal.cause, proposal.cause_label) == (
        Kind.INTERESTED_CAMPAIGN,
        Factor.CONVERSION,
        "hour",
        "12:00–13:00",
    )
    assert proposal.amount == proposal.factor_amount == Decimal("-574.90")
    at_store = {"store_id": [str(uuid.UUID(int=7))]}
    window = {"from": "2026-11-08", "to": "2026-11-14"}
    assert proposal.detail["rules"] == {
        "all": [
            {
                "type": "behaviour",
                "events": list(recommendations.INTEREST_EVENTS),
                **at_store,
                "window": window,
            },
            {"type": "did_not", "events": ["purchase"], **at_store, "window": window},
        ]
    }


# --- on a hand-built ledger ---------------------------------------------------------------


def _stocked(container: Container, org: Org) -> tuple[dict[str, uuid.UUID], uuid.UUID]:
    """The causes' ledger (Serum A out of stock at Store 0, its counter silent on the 12th),
    a third store in Shanghai, and stock of A received today at Store 1 (Beijing, 50) and
    Store 2 (Shanghai, 30)."""
    skus = _skus(container, org)
    owner = _owner(org)
    with session_scope(container.sessions, org.id) as session:
        third = tenancy_service.create_store(
            session,
            owner,
            tenancy_schemas.StoreCreate(
                code="S2",
                name="Store 2",
                channel_type=ChannelType.STORE,
                brand_id=org.brand_id,
                city="Shanghai",
            ),
        )
        for location, units in ((org.store_ids[1], 50), (third.id, 30)):
            inventory_service.receive_stock(
                session,
                owner,
                inventory_schemas.ReceiptCreate(
                    location_id=location,
                    lines=[inventory_schemas.StockLineIn(sku_id=skus["A"], quantity=units)],
                ),
            )
    with container.warehouse.lock:
        _load(container.warehouse.connection(), ledger(str(org.id), str(org.store_ids[0]), skus))
    return skus, third.id


def _recommend(container: Container, org: Org, *days: date) -> flows.StoreRecommendations:
    with session_scope(container.sessions, org.id) as session:
        return flows.store_recommendations(
            session, _owner(org), container.warehouse, "S0", *(days or (*NOW, *BASE))
        )


def test_a_stock_out_asks_for_a_transfer_and_a_silent_counter_for_a_check(
    container: Container, org: Org
) -> None:
    skus, third = _stocked(container, org)
    found = _recommend(container, org)
    split = found.diagnosis.decomposition
    # LMDI-I, independently −¥1,094.03; the parts are rounded to add up to −¥1,700.00 exactly
    conversion = Decimal("-1094.02")
    assert abs(_lmdi(340000, 170000, Fraction(37 * 1000, 1156 * 50)) - conversion) <= Decimal(
        "0.01"
    )
    assert split.parts[Factor.CONVERSION] == conversion
    assert sum(split.parts.values()) == Decimal("-1700.00")
    assert found.weakest is Factor.CONVERSION
    counter, transfer = found.current
    # data quality first: the counter's silence on the 12th, the traffic part it would have
    # shown (+¥355.54 with the day estimated, 0 as counted)
    assert (counter.kind, counter.factor, counter.cause, counter.state) == (
        Kind.CHECK_COUNTER,
        "visitors",
        "counter_silence",
        "proposed",
    )
    assert counter.amount == Decimal("-355.54")
    assert counter.detail["days"] == ["2026-11-12"]
    # the top cause: Serum A out of stock, −¥2,156.00 of conversion; 22 units (¥2,156.00 at
    # ¥100.00, rounded up) from Store 2, in the same city, before Store 1 in Beijing
    assert (transfer.kind, transfer.factor, transfer.cause) == (
        Kind.STOCK_TRANSFER,
        "conversion",
        "stock_out",
    )
    assert (transfer.cause_key, transfer.cause_label) == (str(skus["A"]), "Serum A")
    assert transfer.amount == Decimal("-2156.00")
    assert transfer.factor_amount == conversion
    assert transfer.detail["quantity"] == 22
    assert transfer.detail["price"] == PRICES["A"]
    assert transfer.detail["source"] == {
        "id": str(third),
        "code": "S2",
        "name": "Store 2",
        "city": "Shanghai",
        "available": 30,
    }
    assert transfer.detail["stock_out_days"] == ["2026-11-10", "2026-11-12"]
    assert transfer.detail["base"] == {"visitors": 1000, "buyers": 50, "gmv": "3400.00"}
    # shown again: the same rows, not new ones
    again = _recommend(container, org)
    assert [r.id for r in again.current] == [counter.id, transfer.id]
    with session_scope(container.sessions, org.id) as session:
        assert session.scalar(select(func.count()).select_from(DiagnosisRecommendation)) == 2


def test_acting_books_the_transfer_and_the_next_period_shows_whether_it_worked(
    container: Container, org: Org
) -> None:
    skus, third = _stocked(container, org)
    counter, transfer = _recommend(container, org).current
    owner = _owner(org)
    with session_scope(container.sessions, org.id) as session:
        acted = flows.act(session, owner, "S0", transfer.id, EN)
        assert (acted.state, acted.acted_by) == ("acted", "test")
        (created,) = acted.created_objects
        assert (created["type"], created["name"]) == ("stock_transfer", "22 × Serum A")
        moves = inventory_reads.list_movements(session, owner, 10, None, reference=created["id"])[0]
        assert sorted((m.location_id, m.delta, m.reason) for m in moves) == sorted(
            [(third, -22, "transfer_out"), (org.store_ids[0], 22, "transfer_in")]
        )
        level = inventory_reads.get_level(session, owner, third, skus["A"])
        assert level.available == 8
        with pytest.raises(Conflict) as twice:
            flows.act(session, owner, "S0", transfer.id, EN)
        assert twice.value.field == "state"
        flows.dismiss(session, owner, "S0", counter.id)
    # the week after: A sells again as in the base week (20 + 20 + 10 orders, 1,000 entries)
    buys = []
    for code, orders in (("A", 20), ("B", 20), ("C", 10)):
        line = {"sku_id": str(skus[code]), "quantity": 1, "amount": PRICES[code]}
        buys += [
            _event(
                str(org.id),
                "purchase",
                NOV17,
                str(org.store_ids[0]),
                amount=PRICES[code],
                order_id=f"o-{uuid.uuid4()}",
                lines=[line],
            )
            for _ in range(orders)
        ]
    footfall = _event(str(org.id), "footfall", NOV17, str(org.store_ids[0]), count=1000)
    with container.warehouse.lock:
        _load(container.warehouse.connection(), [footfall, *buys])
    later = _recommend(container, org, *LATER)
    assert later.diagnosis.decomposition.comparison == PeriodTotals(1000, 50, Decimal("3400.00"))
    shown = {e.recommendation.kind: e for e in later.earlier}
    assert set(shown) == {Kind.STOCK_TRANSFER, Kind.CHECK_COUNTER}
    # against the base week of the recommendation (1–7 Nov) conversion is back: 0
    worked = shown[Kind.STOCK_TRANSFER]
    assert worked.recommendation.factor_amount == Decimal("-1094.02")
    assert worked.now == Decimal("0.00")
    day = today("Asia/Shanghai").isoformat()
    assert memory_text(worked.recommendation, worked.now, "Asia/Shanghai", EN) == (
        f"conversion -¥1,094.02 → ¥0.00 after the transfer on {day}"
    )
    zh = memory_text(worked.recommendation, worked.now, "Asia/Shanghai", translator("zh-CN"))
    assert zh == f"转化率 -¥1,094.02 → ¥0.00 （{day} 调拨之后）"
    assert shown[Kind.CHECK_COUNTER].recommendation.state == "dismissed"


def test_acting_on_a_conversion_drop_creates_the_audience_and_the_campaign_draft(
    container: Container, org: Org
) -> None:
    test_gmv_change.load(container, org)
    (interested,) = _recommend(container, org).current
    assert (interested.kind, interested.factor, interested.cause, interested.amount) == (
        Kind.INTERESTED_CAMPAIGN,
        "conversion",
        "factor",  # every sale at one hour: no searched value explains it
        Decimal("-574.90"),
    )
    analyst = _owner(org).__class__.for_role(
        _owner(org).kind, org.id, Role.ANALYST, actor="analyst"
    )
    with session_scope(container.sessions, org.id) as session:
        with pytest.raises(Forbidden):
            flows.act(session, analyst, "S0", interested.id, EN)
        with pytest.raises(InvalidInput) as quantity:
            flows.act(session, _owner(org), "S0", interested.id, EN, quantity=3)
        assert quantity.value.field == "quantity"
        with pytest.raises(NotFound) as elsewhere:
            flows.act(session, _owner(org), "S1", interested.id, EN)
        assert elsewhere.value.field == "recommendation_id"
        acted = flows.act(session, _owner(org), "S0", interested.id, EN)
        audience_ref, campaign_ref = acted.created_objects
        name = "Store 0: interested, not bought, 2026-11-08 – 2026-11-14"
        assert (audience_ref["type"], audience_ref["name"]) == ("audience", name)
        assert (campaign_ref["type"], campaign_ref["name"]) == ("campaign", name)
        audience = audiences_service.get_audience(
            session, _owner(org), uuid.UUID(audience_ref["id"])
        )
        assert audience["rules"] == interested.detail["rules"]
        campaign = campaigns.get_campaign(session, uuid.UUID(campaign_ref["id"]))
        assert (campaign.state, campaign.holdout_percent, campaign.brand_id) == (
            "draft",
            10,
            org.brand_id,
        )
        (stage,) = campaign.stages
        start = today("Asia/Shanghai") + timedelta(days=1)
        assert (stage.first_day, stage.last_day) == (start, start + timedelta(days=13))
        assert stage.audience_ids == [audience_ref["id"]]


# --- API, CLI, console ---------------------------------------------------------------------


def test_the_api_lists_acts_dismisses_and_names_fields(
    container: Container, client: TestClient, org: Org, other_org: Org
) -> None:
    _stocked(container, org)
    url = "/api/v1/diagnosis/stores/S0/recommendations"
    answer = client.get(url, params=PARAMS, headers=org.auth())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["store_name"], body["weakest_factor"], body["weakest_label"]) == (
        "Store 0",
        "conversion",
        "conversion",
    )
    counter, transfer = body["recommendations"]
    assert transfer["text"] == (
        "Transfer 22 units of Serum A from Store 2 to Store 0: conversion -¥2,156.00 while it "
        "was out of stock (2 days)."
    )
    assert (transfer["amount"], transfer["permission"], transfer["can_act"]) == (
        "-2156.00",
        "stock:manage",
        True,
    )
    assert counter["text"] == (
        "Check the people counter of Store 0: it sent nothing on 2026-11-12 while the till "
        "sold, which puts traffic's part off by -¥355.54 (no commerce action)."
    )
    chinese = client.get(url, params=PARAMS, headers={**org.auth(), "accept-language": "zh-CN"})
    assert chinese.json()["recommendations"][1]["text"] == (
        "从Store 2调拨 22 件Serum A到Store 0：缺货期间（2 天）转化率影响 -¥2,156.00。"
    )
    # bad input names its field; another organisation's id does not exist
    act = f"{url}/{transfer['id']}/act"
    zero = client.post(act, json={"quantity": 0}, headers=org.auth())
    assert (zero.status_code, zero.json()["field"]) == (422, "body.quantity")
    # (the other organisation has a store S0 of its own, without this recommendation)
    mine_elsewhere = client.post(act, headers=other_org.auth())
    assert mine_elsewhere.status_code == 404
    assert mine_elsewhere.json()["field"] == "recommendation_id"
    analyst = api_key_for(client, org, Role.ANALYST)
    refused = client.post(act, headers=org.auth(analyst))
    assert refused.status_code == 403
    done = client.post(act, json={"quantity": 5}, headers=org.auth())
    assert done.status_code == 200, done.text
    (created,) = done.json()["created"]
    assert created["name"] == "5 × Serum A"
    assert created["url"] == (
        f"/console/stock/movements?location_id={org.store_ids[0]}&reference="
        + created["id"].replace(":", "%3A")
    )
    assert done.json()["state"] == "acted"
    again = client.post(act, headers=org.auth())
    assert (again.status_code, again.json()["field"]) == (409, "state")
    dismissed = client.post(f"{url}/{counter['id']}/dismiss", headers=org.auth())
    assert (dismissed.status_code, dismissed.json()["state"]) == (200, "dismissed")
    missing = client.post(f"{url}/{uuid.uuid4()}/dismiss", headers=org.auth())
    assert (missing.status_code, missing.json()["field"]) == (404, "recommendation_id")
    nowhere = client.get(url.replace("S0", "NOPE"), headers=org.auth())
    assert (nowhere.status_code, nowhere.json()["field"]) == (404, "store")


@ON_SQLITE  # the API test reads the operational store on both
def test_the_cli_recommends_and_acts(container: Container, settings: Settings, org: Org) -> None:
    _stocked(container, org)
    args = ["diagnosis", "recommend", "--org", org.slug, "--store", "S0"]
    days = ["--from", "2026-11-08", "--to", "2026-11-14"]
    days += ["--against-from", "2026-11-01", "--against-to", "2026-11-07"]
    shown = runner.invoke(app, [*store_args(settings), *args, *days, "--json"])
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.output)
    _, transfer = body["recommendations"]
    printed = runner.invoke(app, [*store_args(settings), *args, *days])
    assert printed.exit_code == 0, printed.output
    text = " ".join(printed.output.split())
    assert "Transfer 22 units of Serum A from Store 2 to Store 0" in text
    assert transfer["id"] in text
    acted = runner.invoke(
        app, [*store_args(settings), *args, *days, "--act", transfer["id"], "--json"]
    )
    assert acted.exit_code == 0, acted.output
    assert json.loads(acted.output)["state"] == "acted"


@ON_SQLITE
def test_the_console_page_shows_and_acts_with_csrf(
    container: Container, client: TestClient, org: Org
) -> None:
    _stocked(container, org)
    console_login(client, org.owner_email)
    query = "?" + "&".join(f"{k}={v}" for k, v in PARAMS.items())
    page = client.get(f"/console/diagnosis/stores/S0/recommendations{query}")
    assert page.status_code == 200, page.text
    html = unescape(page.text)
    assert "Transfer 22 units of Serum A from Store 2 to Store 0" in html
    # the store page shows the same recommendations in a section of its own
    store_page = unescape(client.get(f"/console/diagnosis/stores/S0{query}").text)
    section = store_page.split('id="store-recommendations"', 1)[1]
    assert "Transfer 22 units of Serum A from Store 2 to Store 0" in section
    assert len(re.findall(r"/recommendations/([0-9a-f-]{36})/act", section)) == 2
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    ids = re.findall(r"/recommendations/([0-9a-f-]{36})/act", html)
    assert len(ids) == 2
    forged = client.post(
        f"/console/diagnosis/stores/S0/recommendations/{ids[1]}/act",
        data={"csrf_token": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code in (400, 403)
    done = client.post(
        f"/console/diagnosis/stores/S0/recommendations/{ids[1]}/act{query}",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert done.status_code == 200, done.text
    html = unescape(done.text)
    assert "22 × Serum A" in html
    assert "/console/stock/movements?location_id=" in html
    chinese = client.get(
        f"/console/diagnosis/stores/S0/recommendations{query}",
        headers={"Accept-Language": "zh-CN"},
    )
    html = unescape(chinese.text)
    assert "检查Store 0的客流计数器" in html
    assert "库存调拨: 22 × Serum A" in html  # what acting created, linked
    assert ">已执行<" in html and ">执行</button>" in html  # the counter check still open
    home = client.get(f"/console/diagnosis{query}")
    assert "/console/diagnosis/stores/S0/recommendations" in home.text
    why = client.get(f"/console/diagnosis/stores/S0/causes{query}")
    assert f'/console/diagnosis/stores/S0/recommendations{query.replace("&", "&amp;")}"' in why.text


def test_two_people_acting_at_once_book_one_transfer(container: Container, org: Org) -> None:
    skus, third = _stocked(container, org)
    _, transfer = _recommend(container, org).current
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act() -> None:
        barrier.wait()
        try:
            with session_scope(container.sessions, org.id) as session:
                flows.act(session, _owner(org), "S0", transfer.id, EN)
            outcomes.append("acted")
        except Conflict as exc:
            outcomes.append(f"refused {exc.field}")

    threads = [threading.Thread(target=act) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["acted", "refused state"]
    with session_scope(container.sessions, org.id) as session:
        level = inventory_reads.get_level(session, _owner(org), third, skus["A"])
        assert level.available == 30 - 22


def test_a_store_manager_transfers_only_between_their_stores(
    container: Container, org: Org
) -> None:
    _stocked(container, org)
    manager = _owner(org, [org.store_ids[0]])
    with session_scope(container.sessions, org.id) as session:
        found = flows.store_recommendations(
            session, manager, container.warehouse, "S0", *NOW, *BASE
        )
        _, transfer = found.current
        # Stores 1 and 2 hold the serum but are not theirs: nowhere to take it from
        assert (transfer.kind, transfer.detail["source"], transfer.detail["quantity"]) == (
            Kind.STOCK_TRANSFER,
            None,
            None,
        )
        assert sentence(transfer, "Store 0", EN) == (
            "Receive stock of Serum A at Store 0: no other location has it available; "
            "conversion -¥2,156.00 while it was out of stock (2 days)."
        )
        with pytest.raises(Conflict) as nowhere:
            flows.act(session, manager, "S0", transfer.id, EN)
        assert nowhere.value.field == "source"
        with pytest.raises(NotFound) as not_theirs:
            flows.store_recommendations(session, manager, container.warehouse, "S1")
        assert not_theirs.value.field == "store"
        # the owner acting on it (as the manager last saw it) plans again: from Store 2
        acted = flows.act(session, _owner(org), "S0", transfer.id, EN)
        assert (acted.detail["source"]["code"], acted.detail["quantity"]) == ("S2", 22)
        assert acted.created_objects[0]["name"] == "22 × Serum A"
