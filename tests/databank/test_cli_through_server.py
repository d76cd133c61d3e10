"""The databank commands while `newretail serve` holds the embedded DuckDB warehouse."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core import localtime
from newretail.core.local_server import running_server
from newretail.core.settings import Settings
from tests.conftest import Org, store_args
from tests.core.test_local_server import real_server  # noqa: F401 (a fixture)
from tests.databank.history import day
from tests.databank.test_api import D1, D2, history  # noqa: F401 (a fixture)


@pytest.fixture
def serving(container: Container, request: pytest.FixtureRequest) -> subprocess.Popen[str]:
    """The history in the warehouse, then a server process that holds it."""
    request.getfixturevalue("history")
    container.warehouse.close()
    server: subprocess.Popen[str] = request.getfixturevalue("real_server")
    return server


# The embedded deployment (SQLite beside the DuckDB warehouse the server holds): the path goes
# CLI → HTTP → server → DuckDB whatever the operational store, and the one store-specific
# check below is SQLite's write lock. SQLite only (a server process per store cost ~25 s).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_databank_commands_go_through_the_running_server(
    settings: Settings,
    org: Org,
    serving: subprocess.Popen[str],
) -> None:
    assert running_server(settings) is not None
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(
            app, [*store_args(settings), "databank", *args], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        assert "Could not set lock" not in result.output
        return json.loads(result.stdout)

    assert run("snapshot", "--org", org.slug, "--date", str(D1), "--json") == {
        "date": str(D1),
        "mode": "full",
        "rows": 3,
    }
    runs = run("backfill", "--org", org.slug, "--from", str(day(31)), "--to", str(D2), "--json")
    assert [r["mode"] for r in runs] == ["incremental"] * 7
    assert runs[-1] == {"date": str(D2), "mode": "incremental", "rows": 3}
    assert run("stages", "--org", org.slug, "--date", str(D2), "--json") == {
        "date": str(D2),
        "min_crowd_size": 1,
        "brands": [
            {"brand_id": str(org.brand_id), "A": 0, "I": 1, "P": 1, "L": 1, "suppressed": False}
        ],
    }
    flows = run("flows", "--org", org.slug, "--from", str(D1), "--to", str(D2), "--json")
    assert flows["brands"][0]["new"] == {"A": 0, "I": 1, "P": 0, "L": 0}
    fast = run("fast", "--org", org.slug, "--end", str(D2), "--weeks", "1", "--json")
    assert (fast[0]["fertility"], fast[0]["advancing"]) == (3, 0.666667)
    # without --date the command reads the organisation's zone first: its own read must not
    # hold SQLite's write lock while the server answers (it did, until the busy timeout)
    yesterday = run("stages", "--org", org.slug, "--json")
    assert yesterday["date"] == str(
        localtime.today("Asia/Shanghai") - timedelta(days=1)
    )  # the default zone
    missing = runner.invoke(app, [*store_args(settings), "databank", "stages", "--org", "nope"])
    assert missing.exit_code == 2
    assert "no organisation 'nope'" in missing.output
