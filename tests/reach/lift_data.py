"""A constructed campaign for the lift report's tests: treated and holdout decisions of known
members, their purchases in the warehouse around the 14-day window's edges, one redeemed
coupon inside the window and one outside."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing.models import Coupon
from newretail.reach.decide import Reason
from newretail.reach.models import ReachDecision
from newretail.reach.spend_lift import SpendSummary
from tests.conftest import Org
from tests.reach.trigger_helpers import FIRST_DAY, SHANGHAI, Reach, set_up, shanghai
from tests.timelines.events import load, row

T0 = shanghai(FIRST_DAY, "12:00")
WINDOW = timedelta(days=14)
SECOND = timedelta(seconds=1)


@dataclass
class LiftData:
    reach: Reach
    treated: list[uuid.UUID]  # A B C D
    holdout: list[uuid.UUID]  # E F G
    both: uuid.UUID
    outsider: uuid.UUID
    online_store: uuid.UUID


# the figures the data was built to give: spend per member in the window, and before it
TREATED_SPEND = SpendSummary.of([300.0, 0.0, 0.0, 120.0], [0.0, 0.0, 100.0, 0.0])
HOLDOUT_SPEND = SpendSummary.of([200.0, 0.0, 0.0], [0.0, 0.0, 0.0])


def decision(
    data: Reach, member: uuid.UUID, reason: Reason, at: datetime, n: int, coupon: Coupon | None
) -> ReachDecision:
    return ReachDecision(
        organization_id=data.org.id,
        campaign_id=data.campaign.id,
        stage_position=1,
        rule_id=data.rule_id,
        member_id=member,
        event_id=f"evt-{n}",
        event_type="counter_approach",
        store_id=data.store_id,
        channel="sms",
        reason=reason,
        occurred_at=at,
        decided_at=at,
        time_zone=SHANGHAI,
        local_day=FIRST_DAY,
        coupon_id=None if coupon is None else coupon.id,
    )


def _coupon(data: Reach, member: uuid.UUID, redeemed_at: datetime | None) -> Coupon:
    return Coupon(
        organization_id=data.org.id,
        offer_id=data.offer.id,
        stage_key=f"{data.campaign.id}:1",
        member_id=member,
        issue_key=f"{data.campaign.id}:1:{member}",
        state="redeemed" if redeemed_at else "issued",
        valid_from=T0 - timedelta(days=1),
        valid_until=T0 + timedelta(days=30),
        store_id=data.store_id if redeemed_at else None,
        discount=Decimal("50.00") if redeemed_at else None,
        redeemed_at=redeemed_at,
        order_ref=f"order-{member}" if redeemed_at else None,
    )


def build(container: Container, org: Org) -> LiftData:
    """A B C D treated, E F G held out, H in both arms, Z in none (see each line)."""
    reach = set_up(container, org, members=10, holdout_percent=50)
    a, b, c, d, e, f, g, h, z, capped = reach.members
    counter, online = reach.store_id, org.store_ids[0]
    with session_scope(container.sessions, org.id) as session:
        coupons = {
            a: _coupon(reach, a, T0 + timedelta(days=1)),  # redeemed in its window: the cost
            d: _coupon(reach, d, T0 + WINDOW),  # redeemed at the window's end: outside
            c: _coupon(reach, c, None),
        }
        session.add_all(coupons.values())
        session.flush()
        plan = [
            (a, Reason.TREATED, T0),
            (a, Reason.TREATED, T0 + timedelta(days=1)),  # a second reach: the first counts
            (b, Reason.TREATED, T0),
            (c, Reason.TREATED, T0 + timedelta(hours=2)),
            (d, Reason.TREATED, T0),
            (e, Reason.HOLDOUT, T0),
            (f, Reason.HOLDOUT, T0),
            (g, Reason.HOLDOUT, T0),
            (h, Reason.TREATED, T0),
            (h, Reason.HOLDOUT, T0 + timedelta(hours=1)),  # in both arms: left out, counted
            (capped, Reason.FREQUENCY_CAP, T0),  # reached neither arm
        ]
        for n, (member, reason, at) in enumerate(plan):
            coupon = coupons.get(member) if reason is Reason.TREATED else None
            session.add(decision(reach, member, reason, at, n, coupon))
    org_id = org.id
    load(
        container,
        [
            # A: just inside the window, at the counter that reached them
            row(
                org_id,
                a,
                "p-a",
                "purchase",
                T0 + WINDOW - SECOND,
                store_id=counter,
                amount="300.00",
            ),
            # B: at the window's end, outside it
            row(org_id, b, "p-b", "purchase", T0 + WINDOW, store_id=counter, amount="80.00"),
            # C: two hours before its reach: pre-period spend only
            row(org_id, c, "p-c", "purchase", T0, store_id=counter, amount="100.00"),
            # D: online the next day
            row(
                org_id,
                d,
                "p-d",
                "purchase",
                T0 + timedelta(days=1),
                channel="online",
                store_id=online,
                amount="120.00",
            ),
            # online interest before the reach: A the day before, B two hours before, E (held
            # out) three days before; G's 20 days before is outside the 14-day pre-period
            row(org_id, a, "i-a", "product_view", T0 - timedelta(days=1), channel="online"),
            row(org_id, b, "i-b", "add_to_cart", T0 - timedelta(hours=2), channel="online"),
            row(org_id, e, "i-e", "product_view", T0 - timedelta(days=3), channel="online"),
            row(org_id, g, "i-g", "product_view", T0 - timedelta(days=20), channel="online"),
            # D browsed after the reach: neither a purchase nor interest before it
            row(org_id, d, "v-d", "product_view", T0 + timedelta(days=1), channel="online"),
            # E (holdout) bought at the counter anyway
            row(
                org_id,
                e,
                "p-e",
                "purchase",
                T0 + timedelta(days=3),
                store_id=counter,
                amount="200.00",
            ),
            # G: 15 days before: outside the pre-period
            row(
                org_id,
                g,
                "p-g",
                "purchase",
                T0 - WINDOW - timedelta(days=1),
                store_id=counter,
                amount="90.00",
            ),
            # H (both arms) and Z (no arm) bought: neither counts
            row(
                org_id,
                h,
                "p-h",
                "purchase",
                T0 + timedelta(days=1),
                store_id=counter,
                amount="70.00",
            ),
            row(
                org_id,
                z,
                "p-z",
                "purchase",
                T0 + timedelta(days=1),
                store_id=counter,
                amount="60.00",
            ),
        ],
    )
    return LiftData(reach, [a, b, c, d], [e, f, g], h, z, online)
