"""A real server in a child process and a light HTTP load generator, for the ingest benchmarks
and the crash test (tests/events/test_durability.py).

The load generator speaks HTTP/1.1 over asyncio streams with keep-alive and pre-built bodies,
so that it costs the machine as little as possible next to the server it measures.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

SECRET = "bench-secret-key-0123456789abcdefghijklmnop"  # noqa: S105 (a throw-away store)


@dataclass
class Target:
    """An organisation ready to receive events on a data directory."""

    env: dict[str, str]
    organization_id: str
    write_key: str
    store_ids: list[str]
    data_dir: Path

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"


def prepare(data_dir: Path) -> Target:
    """Create the embedded stores, one organisation with stores and a source's write key."""
    from newretail.bootstrap import bootstrap
    from newretail.core import migrate
    from newretail.core.database import scope_session, session_scope
    from newretail.core.settings import Settings
    from newretail.tenancy import schemas, service
    from newretail.tenancy.models import ChannelType, Role
    from newretail.tenancy.permissions import Principal, PrincipalKind

    env = {
        **os.environ,
        "NEWRETAIL_DATA_DIR": str(data_dir),
        "NEWRETAIL_SECRET_KEY": SECRET,
        "NEWRETAIL_OUTBOX_RELAY_SECONDS": "0",
        "NEWRETAIL_MAINTENANCE_SECONDS": "0",
        # the benchmarks measure capacity: no rate limit per write key (docs/security.md)
        "NEWRETAIL_WRITE_KEY_RATE_PER_SECOND": "0",
    }
    settings = Settings(data_dir=data_dir, secret_key=SECRET)
    container = bootstrap(settings)
    try:
        migrate.upgrade(container.engine)
        with session_scope(container.sessions) as session:
            created = service.create_organization(
                scope_session(session, None),
                "Bench",
                owner_email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
                owner_password="bench-password-123",  # noqa: S106
                slug=f"bench-{uuid.uuid4().hex[:8]}",
            )
            org_id = created.organization.id
            scope_session(session, org_id)
            owner = Principal.for_role(PrincipalKind.USER, org_id, Role.OWNER, actor="bench")
            brand = service.create_brand(session, owner, schemas.BrandCreate(code="b", name="B"))
            stores = [
                service.create_store(
                    session,
                    owner,
                    schemas.StoreCreate(
                        code=f"C{i}",
                        name=f"Counter {i}",
                        channel_type=ChannelType.COUNTER,
                        brand_id=brand.id,
                        city="Shanghai",
                    ),
                )
                for i in range(4)
            ]
            source, write_key = service.create_source(
                session, owner, schemas.SourceCreate(name="bench", store_id=stores[0].id)
            )
            store_ids = [str(s.id) for s in stores]
            del source
    finally:
        container.close()
    return Target(env, str(org_id), write_key, store_ids, data_dir)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(target: Target, port: int, timeout: float = 60.0) -> subprocess.Popen[bytes]:
    """`newretail serve` in a child process, once it answers /healthz."""
    command = [
        str(Path(sys.executable).parent / "newretail"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]
    log = target.data_dir / "server.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=target.env, stdout=sink, stderr=sink)  # noqa: S603
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def wait_loaded(port: int, timeout: float = 600.0) -> None:
    """Wait until the server's loader has moved every acknowledged event to the warehouse."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        for line in text.splitlines():
            if line.startswith("newretail_events_awaiting_load ") and float(line.split()[1]) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("the event loader did not catch up")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM and wait (the server finishes what it accepted)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def events(
    prefix: str, start: int, count: int, target: Target, people: int = 50_000
) -> list[dict[str, Any]]:
    """`count` counter events with message ids prefix-start … (deterministic)."""
    now = datetime.now(UTC) - timedelta(minutes=1)
    stamp = now.isoformat()
    stores = target.store_ids
    kinds = ("counter_approach", "store_visit", "shelf_browse", "screen_exposure")
    return [
        {
            "message_id": f"{prefix}-{n}",
            "type": kinds[n % 4],
            "ts": stamp,
            "store_id": stores[n % len(stores)],
            "identifiers": {"anonymous_id": f"anon-{n % people}"},
            "properties": {"beacon_id": f"b{n % 17}"} if n % 4 == 0 else {},
        }
        for n in range(start, start + count)
    ]


def request_bytes(port: int, write_key: str, body: bytes, path: str = "/api/v1/events") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {write_key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


async def send_all(
    port: int,
    requests: Sequence[bytes],
    connections: int,
    latencies: list[float] | None = None,
    acknowledged: list[int] | None = None,
) -> int:
    """Send pre-built requests over `connections` keep-alive connections; returns how many
    were answered 200. Indexes of answered requests go to `acknowledged`."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(requests)):
        queue.put_nowait(index)
    ok = 0

    async def worker() -> None:
        nonlocal ok
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        try:
            while not queue.empty():
                index = queue.get_nowait()
                started = time.perf_counter()
                writer.write(requests[index])
                await writer.drain()
                status, body = await read_response(reader)
                if latencies is not None:
                    latencies.append(time.perf_counter() - started)
                if status == 200:
                    ok += 1
                    if acknowledged is not None:
                        acknowledged.append(index)
                else:
                    raise RuntimeError(f"status {status}: {body[:300]!r}")
        except (OSError, asyncio.IncompleteReadError):
            return  # the server went away (the crash test kills it)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return ok


def batch_requests(
    target: Target, port: int, prefix: str, total: int, size: int, people: int = 50_000
) -> tuple[list[bytes], list[list[str]]]:
    """Requests of `size` events each, and the message ids in each."""
    requests, ids = [], []
    for start in range(0, total, size):
        chunk = events(prefix, start, min(size, total - start), target, people)
        requests.append(request_bytes(port, target.write_key, orjson.dumps({"events": chunk})))
        ids.append([e["message_id"] for e in chunk])
    return requests, ids


@dataclass
class CrashRun:
    acknowledged_before_kill: int  # requests
    resent: int  # requests sent again after the restart
    resent_answered: int


def crash_and_resend(
    target: Target, port: int, requests: Sequence[bytes], connections: int
) -> CrashRun:
    """Send under load, kill -9 the server once a quarter is acknowledged, restart it, send
    again every request that was not acknowledged (plus two that were, to show the dedupe)."""
    server = start_server(target, port)
    acknowledged: list[int] = []

    async def load_and_kill() -> None:
        sending = asyncio.create_task(
            send_all(port, requests, connections, acknowledged=acknowledged)
        )
        while len(acknowledged) < len(requests) // 4 and not sending.done():
            await asyncio.sleep(0.002)
        os.kill(server.pid, signal.SIGKILL)
        await sending

    asyncio.run(load_and_kill())
    server.wait()
    if server.returncode != -signal.SIGKILL:
        raise RuntimeError(f"the server ended with {server.returncode}, not by the kill")
    before = len(acknowledged)
    server = start_server(target, port)
    try:
        done = set(acknowledged)
        resend = [requests[i] for i in range(len(requests)) if i not in done]
        resend += [requests[i] for i in acknowledged[:2]]
        answered = asyncio.run(send_all(port, resend, connections))
    finally:
        stop_server(server)
    return CrashRun(before, len(resend), answered)


def stored_message_ids(target: Target) -> list[str]:
    """Every message id in the warehouse file (the server must be stopped)."""
    import duckdb

    with duckdb.connect(str(target.warehouse_path), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT message_id FROM event").fetchall()]
