"""Faults the server survives by itself (issue 16, item 6; bench/faults.py runs them under load):
PostgreSQL stopped and started again, NATS stopped and started again, the spool's disk full.

The first two stop a private PostgreSQL and a private nats-server (bench/private_services.py),
never the machine's shared ones. Without initdb or nats-server these tests skip, except under
CI=true, where they fail. The disk-full case writes the spool segment through /dev/full, whose
every write fails with ENOSPC as a full disk's does.
"""

from __future__ import annotations

import errno
import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bench.private_services import PrivateNats, PrivatePostgres, available
from fastapi.testclient import TestClient
from httpx import Response

from newretail.bootstrap import bootstrap
from newretail.core import migrate
from newretail.core.database import utcnow
from newretail.core.errors import Unavailable
from newretail.core.settings import Settings
from newretail.events.checker import SourceRef
from newretail.events.collector import Collector
from newretail.events.spool import Spool
from newretail.main import create_app
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import CI, TEST_SECRET, make_org

pytestmark = pytest.mark.postgres


@pytest.fixture
def private_folder(tmp_path: Path) -> Path:
    reason = available()
    if reason is not None:
        if CI:
            pytest.fail(f"CI=true requires a private PostgreSQL and NATS: {reason}")
        pytest.skip(reason)
    return tmp_path


@pytest.fixture
def private_postgres(private_folder: Path) -> Iterator[PrivatePostgres]:
    server = PrivatePostgres(private_folder / "pg")
    server.start()
    yield server
    server.close()


@pytest.fixture
def private_nats(private_folder: Path) -> Iterator[PrivateNats]:
    server = PrivateNats(private_folder / "nats")
    server.start()
    yield server
    server.close()


def batch(prefix: str, count: int) -> dict[str, Any]:
    when = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    return {
        "events": [
            {
                "message_id": f"{prefix}-{n}",
                "type": "store_visit",
                "ts": when,
                "identifiers": {"anonymous_id": f"shopper-{n}"},
            }
            for n in range(count)
        ]
    }


def until_answered(send: Callable[[], Response], attempts: int = 100) -> Response:
    """Send until the answer is not 503 (a restarted service is reconnected to in the
    background); at most `attempts` times, 0.1 s apart."""
    for _ in range(attempts):
        response = send()
        if response.status_code != 503:
            return response
        time.sleep(0.1)
    return response


def settings_on(postgres: PrivatePostgres, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=postgres.url,
        warehouse_url="postgres://" + postgres.url.split("://", 1)[1],
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
        webhook_send_seconds=0,
        **extra,
    )


def test_postgres_restarted_the_server_answers_503_unavailable_then_recovers_by_itself(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    container = bootstrap(settings_on(private_postgres, tmp_path))
    migrate.upgrade(container.engine)
    org = make_org(container)
    events = {"Authorization": f"Bearer {org.write_key}"}
    try:
        with TestClient(create_app(container=container)) as client:
            assert client.get("/api/v1/stores", headers=org.auth()).status_code == 200
            assert client.post("/api/v1/events", json=batch("a", 3), headers=events).json() == {
                "accepted": 3,
                "duplicates": 0,
                "failed": [],
            }
            private_postgres.stop()

            stores = client.get("/api/v1/stores", headers=org.auth())
            assert (stores.status_code, stores.json()["code"]) == (503, "unavailable")
            assert stores.headers["retry-after"] == "1"
            sent = client.post("/api/v1/events", json=batch("b", 2), headers=events)
            assert (sent.status_code, sent.json()["code"]) == (503, "unavailable")

            private_postgres.start()  # the pool and the warehouse reconnect by themselves
            assert (
                until_answered(lambda: client.get("/api/v1/stores", headers=org.auth())).json()[
                    "items"
                ][0]["code"]
                == "S0"
            )
            again = until_answered(
                lambda: client.post("/api/v1/events", json=batch("b", 2), headers=events)
            )
            assert again.json() == {"accepted": 2, "duplicates": 0, "failed": []}
        con = container.warehouse.connection()
        table = con.table(EVENT_TABLE)
        ids = table.filter(table.organization_id == str(org.id)).message_id.to_pyarrow()
        assert sorted(ids.to_pylist()) == ["a-0", "a-1", "a-2", "b-0", "b-1"]
    finally:
        container.close()


def test_nats_down_the_collector_answers_503_and_acknowledges_nothing(
    private_postgres: PrivatePostgres, private_nats: PrivateNats, tmp_path: Path
) -> None:
    settings = settings_on(
        private_postgres,
        tmp_path,
        event_stream_url=private_nats.url,
        event_stream_name=f"NRFAULT_{uuid.uuid4().hex[:8]}",
    )
    container = bootstrap(settings)
    migrate.upgrade(container.engine)
    org = make_org(container)
    events = {"Authorization": f"Bearer {org.write_key}"}
    try:
        with TestClient(create_app(container=container)) as client:
            collector: Collector = client.app.state.collector  # type: ignore[attr-defined]
            stream = collector.pipeline.stream
            assert stream is not None
            first = client.post("/api/v1/events", json=batch("a", 2), headers=events)
            assert first.status_code == 200
            private_nats.stop()
            down = client.post("/api/v1/events", json=batch("b", 2), headers=events)
            assert (down.status_code, down.json()["code"]) == (503, "unavailable")

            private_nats.start()  # the same port and store: the client reconnects by itself
            again = until_answered(
                lambda: client.post("/api/v1/events", json=batch("b", 2), headers=events)
            )
            assert again.json() == {"accepted": 2, "duplicates": 0, "failed": []}
            assert stream.pending() == 2  # messages: the stream kept the one before the stop
    finally:
        container.close()


def test_the_spool_disk_full_answers_unavailable_and_keeps_every_acknowledged_event(
    tmp_path: Path,
) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    settings = Settings(
        data_dir=tmp_path / "data",
        warehouse_url=f"duckdb://{tmp_path / 'warehouse.duckdb'}",
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
        event_load_interval_ms=60_000,  # the records stay in the spool until the restart
    )
    container = bootstrap(settings)
    migrate.upgrade(container.engine)
    org = make_org(container)
    source = SourceRef(org.id, org.source_id, org.store_ids[0])
    collector = Collector(container.sessions, container.warehouse, settings, container.identity)
    pipeline = collector.pipeline
    pipeline.start()
    spool = pipeline.spool
    assert spool is not None

    def write(prefix: str, count: int) -> tuple[int, int]:
        checked = collector.check(source, batch(prefix, count)["events"], utcnow(), api="native")
        return pipeline.write_now(checked)

    try:
        assert write("a", 3) == (3, 0)
        segment = spool.path(spool.sequence)
        kept = segment.read_bytes()
        spool.close()  # the next append reopens the segment: through a full disk now
        segment.unlink()
        os.symlink("/dev/full", segment)
        with pytest.raises(Unavailable) as refused:
            write("b", 2)
        assert refused.value.code == "unavailable"
        cause = refused.value.__cause__
        assert isinstance(cause, OSError) and cause.errno == errno.ENOSPC
        segment.unlink()  # space is back
        segment.write_bytes(kept)
        assert write("b", 2) == (2, 0)  # not held as seen: the refused ones are accepted
        records = [record for sequence in spool.segments() for record in spool.read(sequence)]
        assert [part[1] for record in records for part in record] == [
            ["a-0", "a-1", "a-2"],
            ["b-0", "b-1"],
        ]
    finally:
        pipeline.stop()
    con = container.warehouse.connection()
    ids = con.table(EVENT_TABLE).message_id.to_pyarrow().to_pylist()
    assert sorted(ids) == ["a-0", "a-1", "a-2", "b-0", "b-1"]
    container.close()


def test_a_torn_append_is_cut_back_so_later_records_stay_readable(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.append(b'[["first"]]')
    segment = spool.path(spool.sequence)
    size = segment.stat().st_size

    class HalfWrite:
        """A file whose first write stores half of what it is given and whose next one
        fails (a disk filling up mid-record)."""

        def __init__(self, real: Any):
            self.real = real
            self.calls = 0

        def write(self, data: memoryview) -> int:
            self.calls += 1
            if self.calls == 1:  # a raw write that stores less than it was given
                return int(self.real.write(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, "No space left on device")

        def fileno(self) -> int:
            return int(self.real.fileno())

        def close(self) -> None:
            self.real.close()

    spool._file = HalfWrite(spool._file)
    with pytest.raises(OSError, match="No space left"):
        spool.append(b'[["torn"]]')
    assert segment.stat().st_size == size
    spool.append(b'[["after"]]')
    assert list(spool.read(spool.sequence)) == [[["first"]], [["after"]]]
    spool.close()
