"""The Segment-compatible API, and the official Segment Python SDK against a real server."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import uvicorn
from fastapi.testclient import TestClient
from segment.analytics.client import Client as SegmentClient

from newretail.bootstrap import Container
from newretail.events.segment import snake_case
from newretail.main import create_app
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import Org


def basic(org: Org) -> dict[str, str]:
    token = base64.b64encode(f"{org.write_key}:".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def rows(container: Container, org: Org, app: Any) -> list[dict[str, Any]]:
    app.state.collector.pipeline.flush()
    con = container.warehouse.connection()
    with container.warehouse.lock:
        table = con.table(EVENT_TABLE)
        found = table.filter(table.organization_id == str(org.id)).order_by("ts").to_pyarrow()
    return [r for r in found.to_pylist() if not r["message_id"].startswith("outbox:")]


def test_snake_case_of_track_names() -> None:
    assert snake_case("Product Viewed") == "product_viewed"
    assert snake_case("addToCart") == "add_to_cart"
    assert snake_case("  Order  Completed!! ") == "order_completed"
    assert snake_case("3D View") == "event_3d_view"
    assert snake_case("!!!") == "unnamed_event"


def test_batch_with_mapping_clock_skew_and_contact_traits(
    client: TestClient, container: Container, org: Org
) -> None:
    mapped = client.put(
        f"/api/v1/sources/{org.source_id}/event-mappings",
        headers=org.auth(),
        json={"mappings": {"Order Completed": "purchase", "Product Viewed": "product_view"}},
    )
    assert mapped.status_code == 200, mapped.text
    device_now = datetime.now(UTC) + timedelta(hours=3)  # the phone's clock runs 3 h fast
    sent_at = device_now.isoformat()
    batch = {
        "sentAt": sent_at,
        "batch": [
            {
                "type": "track",
                "event": "Product Viewed",
                "messageId": "s1",
                "anonymousId": "anon-9",
                "timestamp": (device_now - timedelta(minutes=30)).isoformat(),
                "properties": {"product_id": "P9", "category": "serum"},
                "context": {"device": {"id": "dev-9"}, "ip": "10.0.0.1", "locale": "zh-CN"},
            },
            {
                "type": "track",
                "event": "Order Completed",
                "messageId": "s2",
                "anonymousId": "anon-9",
                "timestamp": device_now.isoformat(),
                "properties": {"order_id": "o-1", "total": 199.5},
            },
            {
                "type": "identify",
                "messageId": "s3",
                "anonymousId": "anon-9",
                "userId": "user-9",
                "timestamp": device_now.isoformat(),
                "traits": {"email": "Ana@Example.com", "name": "Ana", "plan": "gold"},
            },
            {"type": "track", "event": "Wishlist Shared", "messageId": "s4", "userId": "user-9"},
            {"type": "track", "messageId": "s5", "userId": "user-9"},
            {"type": "alias", "messageId": "s6", "userId": "user-9"},
        ],
    }
    answer = client.post("/v1/batch", headers=basic(org), json=batch)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "success": True,
        "accepted": 4,
        "duplicates": 0,
        "failed": [
            {"index": 4, "field": "batch[4].event", "reason": "is required for track"},
            {"index": 5, "field": "batch[5].previousId", "reason": "is required for alias"},
        ],
    }
    stored = {r["message_id"]: r for r in rows(container, org, client.app)}
    assert {k: v["type"] for k, v in stored.items()} == {
        "s1": "product_view",
        "s2": "purchase",
        "s3": "identify",
        "s4": "wishlist_shared",
    }
    assert stored["s2"]["amount"] is not None and float(stored["s2"]["amount"]) == 199.5
    # clock skew: the view happened 30 minutes before we received the batch
    lag = stored["s1"]["received_at"] - stored["s1"]["ts"]
    assert timedelta(minutes=29) < lag < timedelta(minutes=31)
    identify = json.loads(stored["s3"]["properties"])
    assert identify["traits"] == {"name": "Ana", "plan": "gold"}  # no e-mail kept
    assert "Ana@Example.com" not in stored["s3"]["properties"].lower()
    view = json.loads(stored["s1"]["properties"])
    assert view["context"] == {"device": {"id": "dev-9"}, "locale": "zh-CN"}  # no IP kept
    assert view["event_name"] == "Product Viewed"
    # the same person: anonymous id, device, account and e-mail resolve to one member
    assert len({r["member_id"] for r in stored.values()}) == 1
    assert None not in {r["member_id"] for r in stored.values()}


@pytest.mark.parametrize("call", ["track", "identify", "page", "screen", "group", "alias"])
def test_single_calls_and_gzip(
    client: TestClient, container: Container, org: Org, call: str
) -> None:
    message: dict[str, Any] = {"messageId": f"one-{call}", "anonymousId": "a-1"}
    if call == "track":
        message["event"] = "Coupon Claimed"
    if call == "alias":
        message = {"messageId": "one-alias", "previousId": "a-1", "userId": "u-1"}
    if call == "group":
        message["groupId"] = "g-1"
    body = gzip.compress(orjson.dumps(message))
    headers = {**basic(org), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    answer = client.post(f"/v1/{call}", headers=headers, content=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 1
    kind = {
        "track": "coupon_claimed",
        "identify": "identify",
        "page": "page_view",
        "screen": "screen_view",
        "group": "group",
        "alias": "alias",
    }[call]
    assert [r["type"] for r in rows(container, org, client.app)] == [kind]
    wrong = client.post(f"/v1/{call}", headers=basic(org), json={**message, "type": "nope"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "type"


@pytest.fixture
def server(container: Container) -> Iterator[tuple[str, Any]]:
    """The app served over real HTTP on a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(container=container)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    instance.should_exit = True
    thread.join(timeout=10)


def test_the_official_segment_sdk_delivers_and_identities_merge(
    server: tuple[str, Any], container: Container, org: Org
) -> None:
    import httpx

    url, app = server
    created = httpx.post(
        f"{url}/api/v1/members",
        headers=org.auth(),
        json={"name": "Li Lei", "account_id": "shopper-1", "phone": "13800138000"},
    )
    assert created.status_code == 201, created.text
    known_id = created.json()["id"]
    errors: list[Any] = []
    sdk = SegmentClient(
        org.write_key,
        host=url,
        gzip=True,
        sync_mode=True,
        on_error=lambda error, batch: errors.append(error),
    )
    sdk.track(anonymous_id="anon-A", event="Product Viewed", properties={"product_id": "P1"})
    sdk.page(anonymous_id="anon-A", name="Home")
    sdk.track(anonymous_id="anon-A", event="Add To Cart", properties={"product_id": "P1"})
    sdk.track(anonymous_id="anon-B", event="Product Viewed", properties={"product_id": "P2"})
    sdk.track(anonymous_id="stranger", event="Product Viewed", properties={"product_id": "P3"})
    sdk.identify(user_id="shopper-1", anonymous_id="anon-A", traits={"name": "Li Lei"})
    sdk.alias(previous_id="anon-B", user_id="shopper-1")
    sdk.track(user_id="shopper-1", event="Review Written", properties={"rating": 5})
    sdk.flush()
    assert errors == []
    stored = rows(container, org, app)
    assert len(stored) == 8
    lookup = httpx.get(
        f"{url}/api/v1/members/lookup",
        params={"type": "anonymous_id", "value": "anon-B"},
        headers=org.auth(),
    )
    assert lookup.status_code == 200, lookup.text
    assert lookup.json()["id"] == known_id
    per_member: dict[str, int] = {}
    for row in stored:
        per_member[row["member_id"]] = per_member.get(row["member_id"], 0) + 1
    stranger = next(r["member_id"] for r in stored if r["anonymous_id"] == "stranger")
    assert per_member == {known_id: 7, stranger: 1}
    # sending the same messages again stores nothing twice (message ids)
    con = container.warehouse.connection()
    with container.warehouse.lock:
        ids = con.table(EVENT_TABLE).message_id.to_pyarrow().to_pylist()
    assert len(ids) == len(set(ids))
