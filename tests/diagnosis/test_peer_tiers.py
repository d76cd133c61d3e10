"""Peer tiers from the warehouse on a hand-built ledger: the 30-day figures of each store on
DuckDB and PostgreSQL, tiers, grades against the cell, the GMV to the next tier and its split
by factor (exact values); the service with its stores from the operational store, the API
(a store manager's stores, refusals by field) and the CLI."""

from __future__ import annotations

import json
import math
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import numpy
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.errors import NotFound
from newretail.core.settings import Settings
from newretail.diagnosis import peers
from newretail.diagnosis.decomposition import Factor
from newretail.diagnosis.errors import PeerWithholding
from newretail.diagnosis.peers import PeerStore
from newretail.diagnosis.service import Period
from newretail.diagnosis.tiers import Grade, TierConfig
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import TEST_SECRET, Org, api_key_for, console_login, store_args
from tests.diagnosis import test_metrics as ledgers
from tests.diagnosis.test_metrics import _event, _load

duck = ledgers.duck
pg_warehouse = ledgers.pg_warehouse
warehouse = ledgers.warehouse
runner = CliRunner()

ZONE = "Asia/Shanghai"
LAST = date(2026, 11, 30)
PERIOD = Period(date(2026, 11, 1), LAST)
MID = "2026-11-15T04:00"  # noon in Shanghai
# (code, visitors from the people counter, [(amount, units)] of its purchases)
COUNTERS: list[tuple[str, int, list[tuple[str, int]]]] = [
    ("K0", 30, []),
    ("K1", 50, [("120.00", 3)]),  # and ¥20.00 refunded: GMV ¥100.00
    ("K2", 100, [("100.00", 1), ("100.00", 1)]),
    ("K3", 100, [("100.00", 1)] * 3),
    ("K4", 80, [("100.00", 2)] * 4),
    ("K5", 100, [("125.00", 1)] * 4),
    ("K6", 200, [("200.00", 1)] * 5),
]
MIN_TWO = TierConfig(min_peers=2, lower_is_better=peers.LOWER_IS_BETTER)


def ledger(org: str, ids: dict[str, str]) -> list[dict[str, Any]]:
    """Seven beauty counters K0 … K6 with GMV ¥0, 100, 200, 300, 400, 500 and 1,000 over
    1–30 November (Shanghai), the shop SHOP (¥50.00, alone in its group), and three events
    just outside the window."""
    rows: list[dict[str, Any]] = []
    for code, visitors, purchases in COUNTERS:
        store = ids[code]
        rows.append(_event(org, "footfall", MID, store, count=visitors))
        for n, (amount, units) in enumerate(purchases):
            rows.append(
                _event(
                    org,
                    "purchase",
                    # K6's first sale at local midnight of 1 November: in the window
                    "2026-10-31T16:00" if code == "K6" and n == 0 else MID,
                    store,
                    amount=amount,
                    order_id=f"{code}-{n}",
                    lines=[{"sku_id": "lipstick", "quantity": units}],
                )
            )
    rows += [
        _event(org, "order_refunded", MID, ids["K1"], amount="20.00", order_id="K1-0"),
        _event(org, "footfall", MID, ids["SHOP"], count=10),
        _event(org, "purchase", MID, ids["SHOP"], amount="50.00", order_id="shop-1"),
        # 23:59:59 on 31 October and 00:00 on 1 December, Shanghai: outside
        _event(org, "purchase", "2026-10-31T15:59:59", ids["K6"], amount="999.00", order_id="x1"),
        _event(org, "purchase", "2026-11-30T16:00", ids["K5"], amount="999.00", order_id="x2"),
        _event(org, "purchase", MID, ids["WH"], amount="70.00", order_id="wh-1"),
    ]
    return rows


def peer_stores() -> list[PeerStore]:
    counters = [
        PeerStore(uuid.uuid4(), code, f"Counter {code}", "counter", "beauty", "active")
        for code, _, _ in COUNTERS
    ]
    return [
        *counters,
        PeerStore(uuid.uuid4(), "SHOP", "The shop", "store", None, "active"),
        PeerStore(uuid.uuid4(), "WH", "Warehouse", "warehouse", None, "active"),
        PeerStore(uuid.uuid4(), "SHUT", "Closed counter", "counter", "beauty", "closed"),
    ]


def _tiers(con: Any) -> dict[str, peers.StorePeers]:
    org = str(uuid.uuid4())
    stores = peer_stores()
    _load(con, ledger(org, {s.code: str(s.id) for s in stores}))
    figures = peers.store_metrics(con, org, PERIOD, ZONE, stores)
    ranked, _ = peers.rank_stores(stores, figures, MIN_TWO)
    return {s.store.code: s for s in ranked}


def _summary(found: dict[str, peers.StorePeers]) -> list[tuple[Any, ...]]:
    return [
        (code, s.tier.tier, s.figures.gmv, s.tier.gmv_to_next_tier, s.gap_parts)
        for code, s in found.items()
    ]


def test_tiers_grades_and_gaps_from_the_ledger(warehouse: Any) -> None:
    found = _tiers(warehouse)
    d = Decimal
    # ranked by tier, then GMV; the warehouse and the closed counter without sales are out
    assert _summary(found) == [
        ("K6", 7, d("1000.00"), None, None),
        ("SHOP", 7, d("50.00"), None, None),
        ("K5", 4, d("500.00"), d("500.00"), None),
        ("K4", 4, d("400.00"), d("600.00"), None),
        (
            "K3",
            3,
            d("300.00"),
            d("100.00"),
            {
                Factor.VISITORS: d("-25.99"),
                Factor.CONVERSION: d("96.94"),
                Factor.ORDER_VALUE: d("29.05"),
            },
        ),
        ("K2", 2, d("200.00"), d("100.00"), None),
        ("K1", 2, d("100.00"), d("200.00"), None),
        ("K0", 1, d("0.00"), d("0.01"), None),
    ]
    withheld = {
        code: (s.tier.next_tier_withheld, s.gap_parts_withheld) for code, s in found.items()
    }
    assert withheld == {
        "K6": (PeerWithholding.TOP_TIER, PeerWithholding.TOP_TIER),
        "SHOP": (PeerWithholding.TOP_TIER, PeerWithholding.TOP_TIER),
        "K5": (None, PeerWithholding.TOO_FEW_STORES),  # to tier 7: K6 alone
        "K4": (None, PeerWithholding.TOO_FEW_STORES),
        "K3": (None, None),
        "K2": (None, PeerWithholding.TOO_FEW_STORES),  # to tier 3: K3 alone
        "K1": (None, PeerWithholding.TOO_FEW_STORES),
        "K0": (None, PeerWithholding.NO_VALUE),
    }
    k1, k2 = found["K1"], found["K2"]
    assert (k1.figures.paid, k1.figures.refunded, k1.figures.units) == (
        d("120.00"),
        d("20.00"),
        3,
    )
    assert k1.tier.percentile_rank == pytest.approx(100 / 6)
    # the tier-2 cell (K1, K2) against numpy
    cell = k1.cell
    assert (cell.tier, cell.stores, cell.withheld) == (2, 2, None)
    for name, values in (
        ("gmv", [100, 200]),
        ("visitors", [50, 100]),
        ("units_per_transaction", [3.0, 1.0]),
        ("refund_rate", [20 / 120, 0.0]),
    ):
        statistics = cell.metrics[name].statistics
        assert statistics is not None
        assert float(statistics.mean) == pytest.approx(numpy.mean(values), rel=1e-12)
        assert float(statistics.median) == pytest.approx(numpy.median(values), rel=1e-12)
        assert float(statistics.p90) == pytest.approx(numpy.percentile(values, 90), rel=1e-12)
    gmv = cell.metrics["gmv"].statistics
    assert gmv is not None and (gmv.mean, gmv.median, gmv.p90) == (d(150), d(150), d(190))
    grades = {
        code: {name: g.grade for name, g in s.tier.grades.items()}
        for code, s in (("K1", k1), ("K2", k2))
    }
    assert grades == {
        "K1": {
            "gmv": Grade.POOR,
            "visitors": Grade.POOR,
            "conversion": Grade.EXCELLENT,  # 1/50 = 2/100
            "order_value": Grade.EXCELLENT,
            "units_per_transaction": Grade.EXCELLENT,
            "refund_rate": Grade.POOR,  # lower is better
        },
        "K2": {
            "gmv": Grade.EXCELLENT,
            "visitors": Grade.EXCELLENT,
            "conversion": Grade.EXCELLENT,
            "order_value": Grade.EXCELLENT,
            "units_per_transaction": Grade.POOR,
            "refund_rate": Grade.EXCELLENT,
        },
    }
    # K3 alone in tier 3: nothing published, nothing graded
    k3 = found["K3"]
    assert k3.cell.withheld is PeerWithholding.TOO_FEW_STORES
    assert k3.tier.grades["gmv"].grade is None
    assert k3.tier.grades["gmv"].withheld is PeerWithholding.TOO_FEW_STORES


def test_the_gap_split_follows_the_next_tiers_typical_store(duck: Any) -> None:
    """K3 (100 visitors, 3 buyers, ¥300) against tier 4 (K4 and K5: 180 visitors, 8 buyers,
    ¥900 — per store 90 visitors, conversion 8/180, order value ¥112.50, GMV ¥450)."""
    k3 = _tiers(duck)["K3"]
    logs = [math.log(90 / 100), math.log((8 / 180) / (3 / 100)), math.log(112.5 / 100)]
    assert sum(logs) == pytest.approx(math.log(450 / 300), rel=1e-15)
    exact = [10_000 * part / sum(logs) for part in logs]  # cents of the ¥100.00 gap
    assert exact == pytest.approx([-2598.510046, 9693.622959, 2904.887086], abs=1e-6)
    assert k3.gap_parts is not None
    assert [k3.gap_parts[f] * 100 for f in Factor] == [round(x) for x in exact]
    assert sum(k3.gap_parts.values()) == k3.tier.gmv_to_next_tier


def test_duckdb_and_postgres_agree(duck: Any, pg_warehouse: Any) -> None:
    assert _summary(_tiers(duck)) == _summary(_tiers(pg_warehouse))


def test_the_default_minimum_withholds_every_cell_of_seven_counters(duck: Any) -> None:
    org = str(uuid.uuid4())
    stores = peer_stores()
    _load(duck, ledger(org, {s.code: str(s.id) for s in stores}))
    figures = peers.store_metrics(duck, org, PERIOD, ZONE, stores)
    ranked, cells = peers.rank_stores(stores, figures, peers.tier_config())
    assert all(cell.withheld is PeerWithholding.TOO_FEW_STORES for cell in cells)
    assert all(g.grade is None for s in ranked for g in s.tier.grades.values())
    gaps = {s.store.code: (s.tier.gmv_to_next_tier, s.tier.next_tier_withheld) for s in ranked}
    # six other counters with sales is enough peers to name an amount; the empty one needs a cent
    assert gaps["K3"] == (Decimal("100.00"), None)
    assert gaps["K0"] == (Decimal("0.01"), None)


# ---------------------------------------------------------------- the service, API and CLI
def make_counters(container: Container, org: Org) -> dict[str, str]:
    """The ledger's stores in the organisation: seven beauty counters and a warehouse; the
    organisation's Store 0 (a shop without category) plays SHOP."""
    owner = Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="test")
    ids = {"SHOP": str(org.store_ids[0])}
    with session_scope(container.sessions, org.id) as session:
        for code, _, _ in COUNTERS:
            created = tenancy_service.create_store(
                session,
                owner,
                tenancy_schemas.StoreCreate(
                    code=code,
                    name=f"Counter {code}",
                    channel_type=ChannelType.COUNTER,
                    category="beauty",
                ),
            )
            ids[code] = str(created.id)
        warehouse = tenancy_service.create_store(
            session,
            owner,
            tenancy_schemas.StoreCreate(
                code="WH", name="Warehouse", channel_type=ChannelType.WAREHOUSE
            ),
        )
        ids["WH"] = str(warehouse.id)
    with container.warehouse.lock:
        _load(container.warehouse.connection(), ledger(str(org.id), ids))
    return ids


def test_the_service_tiers_the_organisations_stores(container: Container, org: Org) -> None:
    ids = make_counters(container, org)
    owner = Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="test")
    with session_scope(container.sessions, org.id) as session:
        report = peers.peer_tiers(session, owner, container.warehouse, MIN_TWO, LAST)
    assert (report.period.first, report.period.last, report.time_zone) == (
        date(2026, 11, 1),
        LAST,
        ZONE,
    )
    # Store 1, a counter without category and without sales, is tier 1 of its own group
    assert [(s.store.code, s.tier.tier) for s in report.stores] == [
        ("K6", 7),
        ("S0", 7),
        ("K5", 4),
        ("K4", 4),
        ("K3", 3),
        ("K2", 2),
        ("K1", 2),
        ("K0", 1),
        ("S1", 1),
    ]
    k3 = report.store("K3")
    assert k3.gap_parts is not None and k3.gap_parts[Factor.CONVERSION] == Decimal("96.94")
    with pytest.raises(NotFound) as missing:
        report.store("WH")
    assert missing.value.field == "store"

    manager = Principal.for_role(
        PrincipalKind.USER,
        org.id,
        Role.STORE_MANAGER,
        actor="test",
        store_ids=frozenset({uuid.UUID(ids["K3"])}),
    )
    with session_scope(container.sessions, org.id) as session:
        theirs = peers.peer_tiers(session, manager, container.warehouse, MIN_TWO, LAST)
    # their store only, tiered among all its peers; only its group's cells
    assert [(s.store.code, s.tier.tier, s.tier.gmv_to_next_tier) for s in theirs.stores] == [
        ("K3", 3, Decimal("100.00"))
    ]
    assert {(c.group.category, c.tier) for c in theirs.cells} == {
        ("beauty", tier) for tier in (1, 2, 3, 4, 7)
    }


def test_the_api_lists_and_shows_tiers_and_refuses_by_field(
    client: TestClient, container: Container, org: Org
) -> None:
    make_counters(container, org)
    params = {"last_day": "2026-11-30"}
    answer = client.get("/api/v1/diagnosis/tiers", params=params, headers=org.auth())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["period"] == {"first_day": "2026-11-01", "last_day": "2026-11-30", "days": 30}
    assert body["settings"] == {
        "cut_points": ["40", "65", "85", "95", "99"],
        "top_tier": 7,
        "min_peers": 5,
    }
    stores = {s["store_code"]: s for s in body["stores"]}
    assert list(stores) == ["K6", "S0", "K5", "K4", "K3", "K2", "K1", "K0", "S1"]
    k3 = stores["K3"]
    assert (k3["store_name"], k3["channel_label"], k3["category_label"]) == (
        "Counter K3",
        "Counter",
        "beauty",
    )
    assert (k3["tier"], k3["top_tier"], k3["percentile_rank"]) == (3, 7, 50.0)
    assert k3["figures"] == {
        "gmv": "300.00",
        "visitors": 100,
        "buyers": 3,
        "conversion": 0.03,
        "order_value": "100.00",
    }
    assert k3["gmv_to_next_tier"] == "100.00"
    assert k3["next_tier_text"] == "¥100.00 more 30-day GMV to reach tier 4"
    # the default minimum of 5 stores: the cells are withheld, so is the split
    assert (k3["gap_parts"], k3["gap_parts_withheld"]) == (None, "too_few_stores")
    gmv = k3["metrics"][0]
    assert gmv == {
        "metric": "gmv",
        "label": "30-day GMV",
        "lower_is_better": False,
        "value": "300.00",
        "grade": None,
        "grade_label": None,
        "withheld": "too_few_stores",
        "withheld_label": "fewer peers than the minimum",
        "mean": None,
        "median": None,
        "p90": None,
    }
    assert [m["metric"] for m in k3["metrics"]] == list(peers.PEER_METRICS)
    assert stores["S0"]["category_label"] == "No category"
    assert stores["S0"]["next_tier_text"] == "Tier 7 is the top tier."
    assert [(c["category"], c["channel_type"], c["tier"], c["stores"]) for c in body["cells"]] == [
        (None, "counter", 1, 1),
        (None, "store", 7, 1),
        ("beauty", "counter", 1, 1),
        ("beauty", "counter", 2, 2),
        ("beauty", "counter", 3, 1),
        ("beauty", "counter", 4, 2),
        ("beauty", "counter", 7, 1),
    ]

    one = client.get(
        "/api/v1/diagnosis/tiers/K3",
        params=params,
        headers={**org.auth(), "Accept-Language": "zh-CN"},
    )
    assert one.status_code == 200, one.text
    assert one.json()["next_tier_text"] == "近 30 天 GMV 再增加 ¥100.00 即可升至第 4 层"
    assert one.json()["metrics"][0]["withheld_label"] == "同层门店数不足"
    assert one.json()["category_label"] == "beauty"

    missing = client.get("/api/v1/diagnosis/tiers/NOPE", headers=org.auth())
    assert missing.status_code == 404 and missing.json()["field"] == "store"
    not_a_day = client.get(
        "/api/v1/diagnosis/tiers", params={"last_day": "30/11"}, headers=org.auth()
    )
    assert not_a_day.status_code == 422 and "last_day" in not_a_day.text

    manager = api_key_for(client, org, Role.STORE_MANAGER, [org.store_ids[0]])
    theirs = client.get("/api/v1/diagnosis/tiers", params=params, headers=org.auth(manager))
    assert [s["store_code"] for s in theirs.json()["stores"]] == ["S0"]
    other = client.get("/api/v1/diagnosis/tiers/K3", params=params, headers=org.auth(manager))
    assert other.status_code == 404


def test_the_cli_prints_what_the_api_answers(
    client: TestClient,
    container: Container,
    settings: Settings,
    org: Org,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    make_counters(container, org)
    params = {"last_day": "2026-11-30"}
    api = client.get("/api/v1/diagnosis/tiers", params=params, headers=org.auth()).json()
    container.warehouse.close()  # the command opens the embedded warehouse itself
    base = [*store_args(settings), "diagnosis", "tiers", "--org", org.slug]
    as_json = runner.invoke(app, [*base, "--last-day", "2026-11-30", "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == api
    human = runner.invoke(app, [*base, "--last-day", "2026-11-30"])
    assert human.exit_code == 0, human.output
    flat = " ".join(human.stdout.split())
    assert "Peer tiers, 30-day GMV 2026-11-01 … 2026-11-30 (local days, Asia/Shanghai)" in flat
    assert "Counter K3" in flat and "¥300.00" in flat
    assert "¥100.00 more 30-day GMV to reach tier 4" in flat
    assert str(org.store_ids[0]) not in human.stdout
    refused = runner.invoke(app, [*base, "--last-day", "30/11"])
    assert refused.exit_code == 2 and "--last-day" in refused.output


def test_the_cut_points_are_a_setting(client: TestClient, container: Container, org: Org) -> None:
    """NEWRETAIL_DIAGNOSIS_TIER_CUT_POINTS=20,50,80: five tiers. The beauty counters with
    sales have percentile ranks 16.7 (K1), 33.3, 50, 66.7, 83.3 and 100 (K6): K1 tier 2, K2
    and K3 (50 is not above 50) tier 3, K4 tier 4, K5 and K6 tier 5; with the defaults K2 is
    tier 2 and K5 tier 4."""
    assert Settings(diagnosis_tier_cut_points=" 20, 50 ,80").tier_cut_points == (
        Decimal(20),
        Decimal(50),
        Decimal(80),
    )
    for given, message in (
        ("20,abc", "NEWRETAIL_DIAGNOSIS_TIER_CUT_POINTS: 'abc' is not a number"),
        ("20,100", "NEWRETAIL_DIAGNOSIS_TIER_CUT_POINTS: 100 is not strictly between 0 and 100"),
        (
            "50,40",
            "NEWRETAIL_DIAGNOSIS_TIER_CUT_POINTS: the cut-points must increase (40 follows 50)",
        ),
        ("", "NEWRETAIL_DIAGNOSIS_TIER_CUT_POINTS: '' is not a number"),
    ):
        with pytest.raises(ValidationError) as refused:
            Settings(diagnosis_tier_cut_points=given)
        assert message in str(refused.value), given
    make_counters(container, org)
    params = {"last_day": "2026-11-30"}

    def tiers() -> tuple[dict[str, Any], dict[str, int]]:
        body = client.get("/api/v1/diagnosis/tiers", params=params, headers=org.auth()).json()
        return body["settings"], {s["store_code"]: s["tier"] for s in body["stores"]}

    settings, found = tiers()
    assert found == {
        "K6": 7, "S0": 7, "K5": 4, "K4": 4, "K3": 3, "K2": 2, "K1": 2, "K0": 1, "S1": 1,
    }  # fmt: skip
    container.settings.diagnosis_tier_cut_points = "20,50,80"
    settings, found = tiers()
    assert settings == {"cut_points": ["20", "50", "80"], "top_tier": 5, "min_peers": 5}
    assert found == {
        "K6": 5, "S0": 5, "K5": 5, "K4": 4, "K3": 3, "K2": 3, "K1": 2, "K0": 1, "S1": 1,
    }  # fmt: skip
    console_login(client, org.owner_email)
    page = client.get(
        "/console/diagnosis/stores/K2", params={"last_day": "2026-11-30", "first_day": "2026-11-24"}
    )
    assert page.status_code == 200, page.text
    assert "Tier 3 of 5" in page.text
