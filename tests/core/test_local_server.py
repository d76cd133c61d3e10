"""A server on an embedded data dir announces itself; the CLI's credential works only there."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from newretail.core.errors import Unavailable
from newretail.core.local_server import (
    ORGANIZATION_HEADER,
    SERVER_FILE,
    ServerError,
    announce,
    is_loopback,
    local_url,
    request_json,
    running_server,
    server_client,
)
from newretail.core.settings import Settings
from tests.conftest import TEST_SECRET, Org, store_args


def test_announce_writes_an_owner_only_file_and_withdraw_removes_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url="sqlite://")
    announcement = announce(settings, "http://127.0.0.1:8123/")
    assert announcement is not None
    path = tmp_path / "data" / SERVER_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    info = running_server(settings)
    assert info is not None
    assert (info.url, info.pid) == ("http://127.0.0.1:8123", os.getpid())
    assert info.warehouse == str((tmp_path / "data" / "warehouse.duckdb").resolve())
    assert announcement.accepts(info.token, "127.0.0.1") is True
    assert announcement.accepts(info.token, "::1") is True
    assert announcement.accepts(info.token, "192.168.1.20") is False
    assert announcement.accepts(info.token, None) is False
    assert announcement.accepts(info.token + "x", "127.0.0.1") is False
    assert announcement.accepts("nr_key_" + info.token, "127.0.0.1") is False
    assert info.token not in repr(announcement.__dict__)  # the server keeps only the hash
    announcement.withdraw()
    assert not path.exists()
    assert running_server(settings) is None


def test_a_file_of_a_dead_server_or_another_warehouse_is_ignored(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url="sqlite://")
    announce(settings, "http://127.0.0.1:8123")
    path = tmp_path / "data" / SERVER_FILE
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    path.write_text(path.read_text().replace(str(os.getpid()), dead.stdout.strip()))
    assert running_server(settings) is None
    announce(settings, "http://127.0.0.1:8123")
    other = Settings(
        data_dir=tmp_path / "data", warehouse_url=f"duckdb://{tmp_path / 'other.duckdb'}"
    )
    assert running_server(other) is None
    postgres = Settings(data_dir=tmp_path / "data", warehouse_url="postgresql://x@127.0.0.1/w")
    assert running_server(postgres) is None
    assert announce(postgres, "http://127.0.0.1:8123") is None
    with pytest.raises(Unavailable) as raised:
        server_client(postgres, "acme")
    assert raised.value.field == "data_dir"


def test_loopback_and_the_url_a_local_client_uses() -> None:
    assert [is_loopback(h) for h in ["127.0.0.1", "127.8.0.1", "::1", "10.0.0.1", "x", ""]] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    assert local_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"  # noqa: S104
    assert local_url("::", 8000) == "http://[::1]:8000"
    assert local_url("127.0.0.1", 9) == "http://127.0.0.1:9"


@pytest.fixture
def real_server(settings: Settings, org: Org, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """`newretail serve` in its own process, holding the embedded DuckDB warehouse."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "NEWRETAIL_SECRET_KEY": TEST_SECRET, "NEWRETAIL_OUTBOX_RELAY_SECONDS": "0"}
    env["NEWRETAIL_MAINTENANCE_SECONDS"] = "0"
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from newretail.cli import main; main()",
            *store_args(settings),
            "serve",
            "--port",
            str(port),
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
    )
    deadline = time.monotonic() + 180  # a loaded machine starts a server slowly
    while True:
        info = running_server(settings)
        if info is not None:
            try:
                if httpx.get(f"{info.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            log.close()
            pytest.fail(f"the server did not start: {(tmp_path / 'server.log').read_text()}")
        time.sleep(0.1)
    yield process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    log.close()


def test_the_cli_credential_reaches_the_running_server_from_loopback_only(
    settings: Settings, org: Org, real_server: subprocess.Popen[str]
) -> None:
    info = running_server(settings)
    assert info is not None
    assert info.pid == real_server.pid
    with server_client(settings, org.slug) as client:
        config = request_json(client, "GET", "/api/v1/databank/settings")
        assert config["awareness_days"] == 15
    wrong = {"Authorization": "Bearer nr_local_not-the-token", ORGANIZATION_HEADER: org.slug}
    refused = httpx.get(f"{info.url}/api/v1/databank/settings", headers=wrong)
    assert (refused.status_code, refused.json()["code"]) == (401, "unauthenticated")
    with server_client(settings) as client, pytest.raises(ServerError) as raised:
        request_json(client, "GET", "/api/v1/databank/settings")
    assert (raised.value.code, raised.value.field) == ("invalid_input", "organization")
    with server_client(settings, "no-such-org") as client, pytest.raises(ServerError) as raised:
        request_json(client, "GET", "/api/v1/databank/settings")
    assert (raised.value.status_code, raised.value.code) == (404, "not_found")
    real_server.send_signal(signal.SIGINT)
    real_server.wait(timeout=30)
    assert not (settings.data_dir / SERVER_FILE).exists()
    assert running_server(settings) is None
