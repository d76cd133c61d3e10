"""`newretail audience …` beside a running server that holds the embedded DuckDB warehouse:
the commands that need the warehouse go through the server and print what they print
without one; sync-members says what to do."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.local_server import running_server
from newretail.core.localtime import today
from newretail.core.settings import Settings
from tests.audiences.world import cart_history, load_events, make_members
from tests.conftest import Org, store_args
from tests.core.test_local_server import real_server

__all__ = ["real_server"]

YESTERDAY = date.today() - timedelta(days=1)
RULES = {
    "all": [
        {"type": "behaviour", "events": ["add_to_cart"], "window": {"days": 30}},
        {"type": "did_not", "events": ["purchase"], "window": {"days": 30}},
    ]
}


@pytest.fixture
def world(container: Container, org: Org) -> list[str]:
    """Members and events written before the server starts (then it holds the file)."""
    ids = make_members(container, org, 8)
    load_events(container, cart_history(org, ids, YESTERDAY, set(ids[6:])))
    container.warehouse.close()
    return ids


def test_audience_commands_go_through_the_running_server(
    settings: Settings,
    org: Org,
    world: list[str],
    real_server: subprocess.Popen[str],
    tmp_path: Path,
) -> None:
    assert running_server(settings) is not None
    runner = CliRunner()

    def run(*args: str) -> object:
        result = runner.invoke(
            app, [*store_args(settings), "audience", *args, "--org", org.slug, "--json"]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert run("settings", "--min-crowd-size", "2") == {"min_crowd_size": 2}
    estimate = run("estimate", "--rules", json.dumps(RULES))
    assert (estimate["size"], estimate["suppressed"], estimate["as_of"]) == (  # type: ignore[index]
        6,
        False,
        today("Asia/Shanghai").isoformat(),  # the organisation's day (its default zone)
    )
    created = run("create", "--name", "carts", "--rules", json.dumps(RULES))
    assert created["size"] is None  # type: ignore[index]
    refreshed = run("refresh", "carts")
    assert [(a["name"], a["size"]) for a in refreshed] == [("carts", 6)]  # type: ignore[attr-defined]
    insight = run("insight", "carts", "--brand", "b1")
    assert insight["brand_id"] == str(org.brand_id)  # type: ignore[index]
    assert insight["dimensions"]["city"]["cells"] == [  # type: ignore[index]
        {"value": "Beijing", "members": 3},
        {"value": "Shanghai", "members": 3},
    ]
    output = tmp_path / "carts.csv"
    exported = run("export", "carts", "--output", str(output), "--type", "phone")
    assert (exported["members"], exported["exported_members"]) == (6, 3)  # type: ignore[index]
    assert output.read_text().splitlines()[0] == "identifier_type,value_hash"
    assert len(output.read_text().splitlines()) == 1 + 3  # the three consenting members
    sizes = run("sizes", "carts")
    assert [(s["size"], s["trigger"]) for s in sizes] == [(6, "manual")]  # type: ignore[attr-defined]

    refused = runner.invoke(
        app, [*store_args(settings), "audience", "sync-members", "--org", org.slug]
    )
    assert refused.exit_code != 0
    assert "stop the server and run the command again" in " ".join(refused.stderr.split())
    assert "Could not set lock" not in refused.output
