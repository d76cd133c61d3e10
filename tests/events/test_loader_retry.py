"""The embedded loader retries a failed load from the chunk that failed: the chunks of the
same batch stored before the failure are not stored again (the soak benchmark found 200,000
events doubled when a batch over MAX_LOAD_ROWS failed in its second chunk)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from newretail.bootstrap import Container
from newretail.core.database import utcnow
from newretail.events import pipeline as pipeline_module
from newretail.events.checker import SourceRef
from newretail.events.collector import Collector
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import ON_SQLITE, Org


@ON_SQLITE
def test_a_load_that_fails_in_a_later_chunk_stores_each_event_once(
    container: Container, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "MAX_LOAD_ROWS", 2)
    collector = Collector(container.sessions, container.warehouse, container.settings, None)
    pipeline = collector.pipeline
    real_load = pipeline.loader.load
    calls: list[int] = []

    def flaky_load(rows: Any) -> Any:
        calls.append(len(rows[1]))
        if len(calls) == 2:  # the second chunk fails once, after the first was stored
            raise RuntimeError("the warehouse is busy")
        return real_load(rows)

    monkeypatch.setattr(pipeline.loader, "load", flaky_load)
    when = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    events = [
        {"message_id": f"r{n}", "type": "counter_approach", "ts": when, "identifiers": {}}
        for n in range(5)
    ]
    source = SourceRef(org.id, org.source_id, org.store_ids[0])
    try:
        submission = collector.check(source, events, utcnow(), api="native")
        assert pipeline.write_now(submission) == (5, 0)
        pipeline.flush()
    finally:
        pipeline.stop()
        collector.checkers.stop()
    assert calls == [2, 2, 2, 1]  # chunk 2 again after its failure, never chunk 1
    table = container.warehouse.connection().table(EVENT_TABLE)
    ids = table.filter(table.organization_id == str(org.id)).message_id.to_pyarrow().to_pylist()
    assert sorted(ids) == ["r0", "r1", "r2", "r3", "r4"]
