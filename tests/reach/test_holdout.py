"""The holdout on trigger events: 10,000 audience members triggered at the counter, on SQLite
and PostgreSQL, decided in batches of 250 as the pipeline's loader hands them over (one
transaction each), none of the held-out ones contacted (the delivery port never handed their
coupon, no coupon issued to them), each recorded as
`holdout` (would have been reached); the held-out share inside its 99.9% binomial interval;
and the assignment computed again in a second Python process is identical. The hash is
stateless (SHA-256 of campaign and member), so a restarted server runs this same code path
with nothing to reload."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import uuid

from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing.models import Coupon
from newretail.reach.decide import TriggerEvent
from newretail.reach.models import ReachDecision
from tests.conftest import Org
from tests.reach.trigger_helpers import FIRST_DAY, set_up, shanghai

MEMBERS = 10_000
BATCH = 250
PERCENT = 10
Z_999 = 3.2905  # two-sided 99.9% normal quantile

SECOND_PROCESS = """
import json, sys, uuid
from newretail.marketing.campaigns import held_out
campaign, percent, members = json.load(sys.stdin)
held = [m for m in members if held_out(uuid.UUID(campaign), uuid.UUID(m), percent)]
print(json.dumps(sorted(held)))
"""


def test_ten_thousand_triggered_none_of_the_holdout_contacted(
    container: Container, org: Org
) -> None:
    members = MEMBERS
    reach = set_up(container, org, members=members, holdout_percent=PERCENT)
    at = shanghai(FIRST_DAY, "12:00")
    reach.clock.now = at
    events = [
        TriggerEvent(
            organization_id=org.id,
            event_id=f"approach-{n}",
            event_type="counter_approach",
            member_id=member,
            store_id=reach.store_id,
            occurred_at=at,
            properties={},
        )
        for n, member in enumerate(reach.members)
    ]
    for start in range(0, members, BATCH):
        with session_scope(container.sessions, org.id) as session:
            assert len(reach.engine.decide_many(session, events[start : start + BATCH])) == len(
                events[start : start + BATCH]
            )
    with session_scope(container.sessions, org.id) as session:
        reasons = dict(
            session.execute(
                select(ReachDecision.reason, func.count()).group_by(ReachDecision.reason)
            ).all()
        )
        held = set(
            session.scalars(
                select(ReachDecision.member_id).where(ReachDecision.reason == "holdout")
            )
        )
        with_coupons = set(session.scalars(select(Coupon.member_id)))
    assert reasons == {"holdout": len(held), "treated": members - len(held)}
    assert not held & reach.recorder.members()
    assert not held & with_coupons
    assert reach.recorder.members() == with_coupons == set(reach.members) - held
    expected, spread = members * PERCENT / 100, Z_999 * math.sqrt(members * 0.1 * 0.9)
    assert expected - spread <= len(held) <= expected + spread  # 10,000: 901.3 … 1098.7

    # the same assignment computed in a second process (a restart is the same code path)
    payload = json.dumps([str(reach.campaign.id), PERCENT, [str(m) for m in reach.members]])
    done = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS],
        input=payload,
        capture_output=True,
        text=True,
        check=True,
    )
    assert {uuid.UUID(m) for m in json.loads(done.stdout)} == held
