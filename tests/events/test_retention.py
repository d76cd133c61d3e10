"""Retention: each organisation's events deleted after their period (a default, overrides per
event type) on the DuckDB and the PostgreSQL warehouse, its failed events after theirs; each
run records what it deleted per type."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from newretail.bootstrap import Container, bootstrap
from newretail.cli import app
from newretail.core.database import session_scope, utcnow
from newretail.core.settings import Settings
from newretail.events import retention, schemas
from newretail.events.models import EventRetentionRun, FailedEvent
from newretail.jobs import event_retention
from newretail.tenancy.models import Role
from newretail.warehouse.connection import EVENT_TABLE
from newretail.warehouse.sql import fetch_rows, run_sql
from tests.conftest import ALONE, TEST_SECRET, Org, api_key_for, store_args
from tests.events.test_collector import event, post

NOW = utcnow()
# (type, days before now, how many): the organisation's events in the warehouse
EVENTS = [
    ("purchase", 400, 3),  # past purchase's 365 days
    ("purchase", 100, 2),
    ("store_visit", 40, 4),  # past the default 30 days
    ("store_visit", 10, 1),
    ("product_view", 31, 2),  # past the default
    ("product_view", 29, 1),
]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return f"duckdb://{tmp_path / 'warehouse.duckdb'}"
    postgres_url = str(request.getfixturevalue("postgres_alone_url"))  # not the shared store
    return "postgres://" + postgres_url.split("://", 1)[1]


@pytest.fixture
def settings(database_url: str, warehouse_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        warehouse_url=warehouse_url,
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
        webhook_send_seconds=0,
    )


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    built = bootstrap(settings)
    yield built
    built.close()


def _insert(container: Container, org: Org, rows: list[tuple[str, int, int]]) -> None:
    values = []
    for kind, days, count in rows:
        at = (NOW - timedelta(days=days)).isoformat()
        for n in range(count):
            message = f"{org.slug}-{kind}-{days}-{n}"
            instant = f"CAST('{at}' AS TIMESTAMP WITH TIME ZONE)"
            values.append(f"('{org.id}', '{message}', '{kind}', {instant}, {instant})")
    with container.warehouse.lock:
        run_sql(
            container.warehouse.connection(),
            f'INSERT INTO "{EVENT_TABLE}" (organization_id, message_id, type, ts, received_at) '  # noqa: S608
            f"VALUES {', '.join(values)}",
        )


def _left(container: Container, org: Org) -> dict[str, int]:
    with container.warehouse.lock:
        rows = fetch_rows(
            container.warehouse.connection(),
            f'SELECT type, count(*) FROM "{EVENT_TABLE}" '  # noqa: S608
            f"WHERE organization_id = '{org.id}' GROUP BY type",
        )
    return {str(kind): int(count) for kind, count in sorted(rows)}


def _put(client: TestClient, org: Org, body: dict[str, Any]) -> Any:
    return client.put("/api/v1/events/retention", headers=org.auth(), json=body)


def _age_failed(container: Container, message_ids: list[str], days: int) -> None:
    with session_scope(container.sessions) as session:
        session.execute(
            update(FailedEvent)
            .where(FailedEvent.message_id.in_(message_ids))
            .values(received_at=utcnow() - timedelta(days=days)),
            execution_options={"include_all_organizations": True},
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_run_deletes_each_types_events_past_its_period_and_counts_them(
    client: TestClient, container: Container, org: Org, other_org: Org
) -> None:
    _insert(container, org, EVENTS)
    _insert(container, other_org, EVENTS)  # no settings: nothing of it is deleted
    bad = [event(org, f"{org.slug}-bad-{i}", "no_such_type") for i in range(3)]
    assert post(client, org, bad).status_code == 400
    _age_failed(container, [f"{org.slug}-bad-0", f"{org.slug}-bad-1"], 8)
    settings = {"default_days": 30, "type_days": {"purchase": 365}, "failed_days": 7}
    answer = _put(client, org, settings)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "default_days": 30,
        "type_days": {"purchase": 365},
        "failed_days": 7,
        "failed_days_applied": 7,
        "runs": [],
    }

    run = client.post("/api/v1/events/retention/runs", headers=org.auth())
    assert run.status_code == 201, run.text
    body = run.json()
    assert body["events_deleted"] == {"product_view": 2, "purchase": 3, "store_visit": 4}
    assert body["failed_deleted"] == 2
    assert body["trigger"] == "manual"
    assert _left(container, org) == {"product_view": 1, "purchase": 2, "store_visit": 1}
    assert _left(container, other_org) == {"product_view": 3, "purchase": 5, "store_visit": 5}

    again = client.post("/api/v1/events/retention/runs", headers=org.auth()).json()
    assert (again["events_deleted"], again["failed_deleted"]) == ({}, 0)
    read = client.get("/api/v1/events/retention", headers=org.auth()).json()
    assert [r["events_deleted"] for r in read["runs"]] == [{}, body["events_deleted"]]
    assert client.get("/api/v1/events/retention", headers=other_org.auth()).json()["runs"] == []


def test_the_default_alone_and_overrides_alone(
    client: TestClient, container: Container, org: Org
) -> None:
    _insert(container, org, EVENTS)
    assert _put(client, org, {"type_days": {"store_visit": 5}}).status_code == 200
    with session_scope(container.sessions, org.id) as session:
        run = retention.apply_retention(session, container.warehouse, org.id, 30, "job", "test")
    assert run.events_deleted == {"store_visit": 5}
    assert _put(client, org, {"default_days": 35}).status_code == 200
    with session_scope(container.sessions, org.id) as session:
        run = retention.apply_retention(session, container.warehouse, org.id, 30, "job", "test")
    assert run.events_deleted == {"purchase": 5}  # 100 and 400 days old; views 29 and 31
    assert _left(container, org) == {"product_view": 3}


@pytest.mark.parametrize("database_url", ALONE, indirect=True)
def test_the_job_applies_every_organisations_retention_and_records_only_runs_that_deleted(
    client: TestClient, container: Container, org: Org, other_org: Org
) -> None:
    _insert(container, org, EVENTS)
    _insert(container, other_org, EVENTS)
    for owner in (org, other_org):
        bad = [event(owner, f"{owner.slug}-bad-{i}", "no_such_type") for i in range(3)]
        assert post(client, owner, bad).status_code == 400
        _age_failed(container, [f"{owner.slug}-bad-0", f"{owner.slug}-bad-1"], 31)
    assert _put(client, org, {"default_days": 30}).status_code == 200
    # org: every type past 30 days, and the failed events past the server's default 30 days;
    # other_org: its failed events only
    totals = event_retention(container, None)  # type: ignore[arg-type]
    assert dict(totals) == {"product_view": 2, "purchase": 5, "store_visit": 4, "failed": 4}
    assert _left(container, org) == {"product_view": 1, "store_visit": 1}
    assert event_retention(container, None) == {}  # type: ignore[arg-type]
    with session_scope(container.sessions) as session:
        runs = session.scalars(
            select(EventRetentionRun), execution_options={"include_all_organizations": True}
        ).all()
    found = sorted(
        ((r.organization_id, r.trigger, r.events_deleted, r.failed_deleted) for r in runs),
        key=lambda run: len(run[2]),
    )
    assert found == [
        (other_org.id, "job", {}, 2),
        (org.id, "job", {"product_view": 2, "purchase": 5, "store_visit": 4}, 2),
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"default_days": 0}, "body.default_days"),
        ({"default_days": 3651}, "body.default_days"),
        ({"failed_days": 0}, "body.failed_days"),
        ({"type_days": {"purchase": 4000}}, "body.type_days.purchase"),
        ({"type_days": {"Bad-Type": 10}}, "body.type_days.Bad-Type.[key]"),
        ({"keep": 1}, "body.keep"),
    ],
)
def test_refused_settings_name_the_field(
    client: TestClient, org: Org, body: dict[str, Any], field: str
) -> None:
    answer = _put(client, org, body)
    assert answer.status_code == 422
    assert (answer.json()["code"], answer.json()["field"]) == ("invalid_input", field)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_changing_and_running_need_an_owner_or_admin(
    client: TestClient, container: Container, org: Org
) -> None:
    marketer = api_key_for(client, org, Role.MARKETER)
    assert client.get("/api/v1/events/retention", headers=org.auth(marketer)).status_code == 200
    assert _put(client, org, {"default_days": 30}).status_code == 200
    refused = client.put(
        "/api/v1/events/retention", headers=org.auth(marketer), json={"default_days": 30}
    )
    assert refused.status_code == 403
    ran = client.post("/api/v1/events/retention/runs", headers=org.auth(marketer))
    assert ran.status_code == 403


def test_the_condition_quotes_nothing_but_checked_names() -> None:
    at = datetime(2026, 12, 7, 12, 0, tzinfo=NOW.tzinfo)
    org = "0b6f1f4e-9d7e-4a57-8f0e-2d2b52c0e0a1"
    assert retention.expired_events(org, None, {}, at) is None
    assert retention.expired_events(org, 1, {"purchase": 2}, at) == (
        f"organization_id = '{org}' AND ("
        "(type = 'purchase' AND ts < CAST('2026-12-05T12:00:00+00:00' AS TIMESTAMP WITH TIME ZONE))"
        " OR (ts < CAST('2026-12-06T12:00:00+00:00' AS TIMESTAMP WITH TIME ZONE)"
        " AND type NOT IN ('purchase')))"
    )
    assert schemas.RetentionUpdate(type_days={"a_b": 1}).type_days == {"a_b": 1}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("warehouse_url", ["duckdb"], indirect=True)
def test_the_cli_shows_sets_and_runs(container: Container, settings: Settings, org: Org) -> None:
    _insert(container, org, EVENTS)
    container.warehouse.close()  # the command opens the embedded warehouse itself
    base = [*store_args(settings), "events", "retention"]
    runner = CliRunner()
    options = ["--default-days", "30", "--type", "purchase=365", "--failed-days", "7", "--json"]
    changed = runner.invoke(app, [*base, "set", "--org", org.slug, *options])
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.stdout)["type_days"] == {"purchase": 365}
    cleared = runner.invoke(app, [*base, "set", "--org", org.slug, "--type", "purchase=0"])
    assert cleared.exit_code == 0, cleared.output
    refused = runner.invoke(app, [*base, "set", "--org", org.slug, "--type", "Visit=3"])
    assert refused.exit_code == 2
    assert "type_days.Visit.[key]" in refused.output
    shown = json.loads(runner.invoke(app, [*base, "show", "--org", org.slug, "--json"]).stdout)
    assert (shown["default_days"], shown["type_days"], shown["failed_days"]) == (30, {}, 7)
    ran = runner.invoke(app, [*base, "run", "--org", org.slug, "--json"])
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["events_deleted"] == {
        "product_view": 2,
        "purchase": 5,
        "store_visit": 4,
    }
    assert _left(container, org) == {"product_view": 1, "store_visit": 1}
