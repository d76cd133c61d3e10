"""The scale-out pipeline on a real NATS JetStream (NEWRETAIL_TEST_NATS_URL, default
nats://127.0.0.1:4222): servers publish, loaders store each event once. Without NATS these
tests skip, except under CI=true, where an unreachable NATS fails the run."""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container, bootstrap
from newretail.cli import app
from newretail.core.database import utcnow
from newretail.core.errors import ConfigurationError
from newretail.core.settings import Settings
from newretail.events.checker import SourceRef
from newretail.events.collector import Collector
from newretail.events.pipeline import Pipeline
from newretail.events.stream import EventStream
from newretail.main import create_app
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import CI, TEST_SECRET, make_org, store_args
from tests.scrape import scrape, value

NATS_URL = os.environ.get("NEWRETAIL_TEST_NATS_URL", "nats://127.0.0.1:4222")
pytestmark = pytest.mark.postgres


@pytest.fixture
def nats_url() -> str:
    parts = urlsplit(NATS_URL)
    try:
        socket.create_connection((parts.hostname, parts.port or 4222), timeout=2).close()
    except OSError as exc:
        message = f"NATS is not reachable at {NATS_URL}: {exc}"
        if CI:
            pytest.fail(f"CI=true requires NATS JetStream. {message}")
        pytest.skip(message)
    return NATS_URL


@pytest.fixture
def stream_settings(postgres_url: str, nats_url: str, tmp_path: Path) -> Iterator[Settings]:
    name = f"NRTEST_{uuid.uuid4().hex[:12]}"
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        warehouse_url="postgres://" + postgres_url.split("://", 1)[1],
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
        event_stream_url=nats_url,
        event_stream_name=name,
    )
    yield settings
    cleanup = EventStream(nats_url, name)
    cleanup.delete()
    cleanup.close()


def shopper_events(prefix: str, count: int) -> list[dict[str, Any]]:
    when = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    return [
        {
            "message_id": f"{prefix}-{n}",
            "type": "counter_approach",
            "ts": when,
            "identifiers": {"anonymous_id": f"shopper-{n % 7}"},
        }
        for n in range(count)
    ]


def stored_rows(container: Container, org_id: uuid.UUID) -> tuple[int, int, int]:
    con = container.warehouse.connection()
    table = con.table(EVENT_TABLE)
    mine: Any = table.filter(table.organization_id == str(org_id))
    return (
        int(mine.count().execute()),
        int(mine.message_id.nunique().execute()),
        int(mine.member_id.nunique().execute()),
    )


def test_two_servers_publish_and_the_loader_stores_each_event_once(
    stream_settings: Settings,
) -> None:
    servers = [bootstrap(stream_settings), bootstrap(stream_settings)]
    org = make_org(servers[0])
    collectors = [Collector(c.sessions, c.warehouse, c.settings, c.identity) for c in servers]
    source = SourceRef(org.id, org.source_id, org.store_ids[0])
    events = shopper_events("js", 200)
    answers: list[tuple[int, int]] = []
    barrier = threading.Barrier(2)

    def send(collector: Collector) -> None:
        barrier.wait()
        for start in range(0, len(events), 50):
            submission = collector.check(source, events[start : start + 50], utcnow(), api="native")
            answers.append(collector.pipeline.write_now(submission))
        # a resend to the same server is answered as a duplicate there
        again = collector.check(source, events[:50], utcnow(), api="native")
        answers.append(collector.pipeline.write_now(again))

    threads = [threading.Thread(target=send, args=(c,)) for c in collectors]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # each server acknowledged all 200 (it cannot know what the other one published)
        assert sorted(answers) == [(0, 50)] * 2 + [(50, 0)] * 8
        assert stored_rows(servers[0], org.id) == (0, 0, 0)  # nothing stored before a loader

        env = {
            "NEWRETAIL_EVENT_STREAM_URL": stream_settings.event_stream_url or "",
            "NEWRETAIL_EVENT_STREAM_NAME": stream_settings.event_stream_name,
            "NEWRETAIL_SECRET_KEY": TEST_SECRET,
        }
        command = [*store_args(stream_settings), "events", "loader", "--once", "--json"]
        result = CliRunner().invoke(app, command, env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout) == {"messages": 8, "events": 400, "stored": 200}
        assert stored_rows(servers[0], org.id) == (200, 200, 7)
        again = CliRunner().invoke(app, command, env=env, catch_exceptions=False)
        assert json.loads(again.stdout) == {"messages": 0, "events": 0, "stored": 0}
    finally:
        for collector, container in zip(collectors, servers, strict=True):
            collector.pipeline.stop()
            container.close()


def test_a_batch_delivered_again_after_a_loader_failed_is_stored_once(
    stream_settings: Settings,
) -> None:
    container = bootstrap(stream_settings)
    org = make_org(container)
    collector = Collector(container.sessions, container.warehouse, stream_settings, None)
    source = SourceRef(org.id, org.source_id, org.store_ids[0])
    stream = EventStream(stream_settings.event_stream_url or "", stream_settings.event_stream_name)
    loader = Pipeline(container.sessions, container.warehouse, container.identity, timedelta(7))
    try:
        for start in range(0, 120, 40):
            events = shopper_events("again", 120)[start : start + 40]
            collector.pipeline.write_now(collector.check(source, events, utcnow(), api="native"))
        assert stream.pending() == 3

        def store_then_crash(columns: Any) -> int:
            loader.load_columns(columns)  # committed, but the messages are not acknowledged
            raise RuntimeError("the loader died before acknowledging")

        with pytest.raises(RuntimeError):
            stream.load(store_then_crash, batch=2)
        assert stored_rows(container, org.id) == (80, 80, 7)
        assert stream.pending() == 3

        loaded = [stream.load(loader.load_columns, batch=10, wait=3.0) for _ in range(2)]
        assert sum(r.messages for r in loaded) == 3
        assert sum(r.events for r in loaded) == 120
        assert sum(r.stored for r in loaded) == 40  # 80 were stored before the failure
        assert stored_rows(container, org.id) == (120, 120, 7)
        assert stream.pending() == 0
    finally:
        stream.close()
        collector.pipeline.stop()
        container.close()


def test_the_stream_needs_a_warehouse_that_admits_several_processes(
    nats_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=TEST_SECRET, event_stream_url=nats_url)
    with pytest.raises(ConfigurationError) as refused:
        settings.stream_warehouse_url()
    assert refused.value.field == "warehouse_url"


def test_the_streams_lag_is_a_metric_and_over_its_threshold_not_ready(
    stream_settings: Settings,
) -> None:
    container = bootstrap(stream_settings)
    org = make_org(container)
    stream_settings.ready_max_stream_lag = 2
    key = {"Authorization": f"Bearer {org.write_key}"}
    try:
        with TestClient(create_app(container=container)) as client:
            for n in range(3):  # one request after the other: a message each
                events = shopper_events(f"lag{n}", 2)
                answer = client.post("/api/v1/events", headers=key, json={"events": events})
                assert answer.json()["accepted"] == 2
            assert value(scrape(client), "newretail_event_stream_pending") == 3
            over = client.get("/readyz")
            assert over.status_code == 503
            assert over.json()["checks"]["stream_lag"] == "over: 3 > 2"
            assert over.json()["reason"] == "stream_lag: over: 3 > 2"
            env = {
                "NEWRETAIL_EVENT_STREAM_URL": stream_settings.event_stream_url or "",
                "NEWRETAIL_EVENT_STREAM_NAME": stream_settings.event_stream_name,
                "NEWRETAIL_SECRET_KEY": TEST_SECRET,
            }
            command = [*store_args(stream_settings), "events", "loader", "--once", "--json"]
            loaded = CliRunner().invoke(app, command, env=env, catch_exceptions=False)
            assert json.loads(loaded.stdout) == {"messages": 3, "events": 6, "stored": 6}
            assert value(scrape(client), "newretail_event_stream_pending") == 0
            assert client.get("/readyz").json()["checks"]["stream_lag"] == "ok"
    finally:
        container.close()
