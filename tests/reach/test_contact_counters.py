"""The contact counters' retention (SQLite and PostgreSQL): a contact writes one row per
limit set; rows with no contact for 8 days are deleted by the server's job (their day, week
and re-entry window are over), newer ones kept."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import scope_session, session_scope
from newretail.jobs import reach_counter_retention
from newretail.reach import contact_caps
from newretail.reach.models import ReachContactCounter
from tests.conftest import Org
from tests.reach.trigger_helpers import FIRST_DAY, set_up, shanghai


def test_counters_of_the_limits_set_and_their_retention(container: Container, org: Org) -> None:
    reach = set_up(container, org, daily_cap=3, weekly_cap=5, reentry_minutes=5)
    reach.settings(global_daily_cap=4)
    at = shanghai(FIRST_DAY, "12:00")
    assert reach.trigger(reach.members[0], at) == ["treated"]
    campaign = str(reach.campaign.id)
    with session_scope(container.sessions, org.id) as session:
        held = session.execute(
            select(ReachContactCounter.scope, ReachContactCounter.period, ReachContactCounter.count)
        ).all()
    assert sorted(held) == sorted(  # the campaign's random id sorts before or after "all"
        [
            (campaign, "2027-11-11", 1),
            (campaign, "2027-W45", 1),
            (campaign, "entry", 1),
            ("all", "2027-11-11", 1),
        ]
    )

    def ours() -> int:  # the store may hold other tests' organisations' counters
        with session_scope(container.sessions, org.id) as session:
            return len(session.scalars(select(ReachContactCounter.id)).all())

    with session_scope(container.sessions) as session:
        contact_caps.purge_stale(scope_session(session, None), at + timedelta(days=8))
    assert ours() == 4  # kept at exactly 8 days
    with session_scope(container.sessions) as session:
        contact_caps.purge_stale(scope_session(session, None), at + timedelta(days=8, seconds=1))
    assert ours() == 0
    # the server's job runs the same purge (nothing left to delete now)
    assert reach_counter_retention(container, threading.Event()) == 0
