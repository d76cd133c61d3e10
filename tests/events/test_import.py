"""Offline data return: a CSV of store events through the collector, matched to members."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import scope_session, session_scope
from newretail.core.local_server import running_server
from newretail.core.settings import Settings
from newretail.members import schemas as member_schemas
from newretail.members import service as member_service
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import Org, store_args
from tests.core.test_local_server import real_server

__all__ = ["real_server"]  # the fixture: `newretail serve` in its own process


def test_csv_rows_are_stored_matched_by_phone_and_card_and_bad_rows_reported(
    database_url: str, tmp_path: Path, container: Container, org: Org
) -> None:
    owner = Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="test")
    with session_scope(container.sessions) as session:
        scope_session(session, org.id)
        known = member_service.create_member(
            session,
            owner,
            member_schemas.MemberCreate(name="Wang", phone="13900139000", member_card="vip-7"),
        ).id
    when = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0).isoformat()
    csv_file = tmp_path / "returns.csv"
    csv_file.write_text(
        "type,ts,store_code,phone,member_card,amount,prop_product_id,prop_quantity\n"
        f"counter_approach,{when},S1,139 0013 9000,,,,\n"
        f"purchase,{when},S0,,VIP-7,88.00,P1,2\n"
        f"add_to_cart,{when},S0,,,,P2,0\n"
        f"store_visit,{when},NOPE,,,,,\n"
        f"store_visit,yesterday,S0,,,,,\n"
        f"counter_approach,{when},S1,139 0013 9000,,,,\n",
        encoding="utf-8",
    )
    warehouse = tmp_path / "import.duckdb"
    base = [
        "--data-dir", str(tmp_path / "cli"),
        "--database-url", database_url,
        "--warehouse-url", f"duckdb://{warehouse}",
    ]  # fmt: skip
    result = CliRunner().invoke(
        app, [*base, "events", "import", "--org", org.slug, str(csv_file), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "rows": 6,
        "accepted": 2,
        "duplicates": 1,
        "rejected": [
            {"row": 4, "field": "prop_quantity", "reason": "must be at least 1"},
            {"row": 5, "field": "store_code", "reason": "no store with code 'NOPE'"},
            {
                "row": 6,
                "field": "ts",
                "reason": "is required: an ISO 8601 time with a time zone offset",
            },
        ],
    }
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT type, member_id, store_id, amount FROM event ORDER BY type"
        ).fetchall()
    assert [(t, m, s, a is None or float(a)) for t, m, s, a in rows] == [
        ("counter_approach", str(known), str(org.store_ids[1]), True),
        ("purchase", str(known), str(org.store_ids[0]), 88.0),
    ]
    again = CliRunner().invoke(
        app, [*base, "events", "import", "--org", org.slug, str(csv_file), "--json"]
    )
    assert json.loads(again.stdout)["duplicates"] == 3
    failed = CliRunner().invoke(app, [*base, "events", "failed", "--org", org.slug, "--json"])
    # refused by the collector (not by the CSV reading): kept as failed events, per import
    assert [f["field"] for f in json.loads(failed.stdout)] == [
        "events[2].properties.quantity",
        "events[3].ts",
    ] * 2


def test_beside_a_running_server_import_and_replay_go_through_it(
    settings: Settings,
    container: Container,
    org: Org,
    tmp_path: Path,
    real_server: subprocess.Popen[str],
) -> None:
    """The server holds the embedded DuckDB warehouse: the CLI goes through it, or says how."""
    base = store_args(settings)
    when = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0).isoformat()
    csv_file = tmp_path / "visits.csv"
    csv_file.write_text(f"type,ts,store_code\nstore_visit,{when},S0\n", encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(app, [*base, "events", "import", "--org", org.slug, str(csv_file)])
    info = running_server(settings)
    assert info is not None and refused.exit_code == 2
    assert " ".join(refused.stderr.split()) == (
        f"error [configuration_error] write_key: a NewRetail server is running on this data "
        f"folder ({info.url}) and holds the embedded warehouse; send the file through it with "
        "--write-key KEY (a source's write key: `newretail source create --org ORG NAME` prints "
        "one), or stop the server first"
    )
    owner = Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="test")
    with session_scope(container.sessions) as session:
        scope_session(session, org.id)
        _, write_key = tenancy_service.create_source(
            session, owner, tenancy_schemas.SourceCreate(name="Store returns")
        )
    command = ["events", "import", "--org", org.slug, str(csv_file), "--write-key", write_key]
    imported = runner.invoke(app, [*base, *command, "--json"])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout) == {
        "rows": 1,
        "accepted": 1,
        "duplicates": 0,
        "rejected": [],
    }
    replayed = runner.invoke(app, [*base, "events", "replay", "--org", org.slug, "--json"])
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.stdout) == {"replayed": 0, "still_failing": 0, "failed": []}
