"""kill -9 of a loaded server, restart, resend what was not acknowledged: every event is
stored exactly once (bench/ingest_crash.py runs the same at 200k events)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from bench import harness

from newretail.bootstrap import Container
from newretail.core.database import utcnow
from newretail.events.collector import Collector
from newretail.events.spool import Spool
from newretail.events.submission import micros
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import Org

TOTAL, BATCH = 20_000, 100


def test_kill_9_under_load_then_resend_the_unacknowledged_stores_each_event_once(
    tmp_path: Path,
) -> None:
    target = harness.prepare(tmp_path / "data")
    port = harness.free_port()
    requests, ids = harness.batch_requests(target, port, "crash", TOTAL, BATCH)
    run = harness.crash_and_resend(target, port, requests, 8)
    assert len(requests) // 4 <= run.acknowledged_before_kill < len(requests)
    assert run.resent == len(requests) - run.acknowledged_before_kill + 2
    assert run.resent_answered == run.resent
    stored = harness.stored_message_ids(target)
    assert len(stored) == TOTAL
    assert sorted(stored) == sorted(mid for chunk in ids for mid in chunk)


def test_a_spool_left_by_the_previous_release_is_replayed(container: Container, org: Org) -> None:
    if not container.warehouse.url.startswith("duckdb"):
        pytest.skip("the spool belongs to the embedded warehouse")
    received = micros(utcnow())
    rows = [  # the row-per-event record of the previous release
        [
            str(org.id),
            f"old-{n}",
            "counter_approach",
            received - 1000,
            received,
            str(org.brand_id),
            str(org.store_ids[0]),
            "store",
            [["anonymous_id", f"old-shopper-{n % 2}"]],
            f"old-shopper-{n % 2}",
            None,
            "{}",
        ]
        for n in range(3)
    ]
    spool = Spool(container.settings.data_dir / "spool")
    spool.append(orjson.dumps(rows))
    spool.close()
    collector = Collector(
        container.sessions, container.warehouse, container.settings, container.identity
    )
    collector.pipeline.start()
    collector.pipeline.stop()
    con = container.warehouse.connection()
    table = con.table(EVENT_TABLE)
    found = table.filter(table.message_id.startswith("old-")).order_by("message_id").to_pyarrow()
    assert found.column("message_id").to_pylist() == ["old-0", "old-1", "old-2"]
    assert found.column("anonymous_id").to_pylist() == [
        "old-shopper-0",
        "old-shopper-1",
        "old-shopper-0",
    ]
    members = found.column("member_id").to_pylist()
    assert members[0] == members[2] != members[1] and None not in members
    assert spool.segments() == []
