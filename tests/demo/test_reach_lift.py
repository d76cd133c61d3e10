"""The demo's Double 11 lift report: the seeded counter rule's decisions and purchases are
what the report reads, arm by arm."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.core.localtime import to_local
from newretail.demo import coupon_sales, reach_lift
from newretail.demo import marketing as marketing_demo
from newretail.demo import orders as orders_demo
from newretail.demo.marketing import seed_marketing
from newretail.demo.orders import seed_commerce
from newretail.events.outbox import relay_all
from newretail.marketing import campaigns
from newretail.marketing.models import Coupon, CouponState
from newretail.reach import measurement
from newretail.reach.models import ReachDecision
from newretail.tenancy.service import store_by_code
from tests.demo.test_commerce import _demo_org
from tests.orders.factory import owner

# the demo started on 24 November 2026 (20:00 in Shanghai): the extension ran from the 12th
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
FIRST_DAY, TODAY = date(2026, 11, 12), date(2026, 11, 24)


def test_the_demo_double_11_lift_report_has_both_arms(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id: uuid.UUID = _demo_org(container, monkeypatch)
    # the demo's own orders end before the extension, so every conversion in a window is one
    # the lift seed drew; no coupon sale "now" either
    monkeypatch.setattr(orders_demo, "utcnow", lambda: NOW - timedelta(days=20))
    monkeypatch.setattr(marketing_demo, "today", lambda zone_name: TODAY)
    monkeypatch.setattr(coupon_sales, "today", lambda zone_name: TODAY - timedelta(days=20))
    with session_scope(container.sessions, org_id) as session:
        seed_commerce(session, org_id, random.Random(42), days=3)
        seeded = seed_marketing(session, org_id, "Asia/Shanghai", container.warehouse, NOW)
    assert seeded is not None
    relay_all(container.sessions, container.warehouse)
    # 200 approaches of the test's 200 members: the 76 with marketing consent, and 10 without
    assert (seeded.approached, seeded.reasons.get("no_consent")) == (86, 10)
    treated, holdout = seeded.members["treated"], seeded.members["holdout"]
    assert treated > 0 and holdout > 0 and treated + holdout == 76
    assert seeded.reasons == {
        "holdout": holdout,
        "no_consent": 10,
        "treated": treated,
    }
    with session_scope(container.sessions, org_id) as session:
        (campaign,) = campaigns.list_campaigns(session)
        decisions = session.scalars(select(ReachDecision)).all()
        assert len(decisions) == 86 and {d.rule_id for d in decisions} == {seeded.rule_id}
        counters = {store_by_code(session, code).id for code in reach_lift.COUNTERS}
        assert {d.store_id for d in decisions} <= counters
        local_days = {to_local(d.occurred_at, "Asia/Shanghai").date() for d in decisions}
        assert min(local_days) >= FIRST_DAY and max(local_days) < TODAY
        redeemed_discount = session.scalar(
            select(func.coalesce(func.sum(Coupon.discount), 0)).where(
                Coupon.state == CouponState.REDEEMED,
                Coupon.id.in_([d.coupon_id for d in decisions if d.coupon_id is not None]),
            )
        )
        measured = measurement.measure(
            session, owner(org_id), container.warehouse, campaign.id, stage_position=3
        )
    assert (measured.treated.members, measured.holdout.members) == (treated, holdout)
    assert (measured.treated.converted, measured.holdout.converted) == (
        seeded.buyers["treated"],
        seeded.buyers["holdout"],
    )
    assert (
        measured.treated.converted_where_reached,
        measured.holdout.converted_where_reached,
    ) == (seeded.bought_where_reached["treated"], seeded.bought_where_reached["holdout"])
    assert seeded.buyers["treated"] > 0 and seeded.redeemed > 0
    assert (measured.redeemed_members, measured.redeemed_coupons) == (
        seeded.redeemed,
        seeded.redeemed,
    )
    assert measured.cost == Decimal(redeemed_discount) > 0
    assert measured.both_arms == 0
    # the members who viewed a product online before their approach (the seed's views only)
    assert (measured.treated.online_interest, measured.holdout.online_interest) == (
        seeded.viewed_online["treated"],
        seeded.viewed_online["holdout"],
    )
    assert seeded.viewed_online["treated"] > 0
    report = measured.report
    assert report is not None
    expected = seeded.buyers["treated"] / treated - seeded.buyers["holdout"] / holdout
    assert report.difference.estimate == pytest.approx(expected, abs=1e-12)
