"""`newretail diagnosis gmv-change` while a server holds the embedded warehouse (the demo): the
CLI asks the server's API (core.local_server) instead of failing on DuckDB's file lock, and
prints the same diagnosis."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.settings import Settings
from tests.conftest import TEST_SECRET, Org
from tests.core.test_local_server import real_server
from tests.diagnosis.test_gmv_change import PARAMS, check_the_cli, load

__all__ = ["real_server"]  # the fixture: `newretail serve` in its own process


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The embedded stores: only there does a server hold the warehouse's file."""
    return sqlite_url


@pytest.fixture
def answered(client: TestClient, container: Container, org: Org) -> dict[str, Any]:
    """The ledger, written and asked of the API before the server takes the warehouse."""
    load(container, org)
    api = client.get("/api/v1/diagnosis/gmv-change", params=PARAMS, headers=org.auth())
    assert api.status_code == 200, api.text
    container.warehouse.close()
    return dict(api.json())


def test_the_cli_asks_the_running_server(
    settings: Settings,
    org: Org,
    answered: dict[str, Any],
    real_server: subprocess.Popen[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWRETAIL_SECRET_KEY", TEST_SECRET)
    check_the_cli(settings, org, answered)
