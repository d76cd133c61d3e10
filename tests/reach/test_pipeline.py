"""Reach in the collector's path (SQLite and PostgreSQL operational stores, the embedded
pipeline): an event sent over HTTP, its member resolved by OneID, is decided on once it is
loaded and its offer queued to the channel's webhook endpoint; an event of a type no rule
takes, a stale one and a resent one are not decided."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from newretail.audiences import realtime
from newretail.bootstrap import Container
from newretail.core.database import session_scope, utcnow
from newretail.core.localtime import local_day_bounds, today
from newretail.members.models import MemberConsent
from newretail.reach.models import WebhookDelivery
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import Org
from tests.reach.trigger_helpers import ALWAYS_OPEN, SHANGHAI, set_up
from tests.scrape import scrape, value


def send(client: TestClient, org: Org, message_id: str, kind: str, **extra: Any) -> None:
    event = {
        "message_id": message_id,
        "type": kind,
        "ts": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
        "identifiers": {"account_id": "acc-7"},
    } | extra
    answer = client.post(
        "/api/v1/events",
        headers={"Authorization": f"Bearer {org.write_key}"},
        json={"events": [event]},
    )
    assert answer.status_code == 200, answer.text
    client.app.state.collector.pipeline.flush()  # type: ignore[attr-defined]


def member_of(container: Container, org: Org, message_id: str) -> uuid.UUID:
    con = container.warehouse.connection()
    with container.warehouse.lock:
        table = con.table(EVENT_TABLE)
        rows = table.filter(table.message_id == message_id).to_pyarrow().to_pylist()
    return uuid.UUID(rows[0]["member_id"])


def test_a_counter_approach_sent_over_http_is_decided_once_loaded(
    client: TestClient, container: Container, org: Org
) -> None:
    local_today = today(SHANGHAI)
    reach = set_up(
        container, org, hours=ALWAYS_OPEN, days=(local_today, local_today), store_index=0
    )
    send(client, org, "visit-1", "page_view")
    member = member_of(container, org, "visit-1")
    with session_scope(container.sessions, org.id) as session:
        session.add(
            MemberConsent(
                organization_id=org.id,
                member_id=member,
                purpose="marketing",
                channel="sms",
                granted=True,
                source="import",
                updated_at=utcnow(),
            )
        )
    gateway = {"name": "SMS gateway", "url": "https://sms.example.com/hooks", "purpose": "sms"}
    added = client.post("/api/v1/reach/webhooks/endpoints", headers=org.auth(), json=gateway)
    assert added.status_code == 201, added.text
    index = realtime.index_for(container.warehouse)
    index.put(str(org.id), str(reach.audience_id), "v1", frozenset({str(member)}))

    before = scrape(client)
    send(client, org, "approach-1", "counter_approach")
    send(client, org, "approach-1", "counter_approach")  # resent: stored once, decided once
    stale = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    send(client, org, "approach-old", "counter_approach", ts=stale)
    # one batch decided on (the resent and the stale event are not): one latency observed
    observed = "newretail_reach_decision_seconds_count"
    assert value(scrape(client), observed) - value(before, observed) == 1
    decided = client.get("/api/v1/reach/decisions", headers=org.auth()).json()
    assert [(d["event_id"], d["reason"], d["store_name"]) for d in decided] == [
        ("approach-1", "treated", "Store 0")
    ]
    assert decided[0]["member_id"] == str(member)
    # the treated offer is queued to the SMS gateway in the decision's transaction
    queued = client.get("/api/v1/reach/webhooks/deliveries", headers=org.auth()).json()
    assert [(d["event_type"], d["endpoint_name"], d["state"]) for d in queued] == [
        ("offer.delivered", "SMS gateway", "pending")
    ]
    with session_scope(container.sessions, org.id) as session:
        payload = session.scalars(select(WebhookDelivery.payload)).one()
    assert payload == {
        "decision_id": decided[0]["id"],
        "event_id": "approach-1",
        "member_id": str(member),
        "coupon_id": decided[0]["coupon_id"],
        "offer_id": str(reach.offer.id),
        "offer_code": "COUNTER50",
        "offer_name": "Counter: 50 off 300",
        "valid_until": local_day_bounds(local_today, SHANGHAI)[1].isoformat(),
        "campaign_id": str(reach.campaign.id),
        "campaign_name": "Double 11 at the counter",
        "stage_position": 1,
        "stage_name": "Counter week",
        "channel": "sms",
        "store_id": str(org.store_ids[0]),
        "store_name": "Store 0",
    }
