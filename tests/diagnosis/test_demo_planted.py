"""The demo's planted problem (demo/diagnosis_history.py) is what the diagnosis finds: at the
Jing'an Kerry counter the stock-out of its best seller is the top cause, and the silent people
counter a data-quality cause, not a traffic drop."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.core.i18n import translator
from newretail.core.settings import Settings
from newretail.demo.diagnosis_history import DiagnosisHistory
from newretail.demo.orders import seed_commerce
from newretail.diagnosis import cause_schemas, causes, peers
from newretail.diagnosis.adtributor import Dimension
from newretail.diagnosis.decomposition import Factor
from newretail.events.outbox import relay_all
from tests.demo.test_commerce import _demo_org
from tests.orders.factory import owner

# FROZEN_NOW is 24 November 2026: the stock-out runs 14–23 November, the counter is silent
# 20–22 November
NOW = (date(2026, 11, 14), date(2026, 11, 23))
BASE = (date(2026, 11, 4), date(2026, 11, 13))


def test_the_planted_stock_out_is_the_top_cause_and_the_counter_outage_is_flagged(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id = _demo_org(container, monkeypatch)
    history = DiagnosisHistory()
    with session_scope(container.sessions, org_id) as session:
        seeded = seed_commerce(session, org_id, random.Random(42), days=30, history=history)
    assert (history.stock_out, history.counter_silent) == (
        NOW,
        (date(2026, 11, 20), date(2026, 11, 22)),
    )
    relay_all(container.sessions, container.warehouse)
    with session_scope(container.sessions, org_id) as session:
        found = causes.store_causes(
            session, owner(org_id), container.warehouse, "SH-JA-COUNTER", *NOW, *BASE
        )
    assert seeded.lost_orders == 16  # orders that only wanted the missing serum
    assert seeded.footfall_events == 3564  # 10 counted stores × 30 days × 12 hours − 3 × 12
    split = found.decomposition
    assert (split.base.gmv, split.comparison.gmv, split.change) == (
        Decimal("46400.00"),
        Decimal("37637.00"),
        Decimal("-8763.00"),
    )
    # the silent days' visitors estimated (197), so traffic barely moved: 570 → 569
    assert (split.base.visitors, split.comparison.visitors) == (570, 569)
    assert dict(split.parts) == {
        Factor.VISITORS: Decimal("-73.51"),
        Factor.CONVERSION: Decimal("-15259.59"),
        Factor.ORDER_VALUE: Decimal("6570.10"),
    }
    top = found.causes[0]
    assert (top.kind, top.factor, top.dimension) == (
        causes.CauseKind.BUSINESS,
        Factor.CONVERSION,
        Dimension.STOCK_OUT,
    )
    assert top.label == "Vitamin C Brightening Serum 维C焕亮精华 · 50 ml"
    # 22 buyers, ¥15,847.00 of it in the base period, none now: by Shapley (order value
    # unmoved) −¥15,833.10 of conversion and −¥13.90 of traffic
    assert top.amount == Decimal("-15833.10")
    assert top.stock_out_days == tuple(date(2026, 11, day) for day in range(14, 24))
    assert top.base_stock_out_days == ()
    (silent,) = found.data_quality
    assert silent.kind is causes.CauseKind.DATA_QUALITY
    assert silent.silence == causes.CounterSilence(
        "comparison", (date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)), 0, 197
    )
    # as counted, the silence would have been a traffic drop of ¥17,865.90 instead of ¥73.51
    assert silent.amount == Decimal("-17792.39")
    read = cause_schemas.store_causes_read(found, translator("en"))
    assert read.causes[0].text == (
        "conversion at Jing'an Kerry counter, Vitamin C Brightening Serum 维C焕亮精华 · 50 ml "
        "out of stock on 2026-11-14 – 2026-11-23: −¥15,833.10"
    )
    assert read.data_quality[0].text.startswith(
        "people counter silent at Jing'an Kerry counter on 2026-11-20 – 2026-11-22 (now) while "
        "the till sold: not a traffic drop."
    )

    # the demo's own peer tiers (Settings(demo=True): cut-point 50, 2 stores a cell): the
    # ranked table shows grades wherever a tier holds two stores of a category and format
    settings = Settings(demo=True)
    assert settings.demo_peer_tiers
    assert (settings.diagnosis_min_peers, settings.tier_cut_points) == (2, (Decimal(50),))
    with session_scope(container.sessions, org_id) as session:
        tiers = peers.peer_tiers(
            session, owner(org_id), container.warehouse, peers.configured(settings), NOW[1]
        )
    graded = {
        s.store.code: (s.tier.tier, s.cell.stores)
        for s in tiers.stores
        if any(m.grade is not None for m in s.tier.grades.values())
    }
    assert graded == {
        "HZ-HL-COUNTER": (3, 2),
        "BJ-GM-COUNTER": (3, 2),
        "SH-JA-COUNTER": (2, 2),
        "SZ-FT-COUNTER": (2, 2),
        "SH-VEND-1": (3, 3),
        "HZ-VEND-1": (3, 3),
        "SH-VEND-2": (3, 3),
        "BJ-VEND-1": (2, 2),
        "SZ-VEND-1": (2, 2),
    }
    planted = tiers.store("SH-JA-COUNTER").tier.grades
    # against SZ-FT-COUNTER, its tier's other store: the stock-out shows as poor conversion
    assert {name: str(m.grade) for name, m in planted.items()} == {
        "gmv": "excellent",
        "visitors": "excellent",
        "conversion": "poor",
        "order_value": "excellent",
        "units_per_transaction": "poor",
        "refund_rate": "excellent",
    }
