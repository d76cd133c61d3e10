"""Why a store's GMV moved (the Adtributor search over SKU, category, hour and stock-out, in
cents) on a hand-built ledger: a best seller out of stock is the top cause, a silent people
counter a data-quality cause; DuckDB and PostgreSQL read the same figures."""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.catalog import schemas as catalog_schemas
from newretail.catalog import service as catalog_service
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.diagnosis import adtributor, cause_reads, causes, service
from newretail.diagnosis.adtributor import Dimension
from newretail.diagnosis.decomposition import Factor, PeriodTotals
from newretail.diagnosis.service import Period
from newretail.inventory.models import StockMovement
from tests.conftest import ON_SQLITE, TEST_SECRET, Org, console_login, store_args
from tests.diagnosis.test_gmv_change import _owner
from tests.diagnosis.test_metrics import _event, _load
from tests.diagnosis.test_metrics import duck as duck
from tests.diagnosis.test_metrics import pg_warehouse as pg_warehouse
from tests.diagnosis.test_metrics import warehouse as warehouse

runner = CliRunner()
BASE = (date(2026, 11, 1), date(2026, 11, 7))
NOW = (date(2026, 11, 8), date(2026, 11, 14))
# noon in Shanghai on 3, 10 and 12 November
NOV3, NOV10, NOV12 = "2026-11-03T04:00", "2026-11-10T04:00", "2026-11-12T04:00"
PRICES = {"A": "100.00", "B": "50.00", "C": "40.00"}


def _skus(container: Container, org: Org) -> dict[str, uuid.UUID]:
    """Serum A (the best seller), Cream B and Tea C, and the shop's stock ledger: 20 of A
    received on 20 October and sold on 3 November, so A opens every later day at 0."""
    principal = _owner(org)
    found = {}
    with session_scope(container.sessions, org.id) as session:
        for code, name, path in (
            ("A", "Serum A", "Skincare/Serums"),
            ("B", "Cream B", "Skincare/Creams"),
            ("C", "Tea C", "Tea/Green"),
        ):
            product = catalog_service.create_product(
                session,
                principal,
                catalog_schemas.ProductCreate(
                    brand_id=org.brand_id, code=f"P{code}", name=name, category_path=path
                ),
            )
            sku = catalog_service.create_sku(
                session,
                principal,
                product.id,
                catalog_schemas.SkuCreate(
                    code=code, name=name, prices={"store": Decimal(PRICES[code])}
                ),
            )
            found[code] = sku.id
        shop = org.store_ids[0]

        def move(code: str, delta: int, at: datetime, reason: str) -> StockMovement:
            return StockMovement(
                organization_id=org.id,
                sku_id=found[code],
                location_id=shop,
                delta=delta,
                reason=reason,
                actor="test",
                created_at=at,
            )

        received = datetime(2026, 10, 20, tzinfo=UTC)
        sold = datetime(2026, 11, 3, 4, tzinfo=UTC)
        session.add_all(
            [
                move("A", 20, received, "receipt"),
                move("B", 100, received, "receipt"),
                move("C", 100, received, "receipt"),
                move("A", -20, sold, "sale"),
                move("B", -20, sold, "sale"),
                move("C", -10, sold, "sale"),
            ]
        )
    return found


def ledger(org: str, shop: str, skus: dict[str, uuid.UUID]) -> list[dict[str, Any]]:
    """Base (1–7 Nov): 1,000 entries on the 3rd, 20 orders of A, 20 of B, 10 of C. Comparison
    (8–14 Nov): 1,000 entries on the 10th, A out of stock (no order), 22 of B and 10 of C;
    on the 12th the counter is silent while 5 orders of C are sold."""

    def buys(at: str, code: str, count: int) -> list[dict[str, Any]]:
        line = {"sku_id": str(skus[code]), "quantity": 1, "amount": PRICES[code]}
        return [
            _event(
                org,
                "purchase",
                at,
                shop,
                amount=PRICES[code],
                order_id=f"o-{uuid.uuid4()}",
                lines=[line],
            )
            for _ in range(count)
        ]

    return [
        _event(org, "footfall", NOV3, shop, count=1000),
        *buys(NOV3, "A", 20),
        *buys(NOV3, "B", 20),
        *buys(NOV3, "C", 10),
        _event(org, "footfall", NOV10, shop, count=1000),
        *buys(NOV10, "B", 22),
        *buys(NOV10, "C", 10),
        *buys(NOV12, "C", 5),
    ]


def _lmdi(gmv0: int, gmv1: int, ratio: Fraction) -> Decimal:
    """An LMDI-I effect in whole cents, independently: (G1 − G0) / ln(G1/G0) · ln(ratio)."""
    cents = (gmv1 - gmv0) / math.log(gmv1 / gmv0) * math.log(ratio)
    return Decimal(round(cents)) / 100


def test_the_stock_out_is_the_top_cause_and_the_silent_counter_a_data_quality_one(
    container: Container, org: Org
) -> None:
    skus = _skus(container, org)
    shop = org.store_ids[0]
    with container.warehouse.lock:
        _load(container.warehouse.connection(), ledger(str(org.id), str(shop), skus))
    with session_scope(container.sessions, org.id) as session:
        found = causes.store_causes(session, _owner(org), container.warehouse, "S0", *NOW, *BASE)
    assert (found.store.code, found.store.name, found.time_zone) == (
        "S0",
        "Store 0",
        "Asia/Shanghai",
    )
    # the 12th's visitors are estimated from the 10th's conversion: 5 × 1,000 / 32 = 156.25
    split = found.decomposition
    assert (split.base, split.comparison) == (
        PeriodTotals(1000, 50, Decimal("3400.00")),
        PeriodTotals(1156, 37, Decimal("1700.00")),
    )
    assert split.change == Decimal("-1700.00")
    assert sum(split.parts.values()) == Decimal("-1700.00")
    visitors = _lmdi(340000, 170000, Fraction(1156, 1000))
    assert split.parts[Factor.VISITORS] == visitors == Decimal("355.54")
    top = found.causes[0]
    assert (top.kind, top.factor, top.dimension) == (
        causes.CauseKind.BUSINESS,
        Factor.CONVERSION,
        Dimension.STOCK_OUT,
    )
    assert (top.key, top.label) == (str(skus["A"]), "Serum A")
    assert top.stock_out_days == (date(2026, 11, 10), date(2026, 11, 12))
    assert top.base_stock_out_days == ()
    # A sold 20 × ¥100 to 20 of 1,000 visitors and nothing to 1,156: by Shapley (order value
    # unmoved) conversion ½ (0 − 0.02)(1,000 + 1,156) × ¥100 = −¥2,156.00, traffic +¥156.00
    assert top.amount == Decimal("-2156.00")
    assert top.explanatory_power is not None and top.explanatory_power > 1
    assert top.surprise == pytest.approx(0.5 * 2000 / 3400)  # ½ p log₂ 2, q = 0
    assert [c.key for c in found.causes] == [str(skus["A"])]
    # the silent counter: the figures held 0 visitors on the 12th, traffic would have shown
    # its part as 0 (1,000 → 1,000) instead of +¥355.54
    (silent,) = found.data_quality
    assert silent.kind is causes.CauseKind.DATA_QUALITY
    assert silent.silence == causes.CounterSilence("comparison", (date(2026, 11, 12),), 0, 156)
    assert silent.amount == Decimal("0.00") - visitors


def test_explain_takes_values_by_surprise_until_they_explain_two_thirds() -> None:
    visitors = 1000

    def value(key: str, base: tuple[int, str], now: tuple[int, str]) -> adtributor.Value:
        return adtributor.Value(
            key,
            key,
            PeriodTotals(visitors, base[0], Decimal(base[1])),
            PeriodTotals(visitors, now[0], Decimal(now[1])),
        )

    values = [
        value("a", (20, "2000.00"), (10, "1000.00")),  # conversion halves: −¥1,000.00
        value("b", (20, "1000.00"), (14, "700.00")),  # −¥300.00
        value("c", (10, "400.00"), (10, "400.00")),  # unmoved
    ]
    found = adtributor.explain(Dimension.SKU, Factor.CONVERSION, values)
    assert found is not None
    assert [c.value.key for c in found.candidates] == ["a"]
    (a,) = found.candidates
    assert a.amount == Decimal("-1000.00")
    assert a.explanatory_power == Fraction(1000, 1300)
    # shares 2000/3400 → 1000/2100
    p, q = Fraction(2000, 3400), Fraction(1000, 2100)
    expected = 0.5 * float(p) * math.log2(float(2 * p / (p + q))) + 0.5 * float(q) * math.log2(
        float(2 * q / (p + q))
    )
    assert a.surprise == pytest.approx(expected, rel=1e-12)
    assert found.surprise == a.surprise
    # nothing moved: no explanation
    assert adtributor.explain(Dimension.SKU, Factor.VISITORS, values) is None


def test_duckdb_and_postgres_read_the_same_figures(warehouse: Any) -> None:
    org, shop = str(uuid.uuid4()), str(uuid.uuid4())
    skus = {code: uuid.uuid4() for code in PRICES}
    _load(warehouse, ledger(org, shop, skus))
    zone = "Asia/Shanghai"
    base = cause_reads.read_period(warehouse, org, shop, zone, Period(*BASE))
    now = cause_reads.read_period(warehouse, org, shop, zone, Period(*NOW))
    assert base.hours == {12: (50, Decimal("3400.00"))}
    a, b, c = (str(skus[code]) for code in "ABC")
    assert {key: base.of_skus([key]) for key in base.skus} == {
        a: (20, Decimal("2000.00")),
        b: (20, Decimal("1000.00")),
        c: (10, Decimal("400.00")),
    }
    assert now.hours == {12: (37, Decimal("1700.00"))}
    assert {key: now.of_skus([key]) for key in now.skus} == {
        b: (22, Decimal("1100.00")),
        c: (15, Decimal("600.00")),
    }
    assert now.of_skus([b, c]) == (37, Decimal("1700.00"))
    assert [(d.day, d.footfall, d.metrics.transactions) for d in now.days] == [
        (date(2026, 11, 10), 1000, 32),
        (date(2026, 11, 12), None, 5),
    ]


CAUSE_PARAMS = {
    "first_day": "2026-11-08",
    "last_day": "2026-11-14",
    "base_first_day": "2026-11-01",
    "base_last_day": "2026-11-07",
}


def _loaded(container: Container, org: Org) -> dict[str, uuid.UUID]:
    skus = _skus(container, org)
    with container.warehouse.lock:
        _load(container.warehouse.connection(), ledger(str(org.id), str(org.store_ids[0]), skus))
    return skus


def test_the_api_says_each_cause_in_money_and_refuses_by_field(
    client: TestClient, container: Container, org: Org
) -> None:
    skus = _loaded(container, org)
    path = "/api/v1/diagnosis/stores/S0/causes"
    answer = client.get(path, params=CAUSE_PARAMS, headers=org.auth())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["store"]["name"] == "Store 0"
    assert (body["change"], body["parts"]["visitors"]) == ("-1700.00", "355.54")
    (cause,) = body["causes"]
    assert cause["key"] == str(skus["A"])
    assert cause["text"] == (
        "conversion at Store 0, Serum A out of stock on 2026-11-10, 2026-11-12: −¥2,156.00"
    )
    assert cause["stock_out_days"] == ["2026-11-10", "2026-11-12"]
    (quality,) = body["data_quality"]
    assert (quality["issue"], quality["days"], quality["amount"]) == (
        "counter_silent",
        ["2026-11-12"],
        "-355.54",
    )
    assert quality["text"].startswith("people counter silent at Store 0 on 2026-11-12 (now)")
    # by id, and in Chinese
    by_id = client.get(
        f"/api/v1/diagnosis/stores/{org.store_ids[0]}/causes",
        params=CAUSE_PARAMS,
        headers={**org.auth(), "Accept-Language": "zh-CN"},
    ).json()
    assert by_id["causes"][0]["text"] == (
        "Store 0的转化率：Serum A于 2026-11-10, 2026-11-12 缺货：−¥2,156.00"
    )
    assert by_id["data_quality"][0]["text"].startswith("Store 0的客流计数器在 2026-11-12（本期）")
    unknown = client.get("/api/v1/diagnosis/stores/NOPE/causes", headers=org.auth())
    assert unknown.status_code == 404 and unknown.json()["field"] == "store"
    refused = client.get(
        path, params={**CAUSE_PARAMS, "last_day": "2026-11-01"}, headers=org.auth()
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "last_day"


@ON_SQLITE
def test_the_cli_prints_the_causes_the_api_gives(
    client: TestClient,
    container: Container,
    settings: Settings,
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    _loaded(container, org)
    api = client.get(
        "/api/v1/diagnosis/stores/S0/causes", params=CAUSE_PARAMS, headers=org.auth()
    ).json()
    container.warehouse.close()  # the command opens the embedded warehouse itself
    base = [*store_args(settings), "diagnosis", "causes", "--org", org.slug, "--store", "S0"]
    periods = ["--from", "2026-11-08", "--to", "2026-11-14"]
    periods += ["--against-from", "2026-11-01", "--against-to", "2026-11-07"]
    as_json = runner.invoke(app, [*base, *periods, "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == api
    human = runner.invoke(app, [*base, *periods])
    assert human.exit_code == 0, human.output
    printed = " ".join(human.stdout.split())
    assert "Store 0 (S0): GMV 2026-11-08 … 2026-11-14" in printed
    assert "Serum A out of stock on 2026-11-10, 2026-11-12" in printed
    assert (
        "1. conversion at Store 0, Serum A out of stock on 2026-11-10, 2026-11-12: −¥2,156.00"
        in printed
    )
    assert "data quality: people counter silent at Store 0 on 2026-11-12" in printed
    unknown = runner.invoke(
        app, [*store_args(settings), "diagnosis", "causes", "--org", org.slug, "--store", "NOPE"]
    )
    assert unknown.exit_code != 0 and "store" in unknown.output


def test_why_gmv_moved_flags_the_silent_counter(
    client: TestClient, container: Container, org: Org
) -> None:
    _loaded(container, org)
    with session_scope(container.sessions, org.id) as session:
        found = service.gmv_change(session, _owner(org), container.warehouse, *NOW, *BASE)
    (shop,) = found.stores
    assert shop.counter_silent == ((), (date(2026, 11, 12),))
    body = client.get(
        "/api/v1/diagnosis/gmv-change",
        params=CAUSE_PARAMS,
        headers={**org.auth(), "Accept-Language": "zh-CN"},
    ).json()
    silent = "客流计数器在 2026-11-12 没有上报而收银仍有销售（本期）：这些天的访客仅为可识别的到店"
    assert body["stores"][0]["flags"] == [
        {"issue": "counter_silent", "period": "comparison", "text": silent}
    ]


@ON_SQLITE
def test_the_console_page_shows_the_causes_in_money(
    client: TestClient, container: Container, org: Org
) -> None:
    _loaded(container, org)
    console_login(client, org.owner_email)
    query = "?" + "&".join(f"{k}={v}" for k, v in CAUSE_PARAMS.items())
    page = client.get(f"/console/diagnosis/stores/S0/causes{query}")
    assert page.status_code == 200, page.text
    html = unescape(page.text)
    assert "Store 0" in html and str(org.store_ids[0]) not in html  # names, not ids
    assert (
        "conversion at Store 0, Serum A out of stock on 2026-11-10, 2026-11-12: −¥2,156.00" in html
    )
    assert re.search(r'data-dimension="stock_out">\s*<td>Conversion</td>', html)
    assert "2 days out of stock" in html
    assert "people counter silent at Store 0 on 2026-11-12 (now)" in html
    assert "-¥1,700.00" in html  # the change, with separators
    chinese = client.get(
        f"/console/diagnosis/stores/S0/causes{query}", headers={"Accept-Language": "zh-CN"}
    )
    html = unescape(chinese.text)
    assert "变化原因" in html and "缺货 2 天" in html
    assert "Store 0的客流计数器在 2026-11-12（本期）" in html
    home = client.get(f"/console/diagnosis{query}")
    # the store's name opens its page, whose causes section links here
    assert "/console/diagnosis/stores/S0?first_day=2026-11-08" in home.text
    missing = client.get("/console/diagnosis/stores/NOPE/causes")
    assert missing.status_code == 404


@ON_SQLITE
def test_the_store_page_shows_the_causes(
    client: TestClient, container: Container, org: Org
) -> None:
    _loaded(container, org)
    console_login(client, org.owner_email)
    page = client.get("/console/diagnosis/stores/S0", params=CAUSE_PARAMS)
    assert page.status_code == 200, page.text
    html = unescape(page.text)
    section = html.split('id="store-causes"', 1)[1]
    assert "Why it moved" in section
    assert (
        "conversion at Store 0, Serum A out of stock on 2026-11-10, 2026-11-12: −¥2,156.00"
        in section
    )
    assert "people counter silent at Store 0 on 2026-11-12 (now)" in section
    assert "/console/diagnosis/stores/S0/causes?first_day=2026-11-08" in section
    chinese = client.get(
        "/console/diagnosis/stores/S0",
        params=CAUSE_PARAMS,
        headers={"Accept-Language": "zh-CN"},
    )
    section = unescape(chinese.text).split('id="store-causes"', 1)[1]
    assert "Store 0的转化率：Serum A于 2026-11-10, 2026-11-12 缺货：−¥2,156.00" in section
