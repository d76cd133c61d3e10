"""`newretail diagnosis recommend` while a server holds the embedded warehouse (the demo): the
CLI asks the server's API for a store's recommendations and acts on one through it."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.settings import Settings
from tests.conftest import TEST_SECRET, Org, store_args
from tests.core.test_local_server import real_server
from tests.diagnosis.test_recommendations import PARAMS, _stocked

__all__ = ["real_server"]  # the fixture: `newretail serve` in its own process
runner = CliRunner()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The embedded stores: only there does a server hold the warehouse's file."""
    return sqlite_url


@pytest.fixture
def answered(client: TestClient, container: Container, org: Org) -> dict[str, Any]:
    """The ledger, written and asked of the API before the server takes the warehouse."""
    _stocked(container, org)
    url = "/api/v1/diagnosis/stores/S0/recommendations"
    api = client.get(url, params=PARAMS, headers=org.auth())
    assert api.status_code == 200, api.text
    container.warehouse.close()
    return dict(api.json())


def test_the_cli_asks_the_running_server_and_acts_through_it(
    settings: Settings,
    org: Org,
    answered: dict[str, Any],
    real_server: subprocess.Popen[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    args = [*store_args(settings), "diagnosis", "recommend", "--org", org.slug, "--store", "S0"]
    args += ["--from", "2026-11-08", "--to", "2026-11-14"]
    args += ["--against-from", "2026-11-01", "--against-to", "2026-11-07"]
    shown = runner.invoke(app, [*args, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == answered
    transfer = answered["recommendations"][1]
    acted = runner.invoke(app, [*args, "--act", transfer["id"], "--json"])
    assert acted.exit_code == 0, acted.output
    row = json.loads(acted.output)
    assert (row["state"], [c["name"] for c in row["created"]]) == ("acted", ["22 × Serum A"])
    again = runner.invoke(app, [*args, "--act", transfer["id"]])
    assert again.exit_code != 0
    assert "state" in again.output
