"""The demo's planted problem (demo/diagnosis_history.py) gets its recommendations: at the
Jing'an Kerry counter a check of the silent people counter, and a transfer of the missing
serum from the nearest location that has it."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.core.i18n import translator
from newretail.demo.diagnosis_history import DiagnosisHistory
from newretail.demo.orders import seed_commerce
from newretail.diagnosis import recommendation_flows as flows
from newretail.diagnosis.recommendation_schemas import store_recommendations_read
from newretail.events.outbox import relay_all
from newretail.inventory import reads as inventory_reads
from tests.demo.test_commerce import _demo_org
from tests.diagnosis.test_demo_planted import BASE, NOW
from tests.orders.factory import owner


def test_the_planted_problem_gets_a_counter_check_and_a_transfer(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id = _demo_org(container, monkeypatch)
    with session_scope(container.sessions, org_id) as session:
        seed_commerce(session, org_id, random.Random(42), days=30, history=DiagnosisHistory())
    relay_all(container.sessions, container.warehouse)
    with session_scope(container.sessions, org_id) as session:
        found = flows.store_recommendations(
            session, owner(org_id), container.warehouse, "SH-JA-COUNTER", *NOW, *BASE
        )
        read = store_recommendations_read(found, owner(org_id), translator("en"))
    counter, transfer = read.recommendations
    assert (counter.kind, counter.amount) == ("check_counter", Decimal("-17792.39"))
    assert counter.detail["days"] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    # the serum (¥689.00) lost −¥15,833.10 of conversion over its 10 days out: 23 units
    # (22.98 rounded up) from the Xintiandi shop, in Shanghai like the counter
    assert (transfer.kind, transfer.factor, transfer.amount) == (
        "stock_transfer",
        "conversion",
        Decimal("-15833.10"),
    )
    assert transfer.cause_label == "Vitamin C Brightening Serum 维C焕亮精华 · 50 ml"
    assert (transfer.detail["price"], transfer.detail["quantity"]) == ("689.00", 23)
    source = transfer.detail["source"]
    assert (source["code"], source["city"]) == ("SH-XTD-SHOP", "Shanghai")
    assert transfer.text == (
        "Transfer 23 units of Vitamin C Brightening Serum 维C焕亮精华 · 50 ml from Xintiandi "
        "shop to Jing'an Kerry counter: conversion -¥15,833.10 while it was out of stock "
        "(10 days)."
    )
    with session_scope(container.sessions, org_id) as session:
        acted = flows.act(session, owner(org_id), "SH-JA-COUNTER", transfer.id, translator("en"))
        (created,) = acted.created_objects
        moves, _ = inventory_reads.list_movements(
            session, owner(org_id), 10, None, reference=created["id"]
        )
        assert sorted(m.delta for m in moves) == [-23, 23]
