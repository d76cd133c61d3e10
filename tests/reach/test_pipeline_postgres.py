"""Reach behind a PostgreSQL warehouse, where several servers write events: two servers
receive the same counter approach at once; the warehouse stores it once and it is decided
once, by the server that stored it (`on_loaded` sees only the rows new to the warehouse)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from newretail.audiences import realtime
from newretail.bootstrap import bootstrap
from newretail.core.database import session_scope, utcnow
from newretail.core.localtime import today
from newretail.core.settings import Settings
from newretail.events.checker import SourceRef
from newretail.events.collector import Collector
from newretail.members.models import MemberConsent
from newretail.reach.models import ReachDecision
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import TEST_SECRET, make_org
from tests.reach.trigger_helpers import ALWAYS_OPEN, SHANGHAI, set_up


@pytest.mark.postgres
def test_the_same_approach_at_two_servers_is_decided_once(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        warehouse_url="postgres://" + postgres_url.split("://", 1)[1],
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,
        maintenance_seconds=0,
    )
    servers = [bootstrap(settings), bootstrap(settings)]
    collectors = [
        Collector(c.sessions, c.warehouse, c.settings, c.identity, c.on_events_loaded)
        for c in servers
    ]
    try:
        org = make_org(servers[0])
        local_today = today(SHANGHAI)
        reach = set_up(
            servers[0], org, hours=ALWAYS_OPEN, days=(local_today, local_today), store_index=0
        )
        source = SourceRef(org.id, org.source_id, org.store_ids[0])

        def event(message_id: str, kind: str) -> dict[str, object]:
            return {
                "message_id": message_id,
                "type": kind,
                "ts": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
                "identifiers": {"account_id": "acc-pg"},
            }

        first = collectors[0].check(source, [event("seen", "page_view")], utcnow(), api="native")
        collectors[0].pipeline.write_now(first)
        con = servers[0].warehouse.connection()
        table = con.table(EVENT_TABLE)
        found = table.filter(table.message_id == "seen").to_pyarrow().to_pylist()
        member = uuid.UUID(found[0]["member_id"])
        with session_scope(servers[0].sessions, org.id) as session:
            session.add(
                MemberConsent(
                    organization_id=org.id,
                    member_id=member,
                    purpose="marketing",
                    channel="sms",
                    granted=True,
                    source="import",
                    updated_at=utcnow(),
                )
            )
        for server in servers:
            realtime.index_for(server.warehouse).put(
                str(org.id), str(reach.audience_id), "v1", frozenset({str(member)})
            )

        barrier = threading.Barrier(2)
        totals: list[tuple[int, int]] = []

        def send(collector: Collector) -> None:
            submission = collector.check(
                source, [event("approach", "counter_approach")], utcnow(), api="native"
            )
            barrier.wait()
            totals.append(collector.pipeline.write_now(submission))

        threads = [threading.Thread(target=send, args=(c,)) for c in collectors]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(totals) == [(0, 1), (1, 0)]
        with session_scope(servers[0].sessions, org.id) as session:
            decided = session.execute(
                select(ReachDecision.event_id, ReachDecision.member_id, ReachDecision.reason)
            ).all()
        assert decided == [("approach", member, "treated")]
    finally:
        for collector, container in zip(collectors, servers, strict=True):
            collector.pipeline.stop()
            container.close()
