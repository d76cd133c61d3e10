"""The demo's Double 11 campaign: approved, three stages, the extension's coupons issued."""

from __future__ import annotations

import random
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.core.localtime import today
from newretail.demo import coupon_sales
from newretail.demo.marketing import double_11_year, seed_marketing
from newretail.demo.orders import seed_commerce
from newretail.events.models import OutboxMessage
from newretail.marketing import campaigns, reads
from newretail.marketing.models import Coupon, CouponLedgerEntry, CouponState
from newretail.members.models import MemberConsent
from newretail.members.profile_graph import Member
from newretail.orders.models import Order
from newretail.tenancy.models import Store
from tests.demo.test_commerce import _demo_org
from tests.marketing.test_holdout import in_holdout
from tests.orders.factory import owner


def test_double_11_year_runs_until_the_extension_ends() -> None:
    assert double_11_year(date(2026, 12, 6)) == 2026
    assert double_11_year(date(2026, 12, 11)) == 2026
    assert double_11_year(date(2026, 12, 12)) == 2027
    assert double_11_year(date(2027, 3, 1)) == 2027


def test_the_demo_campaign_is_approved_with_coupons_issued(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id: uuid.UUID = _demo_org(container, monkeypatch)
    with session_scope(container.sessions, org_id) as session:
        seed_marketing(session, org_id, "Asia/Shanghai")
    with session_scope(container.sessions, org_id) as session:
        (campaign,) = campaigns.list_campaigns(session)
        read = reads.campaign_read(session, owner(org_id), campaign)
        assert [s.name for s in read.stages] == [
            "Pre-sale",
            "Main day",
            "30-day offline extension",
        ]
        assert read.approved_by == "demo" and read.state in ("scheduled", "running", "ended")
        extension = read.stages[-1]
        # the 满减 coupons go to the newest 300 members on the extension's days only
        on = today("Asia/Shanghai")
        extension_on = extension.first_day <= on <= extension.last_day
        # the test org has 200 members; the campaign's 10% holdout is sent none, nor are the
        # members without marketing consent on any channel
        people = session.scalars(select(Member.id)).all()
        consenting = set(
            session.scalars(
                select(MemberConsent.member_id).where(
                    MemberConsent.purpose == "marketing", MemberConsent.granted.is_(True)
                )
            )
        )
        reached = sum(not in_holdout(campaign.id, m, 10) and m in consenting for m in people)
        assert (len(people), campaign.holdout_percent) == (200, 10) and 40 <= reached < 160
        issued = reached * (2 if extension_on else 1)
        assert [(b.store_name, b.issued) for b in extension.budgets] == [
            (None, issued),
            ("Guomao counter", 0),
            ("Jing'an Kerry counter", 0),
        ]
        assert session.scalar(select(func.count()).select_from(Coupon)) == issued
        facts = session.scalars(
            select(OutboxMessage.properties).where(OutboxMessage.event_type == "coupon_issued")
        ).all()
        assert len(facts) == issued
        offers = {"Counter extension: 10% off up to ¥50"}
        if extension_on:
            offers.add("Double 11: spend ¥300, save ¥40")
        assert {(f["offer"], f["campaign"], f["stage"]) for f in facts} == {
            (offer, "Double 11", "30-day offline extension") for offer in offers
        }


def test_the_demo_redeems_coupons_in_sales_across_channels(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id: uuid.UUID = _demo_org(container, monkeypatch)
    with session_scope(container.sessions, org_id) as session:
        seed_commerce(session, org_id, random.Random(42), days=7)
        seed_marketing(session, org_id, "Asia/Shanghai")
    with session_scope(container.sessions, org_id) as session:
        (campaign,) = campaigns.list_campaigns(session)
        extension = campaign.stages[-1]
        on = today("Asia/Shanghai")
        redeemed = session.execute(
            select(Store.code, func.count(), func.sum(Coupon.discount))
            .join(Store, Store.id == Coupon.store_id)
            .where(Coupon.state == CouponState.REDEEMED)
            .group_by(Store.code)
            .order_by(Store.code)
        ).all()
        if not extension.first_day <= on <= extension.last_day:
            assert redeemed == []  # outside the offline extension no coupon is valid
            return
        by_store = {code: count for code, count, _ in redeemed}
        assert by_store == {code: count for code, _, count in coupon_sales.SALES}
        assert all(discount > 0 for _, _, discount in redeemed)
        # each redeemed coupon names its order, sold at the coupon's store with the discount
        for coupon in session.scalars(select(Coupon).where(Coupon.state == CouponState.REDEEMED)):
            order = session.get(Order, uuid.UUID(coupon.order_ref))
            assert order is not None and order.store_id == coupon.store_id
            assert order.discount_amount == coupon.discount
        ledger = session.scalars(
            select(CouponLedgerEntry.change).where(CouponLedgerEntry.change == "redeemed")
        ).all()
        assert len(ledger) == sum(count for _, _, count in coupon_sales.SALES)
