"""The caps and the budget hold across processes (PostgreSQL, real parallel connections):
16 engines — each with its own snapshots, as separate servers have — decide at the same
moment on trigger events of one member under a daily cap of 2, then of 16 members under an
issue budget of 5; exactly 2, then exactly 5, are treated, every other event refused with
its reason. Then whole batches: 8 listeners, each with a loaded batch of one event of each
of 16 members, decide at once under a daily cap of 2 — the batches that meet another's
counters are rolled back and decided one event at a time — and every member is treated
exactly twice."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing.models import Coupon
from newretail.reach.decide import TriggerEvent
from newretail.reach.decisions import DecisionEngine
from newretail.reach.listener import TriggerListener
from newretail.reach.models import ReachContactCounter
from newretail.reach.snapshot import TriggerSnapshots
from tests.conftest import Org
from tests.marketing.races import database_url, pg_org, postgres_sessions
from tests.reach.trigger_helpers import ALWAYS_OPEN, FIRST_DAY, Reach, set_up, shanghai

__all__ = ["database_url", "pg_org", "postgres_sessions"]
WORKERS = 16


def race(reach: Reach, sessions: sessionmaker[Session], members: list[uuid.UUID]) -> Counter[str]:
    """Each worker decides on one event of its member, all released at once."""
    at = shanghai(FIRST_DAY, "12:00")
    reach.clock.now = at
    barrier = threading.Barrier(len(members))

    def work(n: int) -> list[str]:
        engine = DecisionEngine(
            TriggerSnapshots(reach.container.warehouse), reach.recorder, reach.clock
        )
        event = TriggerEvent(
            organization_id=reach.org.id,
            event_id=f"race-{n}",
            event_type="counter_approach",
            member_id=members[n],
            store_id=reach.store_id,
            occurred_at=at + timedelta(seconds=n),
            properties={},
        )
        with session_scope(sessions, reach.org.id) as session:
            engine.snapshots.get(session, reach.org.id)
        barrier.wait()
        with session_scope(sessions, reach.org.id) as session:
            return [d.reason for d in engine.decide(session, event)]

    with ThreadPoolExecutor(len(members)) as pool:
        results = list(pool.map(work, range(len(members))))
    return Counter(reason for reasons in results for reason in reasons)


def test_a_daily_cap_holds_across_parallel_servers(
    container: Container, pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    reach = set_up(container, pg_org, hours=ALWAYS_OPEN, daily_cap=2)
    member = reach.members[0]
    reasons = race(reach, postgres_sessions, [member] * WORKERS)
    assert reasons == Counter({"treated": 2, "frequency_cap": WORKERS - 2})
    assert len(reach.recorder.handed) == 2
    assert reach.coupons_of() == {member: 1}


def test_a_budget_holds_across_parallel_servers(
    container: Container, pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    reach = set_up(container, pg_org, members=WORKERS, hours=ALWAYS_OPEN, issue_limit=5)
    reasons = race(reach, postgres_sessions, reach.members)
    assert reasons == Counter({"treated": 5, "budget_spent": WORKERS - 5})
    with session_scope(container.sessions, pg_org.id) as session:
        assert session.scalar(select(func.count()).select_from(Coupon)) == 5
    assert len(reach.recorder.members()) == 5


def test_a_daily_cap_holds_across_parallel_batches(
    container: Container, pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    reach = set_up(container, pg_org, members=WORKERS, hours=ALWAYS_OPEN, daily_cap=2)
    at = shanghai(FIRST_DAY, "12:00")
    reach.clock.now = at
    listeners = 8
    barrier = threading.Barrier(listeners)

    def work(n: int) -> int:
        listener = TriggerListener(
            postgres_sessions, reach.container.warehouse, reach.recorder, reach.clock
        )
        rows = [
            {
                "organization_id": str(reach.org.id),
                "message_id": f"batch-{n}-{m}",
                "type": "counter_approach",
                "ts": at + timedelta(seconds=n),
                "store_id": str(reach.store_id),
                "member_id": str(member),
                "properties": None,
            }
            for m, member in enumerate(reach.members)
        ]
        with session_scope(postgres_sessions, reach.org.id) as session:
            listener.engine.snapshots.get(session, reach.org.id)
        barrier.wait()
        return listener.decide(reach.org.id, pa.Table.from_pylist(rows))

    with ThreadPoolExecutor(listeners) as pool:
        decided = list(pool.map(work, range(listeners)))
    assert decided == [WORKERS] * listeners
    with session_scope(container.sessions, pg_org.id) as session:
        day_counts = session.execute(
            select(ReachContactCounter.member_id, ReachContactCounter.count).where(
                ReachContactCounter.period == FIRST_DAY.isoformat()
            )
        ).all()
    assert sorted(day_counts) == sorted((member, 2) for member in reach.members)
    handed = Counter(member for member, _, _ in reach.recorder.handed)
    assert handed == Counter({member: 2 for member in reach.members})
    assert reach.coupons_of() == {member: 1 for member in reach.members}
