"""`newretail diagnosis report` while a server holds the embedded warehouse (the demo): the
files come from the server's API and the server e-mails the report through its own SMTP
settings (a real SMTP server, aiosmtpd, receives it)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.settings import Settings
from tests.conftest import TEST_SECRET, Org, store_args
from tests.core.test_local_server import real_server
from tests.diagnosis.test_weekly_report import Inbox, _manager, inbox, load

__all__ = ["inbox", "real_server"]  # the fixtures: an SMTP server, `newretail serve`
runner = CliRunner()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The embedded stores: only there does a server hold the warehouse's file."""
    return sqlite_url


@pytest.fixture
def manager(client: TestClient, container: Container, org: Org) -> str:
    """The ledger and the shop's manager, written before the server takes the warehouse."""
    load(container, org)
    address = _manager(client, org, org.store_ids[0])
    container.warehouse.close()
    return address


@pytest.fixture
def smtp_env(inbox: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """The SMTP settings in the environment the server starts with."""
    received, port = inbox
    for name, value in {
        "SECRET_KEY": TEST_SECRET,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "false",
    }.items():
        monkeypatch.setenv(f"NEWRETAIL_{name}", value)
    yield received


def test_the_cli_asks_the_running_server(
    settings: Settings,
    org: Org,
    manager: str,
    smtp_env: Inbox,
    real_server: subprocess.Popen[str],
    tmp_path: Path,
) -> None:
    pdf = tmp_path / "week.pdf"
    base = [*store_args(settings), "diagnosis", "report", "--org", org.slug, "--store", "S0"]
    made = runner.invoke(app, [*base, "--week", "2026-11-09", "--pdf", str(pdf), "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout) == {"store": "S0", "html": None, "pdf": str(pdf), "email": None}
    assert pdf.read_bytes().startswith(b"%PDF-")
    sent = runner.invoke(app, [*base, "--week", "2026-11-09"])
    assert sent.exit_code == 0, sent.output
    subject = "Weekly report: Store 0, 2026-11-09 – 2026-11-15"
    assert f'e-mailed "{subject}" to {manager}' in " ".join(sent.stdout.split())
    [(to, message)] = smtp_env.messages()
    assert to == [manager] and message["Subject"] == subject
