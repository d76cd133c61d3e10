"""The two forms of a redemption agree on PostgreSQL: the Python one (`redemption._redeem`, as
on SQLite) and the one statement of the till's hot path (`redemption_postgres`) write the same
coupon, budget, ledger and outbox rows, and refuse alike."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.events.models import OutboxMessage
from newretail.marketing import budgets, redemption
from newretail.marketing.errors import LedgerError
from newretail.marketing.models import (
    Budget,
    Campaign,
    CampaignStage,
    Coupon,
    CouponLedgerEntry,
    Offer,
)
from tests.conftest import Org
from tests.marketing.ledger_helpers import NOW, OFFER, STAGE, a_coupon, use

pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


def python_form(session: Session, coupon_id: uuid.UUID, order: Any) -> Coupon:
    with session.begin_nested():
        return redemption._redeem(session, coupon_id, order, "pos", NOW)


def sql_form(session: Session, coupon_id: uuid.UUID, order: Any) -> Coupon:
    return redemption.redeem(session, coupon_id, order, "pos", now=NOW)


def written(session: Session, coupon_id: uuid.UUID) -> tuple[Any, ...]:
    """What a redemption left: the coupon's fields, its ledger rows and its facts."""
    coupon = session.get(Coupon, coupon_id, populate_existing=True)
    assert coupon is not None
    ledger = session.execute(
        select(
            CouponLedgerEntry.change,
            CouponLedgerEntry.member_id,
            CouponLedgerEntry.order_ref,
            CouponLedgerEntry.store_id,
            CouponLedgerEntry.discount,
            CouponLedgerEntry.actor,
        )
        .where(CouponLedgerEntry.coupon_id == coupon_id)
        .order_by(CouponLedgerEntry.created_at)
    ).all()
    facts = [
        (m.event_type, m.member_id, m.store_id, m.amount, {**m.properties, "coupon_id": "…"})
        for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))
        if m.properties.get("coupon_id") == str(coupon_id)
    ]
    return (
        (coupon.state, coupon.order_ref, coupon.store_id, coupon.discount, coupon.redeemed_at),
        [tuple(row) for row in ledger],
        facts,
    )


def test_both_forms_write_the_same_rows(container: Container, org: Org) -> None:
    member = uuid.uuid4()
    shop = org.store_ids[0]
    campaign_id, position = STAGE.split(":")
    with session_scope(container.sessions, org.id) as session:
        # the names the facts carry: the offer, the campaign and its stage
        session.add(Offer(id=OFFER, organization_id=org.id, code="D11-25", name="25 off", spec={}))
        session.add(Campaign(id=uuid.UUID(campaign_id), organization_id=org.id, name="Double 11"))
        session.flush()
        session.add(
            CampaignStage(
                organization_id=org.id,
                campaign_id=uuid.UUID(campaign_id),
                position=int(position),
                name="Main day",
                kind="main_day",
                first_day=NOW.date(),
                last_day=NOW.date(),
                channels={},
                audience_ids=[],
                offer_ids=[],
            )
        )
        budgets.create_budget(session, org.id, name="stage", stage_key=STAGE, redeem_limit=5)
        budgets.create_budget(
            session, org.id, name="shop", stage_key=STAGE, store_id=shop, amount_limit=Decimal(60)
        )
        first = a_coupon(session, org.id, "a", member_id=member).id
        second = a_coupon(session, org.id, "b", member_id=member).id
    results = []
    for form, coupon_id in ((python_form, first), (sql_form, second)):
        with session_scope(container.sessions, org.id) as session:
            order = use("till-1:9", "25.00", store_id=shop, member_id=member)
            coupon = form(session, coupon_id, order)
            assert (coupon.state, coupon.discount) == ("redeemed", Decimal("25.00"))
            results.append(written(session, coupon_id))
    assert results[0] == results[1]
    assert results[1][2][-1][4] == {
        "coupon_id": "…",
        "offer_id": str(OFFER),
        "offer": "25 off",
        "campaign_id": campaign_id,
        "campaign": "Double 11",
        "stage_position": position,
        "stage": "Main day",
        "order_ref": "till-1:9",
    }
    assert results[1][1][-1] == ("redeemed", member, "till-1:9", shop, Decimal("25.00"), "pos")
    # both refuse the third 25.00 at the shop (60.00 allowed there) with the same code,
    # and change nothing
    with session_scope(container.sessions, org.id) as session:
        third = a_coupon(session, org.id, "c", member_id=member).id
    for form in (python_form, sql_form):
        with session_scope(container.sessions, org.id) as session:
            with pytest.raises(LedgerError) as refused:
                form(session, third, use("till-1:10", "25.00", store_id=shop, member_id=member))
            assert (refused.value.code, refused.value.message) == (
                "budget_spent",
                "the budget shop is spent",
            )
            left = session.get(Coupon, third, populate_existing=True)
            assert left is not None and left.state == "issued"
            spent = session.execute(select(Budget.name, Budget.redeemed, Budget.discounted))
            assert sorted(spent) == [("shop", 2, Decimal("50.00")), ("stage", 2, Decimal("50.00"))]
