"""With a PostgreSQL warehouse several servers write events; the database decides duplicates."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from newretail.bootstrap import bootstrap
from newretail.core.database import utcnow
from newretail.core.settings import Settings
from newretail.events.checker import SourceRef
from newretail.events.collector import Collector
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import TEST_SECRET, make_org


@pytest.mark.postgres
def test_two_servers_sending_the_same_messages_store_each_once(
    postgres_url: str, tmp_path: Path
) -> None:
    warehouse_url = "postgres://" + postgres_url.split("://", 1)[1]
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        warehouse_url=warehouse_url,
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
    )
    servers = [bootstrap(settings), bootstrap(settings)]
    org = make_org(servers[0])
    collectors = [Collector(c.sessions, c.warehouse, c.settings, c.identity) for c in servers]
    when = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    events = [
        {
            "message_id": f"pg-{n}",
            "type": "counter_approach",
            "ts": when,
            "identifiers": {"anonymous_id": f"shopper-{n % 7}"},
        }
        for n in range(200)
    ]
    source = SourceRef(org.id, org.source_id, org.store_ids[0])
    totals: list[tuple[int, int]] = []
    barrier = threading.Barrier(2)

    def send(collector: Collector) -> None:
        barrier.wait()
        for start in range(0, len(events), 50):
            submission = collector.check(source, events[start : start + 50], utcnow(), api="native")
            totals.append(collector.pipeline.write_now(submission))

    threads = [threading.Thread(target=send, args=(c,)) for c in collectors]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(stored for stored, _ in totals) == 200
        assert sum(duplicates for _, duplicates in totals) == 200
        con = servers[0].warehouse.connection()
        table = con.table(EVENT_TABLE)
        mine: Any = table.filter(table.organization_id == str(org.id))
        assert mine.count().execute() == 200
        assert mine.message_id.nunique().execute() == 200
        assert mine.member_id.nunique().execute() == 7
    finally:
        for collector, container in zip(collectors, servers, strict=True):
            collector.pipeline.stop()
            container.close()
