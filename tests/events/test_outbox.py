"""The outbox: facts and their events commit together; the relay lands each exactly once."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.events import outbox
from newretail.events.models import OutboxMessage
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import Org


def _warehouse_rows(container: Container, org: Org) -> list[dict[str, object]]:
    table = container.warehouse.connection().table(EVENT_TABLE)
    frame = table.filter(table.organization_id == str(org.id)).order_by("ts").execute()
    return frame.to_dict("records")  # type: ignore[no-any-return]


def test_relay_lands_each_fact_once_with_and_without_amounts(
    container: Container, org: Org
) -> None:
    outbox.relay_all(container.sessions, container.warehouse)  # what earlier tests left
    with session_scope(container.sessions, org.id) as session:
        outbox.enqueue(session, org.id, "member_join", store_id=org.store_ids[0], channel="store")
        outbox.enqueue(
            session,
            org.id,
            "purchase",
            amount=Decimal("12.50"),
            channel="pos",
            brand_id=org.brand_id,
            properties={"lines": [{"sku": "A", "quantity": 2}]},
        )
    assert outbox.relay_all(container.sessions, container.warehouse) == 2
    assert outbox.relay_all(container.sessions, container.warehouse) == 0
    rows = _warehouse_rows(container, org)
    assert [(r["type"], r["channel"], r["amount"]) for r in rows] == [
        ("member_join", "store", None),
        ("purchase", "pos", Decimal("12.50")),
    ]
    assert rows[0]["store_id"] == str(org.store_ids[0])
    assert json.loads(str(rows[1]["properties"])) == {"lines": [{"sku": "A", "quantity": 2}]}


def test_a_rolled_back_fact_leaves_no_event(container: Container, org: Org) -> None:
    with pytest.raises(RuntimeError), session_scope(container.sessions, org.id) as session:
        outbox.enqueue(session, org.id, "purchase", amount=Decimal("1"))
        raise RuntimeError("the sale failed")
    assert outbox.relay_all(container.sessions, container.warehouse) == 0
    assert _warehouse_rows(container, org) == []


def test_a_crash_after_the_warehouse_write_does_not_double(container: Container, org: Org) -> None:
    outbox.relay_all(container.sessions, container.warehouse)  # what earlier tests left
    with session_scope(container.sessions, org.id) as session:
        outbox.enqueue(session, org.id, "purchase", amount=Decimal("3"))
    assert outbox.relay_all(container.sessions, container.warehouse) == 1
    # simulate a relay that wrote to the warehouse but died before marking the row published
    with session_scope(container.sessions, org.id) as session:
        for message in session.query(OutboxMessage):
            message.published_at = None
    assert outbox.relay_all(container.sessions, container.warehouse) == 1
    assert [r["amount"] for r in _warehouse_rows(container, org)] == [Decimal("3.00")]
