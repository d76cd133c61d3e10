"""Bulk issue to many members, set-based, on SQLite and PostgreSQL (exact values): idempotent
per stage and member, the budget granted in part, store budgets, the per-member limit, the
facts shaped as a single issue's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.core.errors import InvalidInput
from newretail.events.models import OutboxMessage
from newretail.marketing import bulk_issue, coupons, schemas
from newretail.marketing.errors import LedgerError
from newretail.marketing.models import Budget, Coupon, CouponLedgerEntry
from tests.conftest import Org
from tests.marketing.bulk_helpers import OFFER_NAME, a_campaign, members
from tests.marketing.ledger_helpers import check_invariants

# the main day, 2027-11-11, in Shanghai
MAIN_DAY_START = datetime(2027, 11, 10, 16, 0, tzinfo=UTC)
MAIN_DAY_END = datetime(2027, 11, 11, 16, 0, tzinfo=UTC)


def count(session: object, statement: object) -> int:
    return int(session.scalar(statement) or 0)  # type: ignore[attr-defined]


def test_a_bulk_issue_run_twice_issues_once_and_spends_the_budget_once(
    container: Container, org: Org
) -> None:
    people = members(40)
    with session_scope(container.sessions, org.id) as session:
        made = a_campaign(session, org.id, issue_limit=100)
        plan = made.stage(session)
    runs = []
    for _ in range(2):
        progress = list(
            bulk_issue.in_batches(
                lambda: session_scope(container.sessions, org.id), plan, people, batch_size=15
            )
        )
        assert [p.done for p in progress] == [15, 30, 40]
        runs.append(progress[-1].report)
    assert runs[0] == bulk_issue.BulkReport(members=40, issued=40)
    assert runs[1] == bulk_issue.BulkReport(members=40, already_held=40)
    with session_scope(container.sessions, org.id) as session:
        assert session.scalar(select(Budget.issued)) == 40
        held = session.execute(select(Coupon.member_id, Coupon.issue_key)).all()
        assert sorted(m for m, _ in held) == people
        campaign_id = made.campaign.id
        assert {k for _, k in held} == {f"{campaign_id}:1:D11:{m}" for m in people}
        coupon = session.scalar(select(Coupon).where(Coupon.member_id == people[0]))
        assert coupon is not None
        assert (coupon.state, coupon.valid_from, coupon.valid_until, coupon.member_slot) == (
            "issued",
            MAIN_DAY_START,
            MAIN_DAY_END,
            None,
        )
        ledger = session.execute(
            select(CouponLedgerEntry.change, CouponLedgerEntry.member_id, CouponLedgerEntry.actor)
        ).all()
        assert sorted(ledger) == sorted(("issued", m, "test") for m in people)
        facts = session.scalars(select(OutboxMessage)).all()
        assert len(facts) == 40 and {f.event_type for f in facts} == {"coupon_issued"}
        fact = next(f for f in facts if f.member_id == people[0])
        assert fact.properties == {
            "coupon_id": str(coupon.id),
            "offer_id": str(made.offer.id),
            "offer": OFFER_NAME,
            "campaign_id": str(campaign_id),
            "stage_position": "1",
            "campaign": "Double 11",
            "stage": "Main day",
        }
        assert (fact.store_id, fact.amount, fact.published_at) == (None, None, None)
        # one coupon issued alone writes a fact of the same shape
        alone = coupons.issue(
            session,
            org.id,
            coupons.Issue(
                offer_id=made.offer.id,
                issue_key="alone",
                valid_from=MAIN_DAY_START,
                valid_until=MAIN_DAY_END,
                member_id=uuid.uuid4(),
                stage_key=plan.stage_key,
            ),
            "test",
        )
        session.flush()
        single = session.scalar(
            select(OutboxMessage).where(OutboxMessage.member_id == alone.member_id)
        )
        assert single is not None
        assert single.properties == {**fact.properties, "coupon_id": str(alone.id)}
        check_invariants(session)


def test_a_budget_too_small_grants_what_fits_and_refuses_the_rest(
    container: Container, org: Org
) -> None:
    people = members(40)
    with session_scope(container.sessions, org.id) as session:
        plan = a_campaign(session, org.id, issue_limit=25).stage(session)
        first = bulk_issue.issue_batch(session, plan, people)
    assert first == bulk_issue.BulkReport(members=40, issued=25, refused_budget=15)
    assert first.refusals() == {"budget_spent": 15}
    more = [*people, *members(5)]
    with session_scope(container.sessions, org.id) as session:
        again = bulk_issue.issue_batch(session, plan, more)
        assert again == bulk_issue.BulkReport(members=45, already_held=25, refused_budget=20)
        assert session.scalar(select(Budget.issued)) == 25
        holders = session.scalars(select(Coupon.member_id).order_by(Coupon.member_id)).all()
        assert holders == people[:25]  # the first by member id
        assert count(session, select(func.count(OutboxMessage.id))) == 25
        check_invariants(session)


def test_a_store_budget_limits_a_bulk_issue_at_that_store(container: Container, org: Org) -> None:
    shop = org.store_ids[0]
    people = members(10)
    with session_scope(container.sessions, org.id) as session:
        made = a_campaign(
            session,
            org.id,
            issue_limit=100,
            store_budgets=[schemas.StoreBudgetIn(store_id=shop, issue_limit=7)],
        )
        plan = made.stage(session, store_id=shop)
        report = bulk_issue.issue_batch(session, plan, people)
        assert report == bulk_issue.BulkReport(members=10, issued=7, refused_budget=3)
        spent = session.execute(select(Budget.store_id, Budget.issued)).all()
        assert sorted(spent, key=str) == sorted([(None, 7), (shop, 7)], key=str)
        assert set(session.scalars(select(CouponLedgerEntry.store_id))) == {shop}
        assert set(session.scalars(select(OutboxMessage.store_id))) == {shop}
        with pytest.raises(InvalidInput) as foreign:
            made.stage(session, store_id=uuid.uuid4())  # not a store of the organisation
        assert foreign.value.field == "store_id"
        # at another store only the stage's budget applies: the three refused get theirs
        elsewhere = made.stage(session, store_id=org.store_ids[1])
        again = bulk_issue.issue_batch(session, elsewhere, people)
        assert again == bulk_issue.BulkReport(members=10, issued=3, already_held=7)
        spent = session.execute(select(Budget.store_id, Budget.issued)).all()
        assert sorted(spent, key=str) == sorted([(None, 10), (shop, 7)], key=str)
        check_invariants(session)


def test_the_per_member_limit_holds_across_stages_in_bulk_and_alone(
    container: Container, org: Org
) -> None:
    people = members(5)
    with session_scope(container.sessions, org.id) as session:
        made = a_campaign(session, org.id, stages=3, issue_limit=100, per_member_limit=2)
        reports = [bulk_issue.issue_batch(session, made.stage(session, n), people) for n in (1, 2)]
        assert reports == [bulk_issue.BulkReport(members=5, issued=5)] * 2
        third = bulk_issue.issue_batch(session, made.stage(session, 3), people)
        assert third == bulk_issue.BulkReport(members=5, refused_member_limit=5)
        assert third.refusals() == {"member_limit": 5}
        slots = session.execute(
            select(Coupon.member_id, func.count(), func.min(Coupon.member_slot))
            .group_by(Coupon.member_id)
            .having(func.max(Coupon.member_slot) == 2)
        ).all()
        assert sorted(slots) == [(m, 2, 1) for m in people]
        spent = session.scalars(select(Budget.issued).order_by(Budget.stage_key)).all()
        assert list(spent) == [5, 5, 0]
        third_plan = made.stage(session, 3)
        request = coupons.Issue(
            offer_id=made.offer.id,
            issue_key="one-more",
            valid_from=third_plan.valid_from,
            valid_until=third_plan.valid_until,
            member_id=people[0],
            stage_key=third_plan.stage_key,
        )
        with pytest.raises(LedgerError) as refused:
            coupons.issue(session, org.id, request, "test")
        assert (refused.value.code, refused.value.field) == ("member_limit", "member_id")
        # a member with one coupon of the offer gets a second, alone, in slot 2
        newcomer = uuid.uuid4()
        assert bulk_issue.issue_batch(session, made.stage(session, 1), [newcomer]).issued == 1
        second = coupons.issue(
            session, org.id, coupons.Issue(**{**request.__dict__, "member_id": newcomer}), "test"
        )
        assert second.member_slot == 2
        check_invariants(session)
