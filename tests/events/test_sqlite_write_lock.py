"""Overload on the embedded store (issue 16 item 6; bench/soak.py): a SQLite writer that waits
out its lock timeout because another connection holds the one write lock.

The other connection is a real sqlite3 connection on the same file holding `BEGIN IMMEDIATE`;
the server's lock timeout is cut to 0.2 s so the tests need not wait 30 s. A request stopped
so is answered 503 `unavailable` with Retry-After (nothing kept: sent again once the lock is
free, it is stored once); the collector's catalogue read does not wait for the lock at all;
a batch of reach decisions stopped so waits and is decided with the next batch.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import utcnow
from newretail.core.localtime import today
from newretail.core.settings import Settings
from newretail.reach.listener import TriggerListener
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import TEST_SECRET, Org
from tests.reach.trigger_helpers import ALWAYS_OPEN, SHANGHAI, decisions_of, set_up

pytestmark = pytest.mark.parametrize("database_url", ["sqlite-alone"], indirect=True)
UNAVAILABLE = {
    "code": "unavailable",
    "message": "the database does not answer now; nothing was done, send the request again",
    "field": None,
}


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        warehouse_url=f"duckdb://{tmp_path / 'warehouse.duckdb'}",
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
        webhook_send_seconds=0,
        sqlite_busy_timeout_seconds=0.2,
    )


@pytest.fixture
def write_lock(container: Container) -> Iterator[sqlite3.Connection]:
    """Another connection on the same SQLite file, holding the write lock until rolled back."""
    path = container.settings.resolved_database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def event(message_id: str) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "type": "page_view",
        "ts": (utcnow() - timedelta(seconds=5)).isoformat(),
        "identifiers": {"anonymous_id": "shopper-1"},
    }


def stored(container: Container, message_id: str) -> int:
    con = container.warehouse.connection()
    with container.warehouse.lock:
        table = con.table(EVENT_TABLE)
        return int(table.filter(table.message_id == message_id).count().execute())


def test_a_request_whose_lock_wait_times_out_is_answered_503_and_stored_once_when_resent(
    client: TestClient, container: Container, org: Org, write_lock: sqlite3.Connection
) -> None:
    headers = {"Authorization": f"Bearer {org.write_key}"}
    body = {"events": [event("locked-1")]}

    refused = client.post("/api/v1/events", headers=headers, json=body)  # the key's look-up
    assert refused.status_code == 503
    assert refused.json() == UNAVAILABLE
    assert refused.headers["retry-after"] == "1"
    api = client.post(
        "/api/v1/brands", headers=org.auth(), json={"code": "b2", "name": "Second brand"}
    )
    assert api.status_code == 503
    assert api.json() == UNAVAILABLE
    assert api.headers["retry-after"] == "1"

    write_lock.execute("ROLLBACK")
    accepted = client.post("/api/v1/events", headers=headers, json=body)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["accepted"] == 1
    again = client.post("/api/v1/events", headers=headers, json=body)
    assert again.json()["duplicates"] == 1
    client.app.state.collector.pipeline.flush()  # type: ignore[attr-defined]
    assert stored(container, "locked-1") == 1
    brands = client.post(
        "/api/v1/brands", headers=org.auth(), json={"code": "b2", "name": "Second brand"}
    )
    assert brands.status_code == 201, brands.text


def test_the_collector_reads_its_catalogue_without_waiting_for_the_write_lock(
    client: TestClient, container: Container, org: Org
) -> None:
    headers = {"Authorization": f"Bearer {org.write_key}"}
    first = client.post("/api/v1/events", headers=headers, json={"events": [event("cat-1")]})
    assert first.status_code == 200, first.text
    collector = client.app.state.collector  # type: ignore[attr-defined]
    collector.forget_catalogs()  # the key stays cached; the catalogue is read again

    path = container.settings.resolved_database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        second = client.post("/api/v1/events", headers=headers, json={"events": [event("cat-2")]})
        assert second.status_code == 200, second.text
        assert second.json()["accepted"] == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    collector.pipeline.flush()
    assert stored(container, "cat-2") == 1


def test_a_batch_of_reach_decisions_stopped_by_the_write_lock_is_decided_with_the_next(
    container: Container, org: Org
) -> None:
    local_today = today(SHANGHAI)
    reach = set_up(
        container, org, hours=ALWAYS_OPEN, days=(local_today, local_today), store_index=0
    )
    listener = TriggerListener(container.sessions, container.warehouse, reach.recorder)
    member = reach.members[0]
    loaded = pa.table(
        {
            "organization_id": [str(org.id)],
            "member_id": [str(member)],
            "type": ["counter_approach"],
            "message_id": ["approach-1"],
            "ts": [utcnow() - timedelta(seconds=5)],
            "store_id": [str(reach.store_id)],
            "properties": ["{}"],
        }
    )
    path = container.settings.resolved_database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        listener(loaded)
        assert [e.event_id for e in listener.waiting[org.id]] == ["approach-1"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert decisions_of(reach) == []

    other = str(uuid.uuid4())  # the next batch: another organisation's events only
    listener(
        pa.table(
            {
                "organization_id": [other],
                "member_id": [None],
                "type": ["page_view"],
                "message_id": ["other-1"],
                "ts": [utcnow()],
                "store_id": [None],
                "properties": ["{}"],
            }
        )
    )
    assert decisions_of(reach) == [(member, "treated")]
    assert reach.recorder.members() == {member}
    assert listener.waiting == {}


def test_a_request_that_gets_no_pooled_connection_in_time_is_answered_503(
    client: TestClient, container: Container, org: Org
) -> None:
    """Every connection of the pool taken (under overload: each waiting for the write lock):
    the pool's timeout (as long as the lock's) ends in the same 503, not a 500."""
    pool = container.engine.pool
    taken = [container.engine.connect() for _ in range(pool.size() + 10)]  # + max_overflow
    try:
        events = client.post(
            "/api/v1/events",
            headers={"Authorization": f"Bearer {org.write_key}"},
            json={"events": [event("pool-1")]},
        )
        assert (events.status_code, events.json()) == (503, UNAVAILABLE)
        assert events.headers["retry-after"] == "1"
        api = client.post(
            "/api/v1/brands", headers=org.auth(), json={"code": "b3", "name": "Third brand"}
        )
        assert (api.status_code, api.json()) == (503, UNAVAILABLE)
        assert api.headers["retry-after"] == "1"
    finally:
        for connection in taken:
            connection.close()
    again = client.post(
        "/api/v1/brands", headers=org.auth(), json={"code": "b3", "name": "Third brand"}
    )
    assert again.status_code == 201, again.text
