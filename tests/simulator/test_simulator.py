"""The simulator through real HTTP: the CLI against an in-process server, every event and
order stored once, identified shoppers' timelines across channels."""

from __future__ import annotations

import json
import random
import secrets
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import scope_session, session_scope
from newretail.core.settings import Settings
from newretail.demo import organisation as demo
from newretail.demo import traffic as demo_traffic
from newretail.demo.members import seed_members
from newretail.demo.orders import seed_commerce
from newretail.events.outbox import relay_all
from newretail.orders.models import Order
from newretail.simulator.access import simulator_access
from newretail.simulator.client import ApiClient
from newretail.simulator.discovery import discover_world
from newretail.simulator.driver import SimulationReport, send_plan
from newretail.simulator.server import local_server
from newretail.simulator.traffic import plan_traffic
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from newretail.timelines import service as timelines_service
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import store_args
from tests.orders.factory import check_ledger

runner = CliRunner()


@pytest.fixture
def shop_org(container: Container, monkeypatch: pytest.MonkeyPatch) -> tuple[uuid.UUID, str]:
    """The demo's brands, stores, catalogue and stock (no orders) and 60 members."""
    monkeypatch.setattr(demo, "ROLE_LOGINS", [])
    with session_scope(container.sessions) as session:
        suffix = secrets.token_hex(4)
        org = tenancy_service.create_organization(
            scope_session(session, None),
            f"sim {suffix}",
            owner_email=f"sim-{suffix}@example.com",
            owner_password="correct horse battery",
            slug=f"sim-{suffix}",
        ).organization
        demo._seed_tenancy(session, org)
        seed_members(session, org.id, 60, random.Random(3))
        seed_commerce(session, org.id, random.Random(5), days=0)
        return org.id, org.slug


def test_cli_simulates_through_http_and_everything_lands_once(
    container: Container, settings: Settings, shop_org: tuple[uuid.UUID, str]
) -> None:
    org_id, slug = shop_org
    result = runner.invoke(
        app,
        [
            *store_args(settings),
            "simulate",
            "--org",
            slug,
            "--days",
            "3",
            "--rate",
            "40",
            "--seed",
            "11",
            "--json",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    sent = report["events_sent"]
    assert sent == sum(report["events_by_type"].values()) > 100
    assert (report["accepted"], report["duplicates"], report["failed"]) == (sent, 0, 0)
    assert report["failures"] == [], report["failures"]
    assert report["orders_failed"] == 0
    assert report["orders"] == sum(report["orders_by_kind"].values()) > 10
    assert report["members_identified"] > 0 and report["seed"] == 11
    assert report["events_settled"] is True  # purchases waited for the events to load

    relay_all(container.sessions, container.warehouse)
    con = container.warehouse.connection()
    event = con.table(EVENT_TABLE)
    mine = event.filter(event.organization_id == str(org_id))
    simulated = mine.filter(mine.message_id.startswith("sim-11-"))
    counts = simulated.group_by("type").aggregate(n=simulated.count()).to_pyarrow().to_pylist()
    assert {r["type"]: r["n"] for r in counts} == report["events_by_type"]
    with session_scope(container.sessions, org_id) as session:
        orders = session.scalar(
            select(func.count()).select_from(Order).where(Order.external_order_id.like("sim-11-%"))
        )
        assert orders == report["orders"]
    purchases = mine.filter(
        (mine.type == "purchase") & mine.properties.contains('"external_order_id": "sim-11-')
    )
    assert int(purchases.count().execute()) == report["orders"]
    check_ledger(container, org_id)

    # a shopper identified at a till (a visit always starts with `store_visit`; cloud-shelf and
    # online buyers may have no sensor events): sensors, identification, purchase on one member
    buyer = (
        purchases.filter(
            purchases.member_id.notnull() & purchases.channel.isin(["store", "counter", "popup"])
        )
        .order_by("message_id")
        .limit(1)
        .to_pyarrow()
        .to_pylist()
    )
    assert buyer, "no identified till purchase"
    owner = Principal.for_role(PrincipalKind.USER, org_id, Role.OWNER, actor="test")
    with session_scope(container.sessions, org_id) as session:
        page = timelines_service.member_timeline(
            session,
            container.warehouse,
            owner,
            uuid.UUID(buyer[0]["member_id"]),
            timelines_service.TimelineFilter(),
            500,
        )
    types = Counter(e.type for e in page.items)
    assert types["identify"] >= 1 and types["purchase"] >= 1
    assert types["store_visit"] + types["district_enter"] + types["screen_exposure"] >= 1


def test_a_resent_plan_stores_nothing_twice(
    container: Container, shop_org: tuple[uuid.UUID, str], tmp_path: Path
) -> None:
    org_id, slug = shop_org
    with session_scope(container.sessions) as session:
        access = simulator_access(session, slug)
    with session_scope(container.sessions) as session:
        again = simulator_access(session, slug)  # the same source, a new write key
    assert (again.source_id, again.slug) == (access.source_id, slug)
    assert again.write_key != access.write_key and again.api_key != access.api_key
    end = datetime.now(UTC) - timedelta(minutes=5)
    with local_server(container) as url:
        old = ApiClient(url, access)
        response = old.client.post("/api/v1/events", headers=old.write_auth, json={"events": []})
        assert response.status_code == 401  # the previous run's write key stopped working
        old.close()
        api = ApiClient(url, again)
        world = discover_world(api)
        # the plan depends on the time of day (stores' opening hours): the first seed whose
        # plan holds both a till sale and an online checkout, so both kinds are checked
        plans = ((seed, plan_traffic(world, 2, 25, seed, end)) for seed in range(5, 100))
        seed, plan = next(
            (seed, plan)
            for seed, plan in plans
            if {s.kind for s in plan.sales} == {"pos", "checkout"}
        )
        first = send_plan(api, world, plan, SimulationReport(slug, url, 2, 25, seed))
        second = send_plan(api, discover_world(api), plan, SimulationReport(slug, url, 2, 25, seed))
        api.close()
    assert first.failed == 0 and first.orders_failed == 0, first.failures
    assert first.events_settled and second.events_settled
    assert (first.accepted, first.duplicates) == (len(plan.events), 0)
    assert (second.accepted, second.duplicates, second.failed) == (0, len(plan.events), 0)
    assert (first.orders, first.orders_replayed) == (len(plan.sales), 0)
    assert (second.orders, second.orders_replayed, second.restocks) == (0, len(plan.sales), 0)
    with session_scope(container.sessions, org_id) as session:
        orders = session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.external_order_id.like(f"sim-{seed}-%"))
        )
        placed = dict(
            session.execute(
                select(Order.external_order_id, Order.placed_at).where(
                    Order.external_order_id.like(f"sim-{seed}-%")
                )
            ).all()
        )
    assert orders == len(plan.sales)
    # every order is stamped when the shopper paid, checkouts too (not when the run sent it)
    assert {
        order_id: at if at.tzinfo else at.replace(tzinfo=UTC) for order_id, at in placed.items()
    } == {s.external_order_id: s.at for s in plan.sales}
    check_ledger(container, org_id)


def test_bad_arguments_name_the_option(settings: Settings, shop_org: tuple[uuid.UUID, str]) -> None:
    _, slug = shop_org
    for extra, message in (
        (["--days", "366"], "days: must be between 1 and 365"),
        (["--days", "0"], "days: must be between 1 and 365"),
        (["--rate", "-1"], "rate: must be between 0 and 100000"),
        (["--end", "tomorrow"], "end: not an ISO 8601 time"),
        (["--end", "2999-01-01T00:00:00+00:00"], "end: must not be in the future"),
        (["--seed", "1000000000"], "seed: must be between 0 and 999999999"),
    ):
        result = runner.invoke(app, [*store_args(settings), "simulate", "--org", slug, *extra])
        assert result.exit_code == 2, result.output
        assert message in result.output
    unknown = runner.invoke(app, [*store_args(settings), "simulate", "--org", "nope"])
    assert unknown.exit_code == 2 and "org: no organisation 'nope'" in unknown.output


def test_demo_traffic_runs_once_in_the_background(
    container: Container,
    settings: Settings,
    shop_org: tuple[uuid.UUID, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, slug = shop_org
    monkeypatch.setattr(demo_traffic, "DEMO_DAYS", 2)
    monkeypatch.setattr(demo_traffic, "DEMO_RATE", 15)
    relay_all(container.sessions, container.warehouse)  # the seeded facts, as a server would
    with local_server(container) as url:
        port = int(url.rsplit(":", 1)[1])
        thread = demo_traffic.start_demo_traffic(settings, "0.0.0.0", port, organization=slug)  # noqa: S104
        assert thread is not None
        thread.join(120)
        assert not thread.is_alive()
        # once per data folder: the report marks it done
        assert demo_traffic.start_demo_traffic(settings, "127.0.0.1", port, slug) is None
    report = json.loads(demo_traffic.traffic_report_path(settings).read_text(encoding="utf-8"))
    assert not (settings.data_dir / demo_traffic.STARTED_FILE).exists()  # done, not pending
    assert (report["organization"], report["days"], report["rate"], report["seed"]) == (
        slug,
        2,
        15,
        42,
    )
    assert report["accepted"] == report["events_sent"] > 0
    assert (report["failed"], report["orders_failed"]) == (0, 0)


def test_cli_talks_to_a_running_server_with_url(
    container: Container, settings: Settings, shop_org: tuple[uuid.UUID, str]
) -> None:
    _, slug = shop_org
    args = ["simulate", "--org", slug, "--days", "1", "--rate", "20", "--seed", "3", "--json"]
    with local_server(container) as url:
        result = runner.invoke(
            app, [*store_args(settings), *args, "--url", url], catch_exceptions=False
        )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["url"] == url and report["days"] == 1
    assert report["accepted"] == report["events_sent"] > 0
    assert (report["failed"], report["orders_failed"]) == (0, 0)
