"""The native collector API: validation per event, failed events, dedupe, limits, replay."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import Org


def event(
    org: Org, message_id: str, kind: str = "counter_approach", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message_id": message_id,
        "type": kind,
        "ts": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "identifiers": {"anonymous_id": f"anon-{message_id}"},
    }
    body.update(extra)
    return body


def post(client: TestClient, org: Org, events: list[Any], **headers: str) -> Any:
    return client.post(
        "/api/v1/events",
        headers={"Authorization": f"Bearer {org.write_key}", **headers},
        json={"events": events},
    )


def stored(container: Container, org: Org, client: TestClient) -> list[dict[str, Any]]:
    client.app.state.collector.pipeline.flush()  # type: ignore[attr-defined]
    con = container.warehouse.connection()
    with container.warehouse.lock:
        table = con.table(EVENT_TABLE)
        rows = (
            table.filter(table.organization_id == str(org.id))
            .order_by("message_id")
            .to_pyarrow()
            .to_pylist()
        )
    return [r for r in rows if not r["message_id"].startswith("outbox:")]


def test_valid_events_are_stored_with_the_sources_store_brand_and_channel(
    client: TestClient, container: Container, org: Org
) -> None:
    answer = post(
        client,
        org,
        [
            event(org, "m1"),
            event(
                org,
                "m2",
                "product_view",
                properties={"product_id": "P1", "category": "lipstick"},
                channel="online",
            ),
        ],
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 2, "duplicates": 0, "failed": []}
    rows = stored(container, org, client)
    assert [
        (r["message_id"], r["type"], r["store_id"], r["brand_id"], r["channel"]) for r in rows
    ] == [
        ("m1", "counter_approach", str(org.store_ids[0]), str(org.brand_id), "store"),
        ("m2", "product_view", str(org.store_ids[0]), str(org.brand_id), "online"),
    ]
    assert json.loads(rows[1]["properties"]) == {"product_id": "P1", "category": "lipstick"}
    assert rows[0]["anonymous_id"] == "anon-m1"


def test_a_partly_invalid_batch_stores_the_valid_events_and_names_each_failure(
    client: TestClient, container: Container, org: Org
) -> None:
    old = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    batch = [
        event(org, "ok-1"),
        event(org, "bad-type", "teleport"),
        event(org, "ok-2", "add_to_cart", properties={"product_id": "P1", "quantity": 2}),
        event(org, "bad-qty", "add_to_cart", properties={"product_id": "P1", "quantity": 0}),
        event(org, "bad-old", ts=old),
        event(org, "bad-future", ts=future),
        event(org, "bad-phone", identifiers={"phone": "12"}),
        event(org, "bad-store", store_id=str(uuid.uuid4())),
        event(org, "bad-buy", "purchase"),
        {"type": "member_join"},
        event(org, "bad-deep", "follow", properties={"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}),
    ]
    answer = post(client, org, batch)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    assert body["failed"] == [
        {
            "index": 1,
            "field": "events[1].type",
            "reason": "unknown event type 'teleport'; register it as a custom type",
        },
        {"index": 3, "field": "events[3].properties.quantity", "reason": "must be at least 1"},
        {"index": 4, "field": "events[4].ts", "reason": "is older than 365 days"},
        {"index": 5, "field": "events[5].ts", "reason": "is more than 600 s in the future"},
        {"index": 6, "field": "events[6].identifiers.phone", "reason": "not a valid phone number"},
        {
            "index": 7,
            "field": "events[7].store_id",
            "reason": "is not a store of this organisation",
        },
        {"index": 8, "field": "events[8].amount", "reason": "is required for purchase events"},
        {
            "index": 9,
            "field": "events[9].message_id",
            "reason": "is required: a string of 1-100 characters",
        },
        {"index": 10, "field": "events[10].properties", "reason": "nests deeper than 5 levels"},
    ]
    assert [r["message_id"] for r in stored(container, org, client)] == ["ok-1", "ok-2"]
    failed = client.get("/api/v1/events/failed?limit=50", headers=org.auth()).json()["items"]
    assert [(f["message_id"], f["field"]) for f in failed] == [
        (b.get("message_id"), f["field"])
        for b, f in zip(
            [batch[i] for i in (1, 3, 4, 5, 6, 7, 8, 9, 10)], body["failed"], strict=True
        )
    ]
    assert failed[0]["payload"] == batch[1] and failed[0]["status"] == "open"


def test_nothing_accepted_is_a_400_listing_every_failure(client: TestClient, org: Org) -> None:
    answer = post(client, org, [event(org, "x", "teleport")])
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_events"
    assert answer.json()["field"] == "events[0].type"
    assert answer.json()["accepted"] == 0 and len(answer.json()["failed"]) == 1


def test_message_ids_are_stored_once_within_and_across_requests(
    client: TestClient, container: Container, org: Org
) -> None:
    first = post(client, org, [event(org, "d1"), event(org, "d1"), event(org, "d2")])
    assert first.json() == {"accepted": 2, "duplicates": 1, "failed": []}
    again = post(client, org, [event(org, "d2"), event(org, "d3")])
    assert again.json() == {"accepted": 1, "duplicates": 1, "failed": []}
    assert [r["message_id"] for r in stored(container, org, client)] == ["d1", "d2", "d3"]


def test_the_same_message_id_in_two_organisations_is_two_events(
    client: TestClient, container: Container, org: Org, other_org: Org
) -> None:
    assert post(client, org, [event(org, "shared")]).json()["accepted"] == 1
    assert post(client, other_org, [event(other_org, "shared")]).json()["accepted"] == 1
    assert (
        len(stored(container, org, client)) == 1 and len(stored(container, other_org, client)) == 1
    )


def test_another_organisations_store_or_brand_is_refused(
    client: TestClient, org: Org, other_org: Org
) -> None:
    answer = post(
        client,
        org,
        [
            event(org, "a", store_id=str(other_org.store_ids[0])),
            event(org, "b", brand_id=str(other_org.brand_id)),
        ],
    )
    assert [f["field"] for f in answer.json()["failed"]] == [
        "events[0].store_id",
        "events[1].brand_id",
    ]


def test_clock_skew_is_corrected_with_sent_at(
    client: TestClient, container: Container, org: Org
) -> None:
    # the device clock runs 2 hours fast: it says it sent at +2h an event of +2h-10min
    device_now = datetime.now(UTC) + timedelta(hours=2)
    answer = post(
        client,
        org,
        [
            event(
                org,
                "skew",
                ts=(device_now - timedelta(minutes=10)).isoformat(),
                sent_at=device_now.isoformat(),
            )
        ],
    )
    assert answer.json()["accepted"] == 1
    row = stored(container, org, client)[0]
    lag = row["received_at"] - row["ts"]
    assert timedelta(minutes=9) < lag < timedelta(minutes=11)


def test_gzip_bodies_and_limits(client: TestClient, container: Container, org: Org) -> None:
    body = gzip.compress(orjson.dumps({"events": [event(org, "gz")]}))
    headers = {
        "Authorization": f"Bearer {org.write_key}",
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
    }
    assert client.post("/api/v1/events", headers=headers, content=body).json()["accepted"] == 1
    bomb = gzip.compress(b'{"events": [' + b" " * (9 * 1024 * 1024) + b"]}")
    too_big = client.post("/api/v1/events", headers=headers, content=bomb)
    assert too_big.status_code == 413 and too_big.json()["field"] == "body"
    many = post(client, org, [event(org, f"n{i}") for i in range(501)])
    assert many.status_code == 422
    assert many.json()["field"] == "events"
    assert many.json()["message"] == "at most 500 events per request"
    broken = client.post(
        "/api/v1/events", headers={"Authorization": f"Bearer {org.write_key}"}, content=b"{"
    )
    assert broken.status_code == 400 and broken.json()["code"] == "malformed_json"
    large = event(org, "large", "follow", properties={"text": "x" * 40_000})
    assert post(client, org, [large]).json()["failed"][0]["reason"] == (
        "is larger than 32768 bytes"
    )
    assert [r["message_id"] for r in stored(container, org, client)] == ["gz"]


def test_only_write_keys_send_events(client: TestClient, org: Org) -> None:
    body = {"events": [event(org, "k")]}
    assert client.post("/api/v1/events", json=body).status_code == 401
    assert client.post("/api/v1/events", json=body, headers=org.auth()).status_code == 403
    wrong = client.post("/api/v1/events", json=body, headers={"Authorization": "Bearer nr_wk_x"})
    assert wrong.status_code == 401
    revoked = client.patch(
        f"/api/v1/sources/{org.source_id}", headers=org.auth(), json={"revoked": True}
    )
    assert revoked.status_code == 200
    assert post(client, org, [event(org, "after")]).status_code == 401


def test_custom_types_with_schemas_and_replay_after_a_fix(
    client: TestClient, container: Container, org: Org
) -> None:
    refused = post(client, org, [event(org, "c1", "tasting", properties={"flavour": "mint"})])
    assert refused.status_code == 400
    failed = client.get("/api/v1/events/failed", headers=org.auth()).json()["items"]
    assert len(failed) == 1
    bad_schema = client.post(
        "/api/v1/events/types",
        headers=org.auth(),
        json={"name": "tasting", "schema": {"type": "object", "pattern": "x"}},
    )
    assert bad_schema.status_code == 422 and bad_schema.json()["field"] == "schema.pattern"
    created = client.post(
        "/api/v1/events/types",
        headers=org.auth(),
        json={
            "name": "tasting",
            "description": "A tasting at the counter",
            "schema": {
                "type": "object",
                "properties": {"flavour": {"enum": ["mint", "rose"]}},
                "required": ["flavour"],
            },
        },
    )
    assert created.status_code == 200, created.text
    assert created.json()["built_in"] is False
    wrong = post(client, org, [event(org, "c2", "tasting", properties={"flavour": "salt"})])
    assert wrong.json()["failed"][0]["field"] == "events[0].properties.flavour"
    replay = client.post(
        f"/api/v1/events/failed/{failed[0]['id']}/replay", headers=org.auth(), json={}
    )
    assert replay.json() == {"replayed": 1, "still_failing": 0, "failed": []}
    fixed = client.get("/api/v1/events/failed", headers=org.auth()).json()["items"]
    assert [f["message_id"] for f in fixed] == ["c2"]
    corrected = {**fixed[0]["payload"], "properties": {"flavour": "rose"}}
    again = client.post(
        f"/api/v1/events/failed/{fixed[0]['id']}/replay",
        headers=org.auth(),
        json={"payload": corrected},
    )
    assert again.json()["replayed"] == 1
    assert client.get("/api/v1/events/failed", headers=org.auth()).json()["items"] == []
    replayed = client.get("/api/v1/events/failed?status=replayed", headers=org.auth()).json()[
        "items"
    ]
    assert {f["message_id"] for f in replayed} == {"c1", "c2"}
    assert [r["message_id"] for r in stored(container, org, client)] == ["c1", "c2"]
    names = [t["name"] for t in client.get("/api/v1/events/types", headers=org.auth()).json()]
    assert "tasting" in names and "counter_approach" in names


def test_every_ingestion_route_takes_only_write_keys(client: TestClient, org: Org) -> None:
    from newretail.events.gateway import INGESTION_PATHS

    documented = client.get("/openapi.json").json()["paths"]
    for path in INGESTION_PATHS:
        assert list(documented[path]) == ["post"], path
        body = {"events": []} if path == "/api/v1/events" else {"batch": []}
        anonymous = client.post(path, json=body)
        assert anonymous.status_code == 401, path
        with_api_key = client.post(path, json=body, headers=org.auth())
        assert with_api_key.status_code == 403, path
        assert with_api_key.json()["message"] == "ingestion routes take a source's write key"
        assert client.get(path, headers=org.auth()).status_code == 405
    metrics = client.get("/metrics").text
    assert (
        'newretail_http_requests_total{method="POST",route="/v1/track",status="401"} 1.0' in metrics
    )
