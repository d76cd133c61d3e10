"""The demo's Double 11 campaign: approved, three stages, the extension's coupons issued."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.demo.marketing import ISSUED_TO, double_11_year, seed_marketing
from newretail.events.models import OutboxMessage
from newretail.marketing import campaigns, reads
from newretail.marketing.models import Coupon
from tests.demo.test_commerce import _demo_org
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
        assert [(b.store_name, b.issued) for b in extension.budgets] == [
            (None, 200),  # the test organisation has 200 members
            ("Guomao counter", 0),
            ("Jing'an Kerry counter", 0),
        ]
        assert session.scalar(select(func.count()).select_from(Coupon)) == min(ISSUED_TO, 200)
        facts = session.scalars(
            select(OutboxMessage.properties).where(OutboxMessage.event_type == "coupon_issued")
        ).all()
        assert len(facts) == 200
        assert {(f["offer"], f["campaign"], f["stage"]) for f in facts} == {
            ("Counter extension: 10% off up to ¥50", "Double 11", "30-day offline extension")
        }
