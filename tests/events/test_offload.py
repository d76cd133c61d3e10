"""Large bodies are checked in a child process (events.offload) with the answers and rows the
server gives when it checks them itself; a child that dies costs no request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.events.offload import OFFLOAD_BYTES, CheckerPool
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import Org

SIZE = 60
BAD = {3: "events[3].type", 7: "events[7].ts", 11: "events[11].store_id"}


def batch(org: Org, prefix: str, ts: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for i in range(SIZE):
        item: dict[str, Any] = {
            "message_id": f"{prefix}-{i:03d}",
            "type": ("counter_approach", "product_view", "purchase")[i % 3],
            "ts": ts,
            "store_id": str(org.store_ids[0]),
            "identifiers": {"anonymous_id": f"anon-{i % 7}", "phone": "13800138000"}
            if i == 20
            else {"anonymous_id": f"anon-{i % 7}"},
            "properties": {"product_id": f"P{i}", "category": "lipstick", "note": "x" * 40},
        }
        if item["type"] == "purchase":
            item["amount"] = f"{i}.50"
        events.append(item)
    events[3]["type"] = "Not A Type"
    del events[7]["ts"]
    events[11]["store_id"] = str(uuid.uuid4())
    return events


def send(client: TestClient, org: Org, body: bytes) -> Any:
    return client.post(
        "/api/v1/events",
        headers={"Authorization": f"Bearer {org.write_key}", "Content-Type": "application/json"},
        content=body,
    )


def rows(container: Container, client: TestClient, org: Org, prefix: str) -> list[tuple[Any, ...]]:
    client.app.state.collector.pipeline.flush()  # type: ignore[attr-defined]
    con = container.warehouse.connection()
    with container.warehouse.lock:
        table = con.table(EVENT_TABLE)
        found = (
            table.filter(table.message_id.startswith(f"{prefix}-"))
            .order_by("message_id")
            .to_pyarrow()
            .to_pylist()
        )
    return [
        (
            r["message_id"].split("-", 1)[1],
            r["type"],
            r["ts"],
            r["store_id"],
            r["brand_id"],
            r["channel"],
            r["member_id"],
            r["profile_id"],
            r["anonymous_id"],
            r["amount"],
            orjson.loads(r["properties"]),
        )
        for r in found
    ]


def pool_of(client: TestClient) -> CheckerPool:
    pool: CheckerPool = client.app.state.collector.checkers  # type: ignore[attr-defined]
    return pool


def test_a_child_answers_and_stores_exactly_what_the_server_does(
    client: TestClient, container: Container, org: Org
) -> None:
    pool = pool_of(client)
    assert pool.size == 1
    ts = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    here = orjson.dumps({"events": batch(org, "here", ts)})
    there = orjson.dumps({"events": batch(org, "there", ts)})
    assert len(here) >= OFFLOAD_BYTES

    first = send(client, org, here)  # starts the child; checked in the server meanwhile
    assert pool.offloaded == 0
    second = send(client, org, there)
    assert pool.offloaded == 1

    expected_failed = [
        {
            "index": 3,
            "field": BAD[3],
            "reason": "is required: lower-case letters, digits and _ (at most 64)",
        },
        {
            "index": 7,
            "field": BAD[7],
            "reason": "is required: an ISO 8601 time with a time zone offset",
        },
        {"index": 11, "field": BAD[11], "reason": "is not a store of this organisation"},
    ]
    assert first.status_code == second.status_code == 200
    assert first.json() == {"accepted": 57, "duplicates": 0, "failed": expected_failed}
    assert second.json() == first.json()
    stored_here, stored_there = (
        rows(container, client, org, "here"),
        rows(container, client, org, "there"),
    )
    assert len(stored_here) == 57
    assert stored_there == stored_here
    assert {r[0] for r in stored_here} == {f"{i:03d}" for i in range(SIZE)} - {"003", "007", "011"}

    again = send(client, org, there)  # the child's events go through the same dedupe
    assert pool.offloaded == 2
    assert again.json() == {"accepted": 0, "duplicates": 57, "failed": expected_failed}
    assert rows(container, client, org, "there") == stored_there


def test_a_childs_refusal_of_a_body_is_the_servers(client: TestClient, org: Org) -> None:
    pool = pool_of(client)
    pool.size = 1
    padding = "p" * OFFLOAD_BYTES
    send(client, org, orjson.dumps({"events": [], "pad": padding}))  # starts the child
    malformed = send(client, org, b'{"events": [' + padding.encode())
    unknown = send(client, org, orjson.dumps({"events": [], "pad": padding}))
    not_a_list = send(client, org, orjson.dumps({"events": padding}))
    assert pool.offloaded == 3
    assert malformed.status_code == 400
    assert malformed.json() == {
        "code": "malformed_json",
        "message": "the body is not valid JSON",
        "field": "body",
    }
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "body.pad"
    assert not_a_list.status_code == 422
    assert not_a_list.json()["field"] == "events"


def test_when_a_child_dies_the_server_checks_and_a_new_child_takes_over(
    client: TestClient, container: Container, org: Org
) -> None:
    pool = pool_of(client)
    pool.restart_seconds = 0.0
    ts = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    send(client, org, orjson.dumps({"events": batch(org, "warm", ts)}))
    assert send(client, org, orjson.dumps({"events": batch(org, "child", ts)})).status_code == 200
    assert pool.offloaded == 1
    child = pool._children[0]
    child.process.kill()
    child.process.wait()

    answer = send(client, org, orjson.dumps({"events": batch(org, "orphan", ts)}))
    assert answer.status_code == 200
    assert answer.json()["accepted"] == 57
    assert pool.offloaded == 1  # checked in the server (the child was gone, a new one starts)
    answer = send(client, org, orjson.dumps({"events": batch(org, "reborn", ts)}))
    assert answer.json()["accepted"] == 57
    assert pool.offloaded == 2
    assert pool._children[0] is not child
    assert (
        len(rows(container, client, org, "orphan"))
        == len(rows(container, client, org, "reborn"))
        == 57
    )


def test_a_catalogue_change_through_the_server_reaches_the_child_at_once(
    client: TestClient, org: Org
) -> None:
    pool = pool_of(client)
    schema = {"type": "object", "properties": {"flavour": {"enum": ["mint", "rose"]}}}
    created = client.post(
        "/api/v1/events/types", headers=org.auth(), json={"name": "tasting", "schema": schema}
    )
    assert created.status_code == 200, created.text
    ts = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()

    def tastings(prefix: str) -> bytes:
        events = [
            {
                "message_id": f"{prefix}-{i}",
                "type": "tasting",
                "ts": ts,
                "properties": {"flavour": "mint", "note": "y" * 80},
            }
            for i in range(40)
        ]
        return orjson.dumps({"events": events})

    send(client, org, tastings("start"))  # starts the child
    before = send(client, org, tastings("before"))
    assert pool.offloaded == 1
    assert before.json() == {"accepted": 40, "duplicates": 0, "failed": []}
    removed = client.delete("/api/v1/events/types/tasting", headers=org.auth())
    assert removed.status_code == 204, removed.text
    after = send(client, org, tastings("after"))
    assert pool.offloaded == 2
    assert after.status_code == 400
    assert after.json()["failed"][0] == {
        "index": 0,
        "field": "events[0].type",
        "reason": "unknown event type 'tasting'; register it as a custom type",
    }
