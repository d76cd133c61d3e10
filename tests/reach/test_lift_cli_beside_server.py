"""`newretail reach lift` while a server holds the embedded warehouse (the demo): the CLI asks
the server's API for the report (core.local_server) instead of failing on DuckDB's file
lock, and prints the same report."""

from __future__ import annotations

import json
import subprocess

import pytest
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.settings import Settings
from tests.conftest import TEST_SECRET, Org, store_args
from tests.core.test_local_server import real_server
from tests.reach.lift_data import LiftData, build
from tests.reach.test_lift_report import _check

__all__ = ["real_server"]  # the fixture: `newretail serve` in its own process


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The embedded stores: only there does a server hold the warehouse's file."""
    return sqlite_url


@pytest.fixture
def built(container: Container, org: Org) -> LiftData:
    """The constructed campaign, written before the server takes the warehouse."""
    data = build(container, org)
    container.warehouse.close()
    return data


def test_the_cli_asks_the_running_server_for_the_report(
    settings: Settings,
    org: Org,
    built: LiftData,
    real_server: subprocess.Popen[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    runner = CliRunner()
    base = [*store_args(settings), "reach", "lift", "Double 11 at the counter", "--org", org.slug]
    result = runner.invoke(app, [*base, "--stage", "1", "--json"])
    assert result.exit_code == 0, result.output
    _check(json.loads(result.stdout), org)
    human = runner.invoke(app, [*base, "--window-days", "15"])
    assert human.exit_code == 0, human.output
    assert "Double 11 at the counter: lift in 15 days" in human.stdout
    refused = runner.invoke(app, [*base, "--stage", "3"])
    assert refused.exit_code == 2
    assert "campaign_stage_not_found" in refused.output
    assert built.reach.campaign.name == "Double 11 at the counter"
