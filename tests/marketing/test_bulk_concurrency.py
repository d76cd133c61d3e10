"""Bulk issues, claims and the per-member limit raced on PostgreSQL with real parallel
connections: overlapping bulk issuers against one budget, 64 claimers of one code, issuers of
one member's last slots."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.database import session_scope
from newretail.events.models import OutboxMessage
from newretail.marketing import bulk_issue, claims, coupons, schemas
from newretail.marketing.models import Budget, ClaimCode, Coupon
from tests.conftest import Org
from tests.marketing.bulk_helpers import a_campaign, members
from tests.marketing.ledger_helpers import check_invariants
from tests.marketing.races import database_url, pg_org, postgres_sessions
from tests.marketing.test_ledger_concurrency import WORKERS, attempt, race

pytestmark = pytest.mark.postgres
__all__ = ["database_url", "pg_org", "postgres_sessions"]


def test_8_bulk_issuers_of_overlapping_audiences_against_a_budget_of_1000(
    pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    everyone = members(2400)
    with session_scope(postgres_sessions, pg_org.id) as session:
        plan = a_campaign(session, pg_org.id, issue_limit=1000).stage(session)
    # issuer n: 600 members from n × 250 on (each overlaps its neighbours), batches of 100
    audiences = [everyone[n * 250 : n * 250 + 600] for n in range(8)]
    reports: dict[int, bulk_issue.BulkReport] = {}

    def issue(n: int) -> str:
        transaction = lambda: session_scope(postgres_sessions, pg_org.id)  # noqa: E731
        for progress in bulk_issue.in_batches(transaction, plan, audiences[n], batch_size=100):
            reports[n] = progress.report
        return "done"

    assert race(8, issue) == Counter({"done": 8})
    assert sum(r.issued for r in reports.values()) == 1000
    assert all(r.members == 600 for r in reports.values())
    assert all(
        r.issued + r.already_held + r.refused_budget == 600 and r.refused_member_limit == 0
        for r in reports.values()
    )
    with session_scope(postgres_sessions, pg_org.id) as session:
        assert session.scalar(select(Budget.issued)) == 1000
        assert session.scalar(select(func.count(Coupon.id))) == 1000
        assert session.scalar(select(func.count(func.distinct(Coupon.member_id)))) == 1000
        assert session.scalar(select(func.count(OutboxMessage.id))) == 1000
        check_invariants(session)


def test_64_claimers_of_a_code_with_a_limit_of_10(
    pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    with session_scope(postgres_sessions, pg_org.id) as session:
        made = a_campaign(session, pg_org.id, issue_limit=1000)
        body = schemas.ClaimCodeIn(code="DOUBLE11", offer_code="D11", claim_limit=10)
        claims.create_claim_code(
            session, made.owner, made.campaign.id, made.campaign.stages[0].id, body
        )
    people = members(WORKERS)

    def claim(n: int) -> str:
        return attempt(
            postgres_sessions,
            pg_org.id,
            lambda s: claims.claim(s, made.owner, "DOUBLE11", people[n]),
        )

    assert race(WORKERS, claim) == Counter({"ok": 10, "claim_limit": WORKERS - 10})
    with session_scope(postgres_sessions, pg_org.id) as session:
        assert session.scalar(select(ClaimCode.claimed)) == 10
        assert session.scalar(select(Budget.issued)) == 10
        assert session.scalar(select(func.count(Coupon.id))) == 10
        kinds = session.execute(
            select(OutboxMessage.event_type, func.count()).group_by(OutboxMessage.event_type)
        ).all()
        assert sorted(kinds) == [("coupon_claim", 10), ("coupon_issued", 10)]
        check_invariants(session)


def test_one_member_claiming_16_times_at_once_gets_one_coupon_and_counts_one_claim(
    pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    with session_scope(postgres_sessions, pg_org.id) as session:
        made = a_campaign(session, pg_org.id, issue_limit=1000)
        body = schemas.ClaimCodeIn(code="ONCE", offer_code="D11", claim_limit=5)
        claims.create_claim_code(
            session, made.owner, made.campaign.id, made.campaign.stages[0].id, body
        )
    member = uuid.uuid4()
    held: list[uuid.UUID] = []

    def claim(n: int) -> str:
        def one(s: Session) -> None:
            held.append(claims.claim(s, made.owner, "ONCE", member).coupon.id)

        return attempt(postgres_sessions, pg_org.id, one)

    assert race(16, claim) == Counter({"ok": 16})
    assert len(set(held)) == 1
    with session_scope(postgres_sessions, pg_org.id) as session:
        assert session.scalar(select(ClaimCode.claimed)) == 1
        assert session.scalar(select(Budget.issued)) == 1
        check_invariants(session)


def test_a_per_member_limit_of_2_under_8_bulk_issuers_of_4_stages(
    pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    people = members(200)
    with session_scope(postgres_sessions, pg_org.id) as session:
        made = a_campaign(session, pg_org.id, stages=4, issue_limit=1000, per_member_limit=2)
        plans = [made.stage(session, n) for n in range(1, 5)]
    reports: dict[int, bulk_issue.BulkReport] = {}

    def issue(n: int) -> str:
        transaction = lambda: session_scope(postgres_sessions, pg_org.id)  # noqa: E731
        order = people if n % 2 else people[::-1]  # batches meet from both ends
        for progress in bulk_issue.in_batches(transaction, plans[n % 4], order, batch_size=50):
            reports[n] = progress.report
        return "done"

    assert race(8, issue) == Counter({"done": 8})
    assert sum(r.issued for r in reports.values()) == 400
    with session_scope(postgres_sessions, pg_org.id) as session:
        per_member = session.execute(
            select(Coupon.member_id, func.count(), func.min(Coupon.member_slot))
            .group_by(Coupon.member_id)
            .having(func.max(Coupon.member_slot) == 2)
        ).all()
        assert sorted(per_member) == [(m, 2, 1) for m in people]
        spent = session.scalar(select(func.sum(Budget.issued)))
        assert spent == 400
        check_invariants(session)


def test_16_single_issuers_of_one_members_last_slots(
    pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    with session_scope(postgres_sessions, pg_org.id) as session:
        made = a_campaign(session, pg_org.id, issue_limit=1000, per_member_limit=3)
        plan = made.stage(session)
    member = uuid.uuid4()

    def issue(n: int) -> str:
        request = coupons.Issue(
            offer_id=plan.offer_id,
            issue_key=f"single-{n}",
            valid_from=plan.valid_from,
            valid_until=plan.valid_until,
            member_id=member,
            stage_key=plan.stage_key,
        )
        return attempt(
            postgres_sessions, pg_org.id, lambda s: coupons.issue(s, pg_org.id, request, "t")
        )

    outcomes = race(16, issue)
    assert outcomes == Counter({"ok": 3, "member_limit": 13})
    with session_scope(postgres_sessions, pg_org.id) as session:
        slots = session.scalars(select(Coupon.member_slot).order_by(Coupon.member_slot)).all()
        assert list(slots) == [1, 2, 3]
        assert session.scalar(select(Budget.issued)) == 3
        check_invariants(session)
