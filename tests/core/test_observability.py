"""Observability: request ids in answers and log lines, the Prometheus metrics after known
actions (scraped and parsed as Prometheus does), /readyz over its backlog thresholds."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.core.jobs import Job, JobRunner
from newretail.core.logs import (
    ACCESS_LOGGER,
    RequestIdMiddleware,
    accepted_request_id,
    configure_logging,
    remove_logging,
)
from newretail.events import outbox
from tests.conftest import ALONE, Org
from tests.scrape import names, scrape, value


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The process's logging as `newretail serve --log-format json` sets it, into a buffer."""
    root = logging.getLogger()
    level = root.level
    sink = io.StringIO()
    configure_logging("json", stream=sink)
    yield sink
    remove_logging()
    root.setLevel(level)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET)


def lines(sink: io.StringIO) -> list[dict[str, Any]]:
    """The product's JSON lines (the test client's own, httpx's, left out)."""
    found = [json.loads(line) for line in sink.getvalue().splitlines()]
    return [line for line in found if line["logger"].startswith("newretail")]


def event(message_id: str, kind: str = "counter_approach") -> dict[str, Any]:
    return {
        "message_id": message_id,
        "type": kind,
        "ts": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "identifiers": {"anonymous_id": f"anon-{message_id}"},
    }


def test_the_request_id_is_taken_or_made_echoed_and_on_every_line_of_the_request(
    json_log: io.StringIO,
) -> None:
    app = FastAPI()
    seen: list[str] = []

    @app.get("/work")
    def work() -> dict[str, str]:  # a plain endpoint: runs on the thread pool
        seen.append(threading.current_thread().name)
        logging.getLogger("newretail.test").warning("working", extra={"step": 1})
        return {"ok": "yes"}

    app.add_middleware(RequestIdMiddleware)
    with TestClient(app) as client:
        given = client.get("/work", headers={"X-Request-Id": "req-42.a:b"})
        made = client.get("/work")
        refused = client.get("/work", headers={"X-Request-Id": "no spaces <script>"})
        missing = client.get("/nowhere", headers={"X-Request-Id": "req-404"})
    assert given.headers["x-request-id"] == "req-42.a:b"
    assert len(made.headers["x-request-id"]) == 32
    assert refused.headers["x-request-id"] not in (
        "no spaces <script>",
        made.headers["x-request-id"],
    )
    assert missing.status_code == 404 and missing.headers["x-request-id"] == "req-404"
    assert seen and seen[0] != threading.main_thread().name
    logged = [(line["logger"], line["message"], line["request_id"]) for line in lines(json_log)]
    assert logged == [
        ("newretail.test", "working", "req-42.a:b"),
        ("newretail.access", "GET /work 200", "req-42.a:b"),
        ("newretail.test", "working", made.headers["x-request-id"]),
        ("newretail.access", "GET /work 200", made.headers["x-request-id"]),
        ("newretail.test", "working", refused.headers["x-request-id"]),
        ("newretail.access", "GET /work 200", refused.headers["x-request-id"]),
        ("newretail.access", "GET /nowhere 404", "req-404"),
    ]
    first, access = lines(json_log)[:2]
    assert first["level"] == "WARNING" and first["step"] == 1
    assert (access["method"], access["path"], access["status"]) == ("GET", "/work", 200)
    assert accepted_request_id("x" * 128) == "x" * 128
    assert accepted_request_id("x" * 129) != "x" * 129


def test_the_app_answers_every_request_with_its_id_refusals_included(
    client: TestClient, org: Org, json_log: io.StringIO
) -> None:
    refused = client.post(
        "/api/v1/events", json={"events": []}, headers={"X-Request-Id": "ingest-1"}
    )
    assert refused.status_code == 401 and refused.headers["x-request-id"] == "ingest-1"
    listed = client.get("/api/v1/stores", headers={**org.auth(), "X-Request-Id": "list-1"})
    assert listed.status_code == 200 and listed.headers["x-request-id"] == "list-1"
    access = [(line["path"], line["status"], line["request_id"]) for line in lines(json_log)]
    assert access == [("/api/v1/events", 401, "ingest-1"), ("/api/v1/stores", 200, "list-1")]


def test_plain_log_lines_carry_the_request_id_or_a_dash() -> None:
    root = logging.getLogger()
    level = root.level
    sink = io.StringIO()
    configure_logging("plain", stream=sink, access=False)
    try:
        logging.getLogger("newretail.test").warning("outside a request")
        app = FastAPI()

        @app.get("/")
        def home() -> dict[str, str]:
            logging.getLogger("newretail.test").warning("inside")
            return {}

        app.add_middleware(RequestIdMiddleware)
        with TestClient(app) as client:
            client.get("/", headers={"X-Request-Id": "plain-7"})
    finally:
        remove_logging()
        root.setLevel(level)
        logging.getLogger(ACCESS_LOGGER).setLevel(logging.NOTSET)
    written = [line for line in sink.getvalue().splitlines() if " newretail." in line]
    assert [line.split(" ", 2)[2] for line in written] == [
        "WARNING newretail.test [-] outside a request",
        "WARNING newretail.test [plain-7] inside",
    ]  # access=False: no access line


def test_ingestion_and_loader_metrics_after_known_requests(
    client: TestClient, container: Container, org: Org
) -> None:
    before = scrape(client)
    key = {"Authorization": f"Bearer {org.write_key}"}
    first = client.post(
        "/api/v1/events",
        headers=key,
        json={"events": [event("m1"), event("m2"), event("m3"), event("m4", "teleport")]},
    )
    assert first.json()["accepted"] == 3 and len(first.json()["failed"]) == 1
    again = client.post("/api/v1/events", headers=key, json={"events": [event("m1")]})
    assert again.json() == {"accepted": 0, "duplicates": 1, "failed": []}
    client.app.state.collector.pipeline.flush()  # type: ignore[attr-defined]
    after = scrape(client)

    def delta(outcome: str) -> float:
        name = "newretail_events_total"
        return value(after, name, outcome=outcome) - value(before, name, outcome=outcome)

    assert (delta("accepted"), delta("duplicate"), delta("rejected")) == (3, 1, 1)
    assert value(after, "newretail_events_awaiting_load") == 0
    pool = container.engine.pool
    assert value(after, "newretail_db_pool_connections", state="size") == pool.size()  # type: ignore[attr-defined]
    assert value(after, "newretail_db_pool_connections", state="checked_out") == 0
    # no stream configured: no lag series; no org, member or store id in any label
    assert "newretail_event_stream_pending" not in names(after)
    labels = {label for (_, pairs) in after for label, _ in pairs}
    assert labels <= {"method", "route", "status", "outcome", "job", "state", "le"}


@pytest.mark.parametrize("database_url", ALONE, indirect=True)
def test_outbox_backlog_gauges_and_readiness_threshold(
    client: TestClient, container: Container, org: Org
) -> None:
    with session_scope(container.sessions, org.id) as session:
        outbox.enqueue(session, org.id, "purchase")
        outbox.enqueue(session, org.id, "refund")
    waiting = scrape(client)
    assert value(waiting, "newretail_outbox_unpublished") == 2
    assert value(waiting, "newretail_outbox_oldest_unpublished_seconds") >= 0
    assert client.get("/readyz").json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "warehouse": "ok",
            "loader_backlog": "ok",
            "outbox_backlog": "ok",
        },
        "reason": None,
    }
    container.settings.ready_max_outbox_backlog = 1
    over = client.get("/readyz")
    assert over.status_code == 503
    assert over.json()["status"] == "unavailable"
    assert over.json()["checks"]["outbox_backlog"] == "over: 2 > 1"
    assert over.json()["reason"] == "outbox_backlog: over: 2 > 1"
    assert outbox.relay_all(container.sessions, container.warehouse) == 2
    relayed = scrape(client)
    assert value(relayed, "newretail_outbox_unpublished") == 0
    assert value(relayed, "newretail_outbox_oldest_unpublished_seconds") == 0
    assert client.get("/readyz").status_code == 200
    container.settings.ready_max_outbox_backlog = 0  # no limit


def test_loader_backlog_over_its_threshold_is_not_ready(
    client: TestClient, container: Container
) -> None:
    container.settings.ready_max_load_backlog = 2
    pipeline = client.app.state.collector.pipeline  # type: ignore[attr-defined]
    with pipeline._progress:  # three batches acknowledged, none loaded yet
        pipeline._logged += 3
    try:
        answer = client.get("/readyz")
        assert value(scrape(client), "newretail_events_awaiting_load") == 3
    finally:
        with pipeline._progress:
            pipeline._logged -= 3
    assert answer.status_code == 503
    assert answer.json()["reason"] == "loader_backlog: over: 3 > 2"


def test_job_runs_and_failures_are_counted_per_job(client: TestClient) -> None:
    before = scrape(client)

    def fine(context: None, stopping: threading.Event) -> int:
        return 1

    def broken(context: None, stopping: threading.Event) -> int:
        raise RuntimeError("broken on purpose")

    runner: JobRunner[None] = JobRunner(
        None, [Job("observed-fine", 60, fine), Job("observed-broken", 60, broken)]
    )
    assert runner.run_once(runner.jobs[0]) is True
    assert runner.run_once(runner.jobs[0]) is True
    assert runner.run_once(runner.jobs[1]) is False
    after = scrape(client)

    def delta(name: str, job: str) -> float:
        return value(after, name, job=job) - value(before, name, job=job)

    assert delta("newretail_job_runs_total", "observed-fine") == 2
    assert delta("newretail_job_failures_total", "observed-fine") == 0
    assert delta("newretail_job_runs_total", "observed-broken") == 1
    assert delta("newretail_job_failures_total", "observed-broken") == 1
