"""`newretail reach lift` while a server holds the embedded warehouse (the demo): the CLI asks
the server's API for the report (core.local_server) instead of failing on DuckDB's file
lock, and prints the same report."""

from __future__ import annotations

import subprocess

import pytest

from newretail.bootstrap import Container
from newretail.core.settings import Settings
from tests.conftest import TEST_SECRET, Org
from tests.core.test_local_server import real_server
from tests.reach.lift_data import LiftData, build
from tests.reach.test_lift_report import check_the_cli

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
    check_the_cli(settings, org)
    assert built.reach.campaign.name == "Double 11 at the counter"
