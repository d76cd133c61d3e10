"""Issue 16's erasure acceptance: a member with orders, points, coupons, events in both
stores, audience memberships and an export is erased; then a generic scan of every table and
every text, JSON and id column of the operational store and of the warehouse finds no id,
identifier or identifier hash of theirs outside the audit rows, and the counts and GMV stay
exact. On SQLite + DuckDB and on PostgreSQL (its warehouse in the same database)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope, utcnow
from newretail.core.settings import Settings
from newretail.events import outbox
from newretail.events.models import FailedEvent
from newretail.members import schemas as member_schemas
from newretail.members import service as members_service
from newretail.privacy.models import MemberDataRequest
from newretail.warehouse.sql import fetch_rows
from tests.conftest import ALONE, TEST_SECRET, Org, store_args
from tests.privacy.test_export import PHONE, at
from tests.timelines.events import load, row

EMAIL = "han@example.com"
CARD = "CARD-88123"
AUDIT_TABLE = "member_data_request"
TEXT_TYPES = (sa.String, sa.JSON, sa.Uuid)

pytestmark = pytest.mark.parametrize("database_url", ALONE, indirect=True)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The warehouse is DuckDB beside SQLite, PostgreSQL (the same database) beside it."""
    postgres = database_url.startswith("postgresql")
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        warehouse_url=(
            "postgres://" + database_url.split("://", 1)[1]
            if postgres
            else f"duckdb://{tmp_path / 'warehouse.duckdb'}"
        ),
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
        webhook_send_seconds=0,
    )


def operational_hits(container: Container, needles: list[str]) -> Iterator[tuple[str, str, str]]:
    """(table, column, needle) for every value of a text, JSON or id column holding a needle."""
    with container.engine.connect() as connection:
        inspector = sa.inspect(connection)
        for table in inspector.get_table_names():
            columns = [
                c["name"] for c in inspector.get_columns(table) if isinstance(c["type"], TEXT_TYPES)
            ]
            OPERATIONAL_COLUMNS.add((table, tuple(columns)))
            if not columns:
                continue
            listed = ", ".join(f'CAST("{c}" AS TEXT)' for c in columns)
            for row in connection.execute(sa.text(f'SELECT {listed} FROM "{table}"')):  # noqa: S608
                for column, value in zip(columns, row, strict=True):
                    text = (value or "").lower()
                    for needle in needles:
                        if needle in text:
                            yield table, column, needle


def warehouse_hits(container: Container, needles: list[str]) -> Iterator[tuple[str, str, str]]:
    con = container.warehouse.connection()
    with container.warehouse.lock:
        # the warehouse's stored tables (not the temporary views Ibis registers for inserts)
        listing = (
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary"
            if con.name == "duckdb"
            else "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE'"
        )
        for (table,) in fetch_rows(con, listing):
            schema = con.table(table).schema()
            columns = [name for name, kind in schema.items() if kind.is_string()]
            WAREHOUSE_COLUMNS.add((table, tuple(columns)))
            if not columns:
                continue
            listed = ", ".join(f'"{c}"' for c in columns)
            for row in fetch_rows(con, f'SELECT {listed} FROM "{table}"'):  # noqa: S608
                for column, value in zip(columns, row, strict=True):
                    text = (value or "").lower()
                    for needle in needles:
                        if needle in text:
                            yield table, column, needle


OPERATIONAL_COLUMNS: set[tuple[str, tuple[str, ...]]] = set()
WAREHOUSE_COLUMNS: set[tuple[str, tuple[str, ...]]] = set()


def totals(container: Container, org: Org) -> dict[str, Any]:
    with container.engine.connect() as connection:
        orders = connection.execute(
            sa.text(
                "SELECT count(*), sum(total_amount) FROM sales_order WHERE organization_id = :o"
            ),
            {"o": org.id if container.engine.dialect.name == "postgresql" else org.id.hex},
        ).one()
    con = container.warehouse.connection()
    with container.warehouse.lock:
        [events] = fetch_rows(
            con,
            "SELECT count(*), sum(amount), count(DISTINCT member_id) FROM event "  # noqa: S608
            f"WHERE organization_id = '{org.id}'",
        )
    return {"orders": tuple(orders), "events": tuple(events)}


def test_an_erased_member_leaves_no_trace_but_the_tombstone_and_the_audit(
    client: TestClient, container: Container, org: Org, rich: dict[str, Any]
) -> None:
    member: uuid.UUID = rich["member"]
    with session_scope(container.sessions, org.id) as session:
        members_service.update_member(
            session,
            rich["shop"].principal,
            member,
            member_schemas.MemberUpdate(member_card=CARD),
        )
        session.add(  # a refused event that carried the member's phone
            FailedEvent(
                organization_id=org.id,
                api="native",
                received_at=utcnow(),
                message_id="bad-1",
                event_type="store_visit",
                field="ts",
                reason="missing",
                payload={"identifiers": {"phone": PHONE}, "type": "store_visit"},
            )
        )
    load(  # an event whose properties name the member
        container,
        [
            row(
                org.id,
                member,
                "m-personal",
                "store_visit",
                at("2026-03-04T10:00"),
                properties={"phone": PHONE, "note": f"asked for {EMAIL}", "sku": "SKU0"},
            )
        ],
    )
    assert outbox.relay_all(container.sessions, container.warehouse) > 0  # purchase, join…
    export = client.get(f"/api/v1/members/{member}/export", headers=org.auth())
    assert export.status_code == 200
    hashes = [i["value_hash"] for i in export.json()["sections"]["identifiers"]]
    assert len(hashes) == 3  # phone, e-mail, card
    needles = [str(member), member.hex, PHONE, PHONE[3:], EMAIL, CARD.lower(), *hashes]
    before = totals(container, org)
    # the member is everywhere before
    found_before = {t for t, _, _ in operational_hits(container, needles)}
    assert {"member", "member_identifier", "sales_order", "coupon", "reach_decision"} <= (
        found_before
    )
    assert {"event", "audience_member"} <= {t for t, _, _ in warehouse_hits(container, needles)}

    refused = client.post(
        f"/api/v1/members/{member}/erasure", headers=org.auth(), json={"confirm": False}
    )
    assert refused.status_code == 422 and refused.json()["field"] == "confirm"
    answer = client.post(
        f"/api/v1/members/{member}/erasure", headers=org.auth(), json={"confirm": True}
    )
    assert answer.status_code == 200, answer.text
    erased = answer.json()
    assert erased["status"] == "done"
    tombstone = erased["tombstone_id"]

    leftover = [
        hit for hit in operational_hits(container, needles) if hit[0] != AUDIT_TABLE
    ] + list(warehouse_hits(container, needles))
    assert leftover == []
    # the scan is generic: every table of both stores, every text/JSON/id column
    assert len(OPERATIONAL_COLUMNS) >= 70 and len(WAREHOUSE_COLUMNS) >= 8
    after = totals(container, org)
    assert after["orders"] == before["orders"]
    assert after["events"] == before["events"]
    con = container.warehouse.connection()
    with container.warehouse.lock:
        [(properties,)] = fetch_rows(
            con, "SELECT properties FROM event WHERE message_id = 'm-personal'"
        )
    assert json.loads(properties) == {"note": None, "sku": "SKU0"}  # personal parts stripped
    # the orders and the events are the tombstone's now
    with container.engine.connect() as connection:
        owners = connection.execute(sa.text("SELECT DISTINCT member_id FROM sales_order")).all()
    assert [str(uuid.UUID(str(o))) for (o,) in owners] == [tombstone]
    # audited: the export and the erasure, both naming the member
    with session_scope(container.sessions, org.id) as session:
        audit = session.scalars(
            sa.select(MemberDataRequest).order_by(MemberDataRequest.requested_at)
        ).all()
        assert [(a.kind, a.member_id, a.status) for a in audit] == [
            ("correction", member, None),  # the fixture's profile change
            ("correction", member, None),  # the member card given above
            ("export", member, None),
            ("erasure", member, "done"),
        ]
        assert audit[-1].actor.startswith("api_key:") and audit[-1].channel == "api"
        assert "pending_traces" not in audit[-1].rows
    again = client.post(
        f"/api/v1/members/{member}/erasure", headers=org.auth(), json={"confirm": True}
    )
    assert again.status_code == 409 and again.json()["code"] == "already_erased"
    # the erased phone comes back: a new member
    with session_scope(container.sessions, org.id) as session:
        back, created = members_service.get_or_create_member(
            session, rich["shop"].principal, member_schemas.MemberCreate(phone=PHONE)
        )
        assert created and back.id not in (member, uuid.UUID(tombstone))


def test_the_cli_erases_with_yes_only_and_says_what_it_did(
    container: Container, settings: Settings, org: Org, rich: dict[str, Any]
) -> None:
    member = rich["member"]
    base = ["member", "erase", str(member), "--org", org.slug, *store_args(settings)]
    refused = CliRunner().invoke(app, [*base, "--json"])
    assert refused.exit_code != 0 and "--yes" in refused.output
    result = CliRunner().invoke(app, [*base, "--yes", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["member_id"], data["status"], data["profiles"]) == (
        str(member),
        "done",
        [str(member)],
    )
    with session_scope(container.sessions, org.id) as session:
        [audit] = session.scalars(
            sa.select(MemberDataRequest).where(MemberDataRequest.kind == "erasure")
        ).all()
        assert (audit.kind, audit.channel, audit.member_id) == ("erasure", "cli", member)
        assert members_service.find_member(session, rich["shop"].principal, "phone", PHONE) is None
