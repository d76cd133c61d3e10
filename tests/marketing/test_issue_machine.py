"""A Hypothesis state machine over the ways coupons are issued: bulk issue to any members of two
stages, claims of a public code, single issues, merges and erasure in any order, on SQLite and
PostgreSQL. After every step the budgets equal the coupons that count, the claim counter the
claim facts, and no member holds more usable coupons of the offer than its per-member limit."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.events.models import OutboxMessage
from newretail.marketing import bulk_issue, claims, coupons, schemas
from newretail.marketing.errors import LedgerError
from newretail.marketing.models import Budget, ClaimCode, Coupon, CouponLedgerEntry, CouponState
from tests.conftest import make_org
from tests.marketing.bulk_helpers import a_campaign
from tests.marketing.ledger_helpers import check_invariants

MEMBERS = [uuid.UUID(int=n + 1) for n in range(4)]
ISSUE_LIMIT, MEMBER_LIMIT, CLAIM_LIMIT = 6, 2, 3


def test_issuing_stays_consistent_whatever_the_order(container: Container) -> None:
    class Issuing(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.org = make_org(container, "issuing")
            self.singles = 0
            with self.session() as session:
                self.made = a_campaign(
                    session,
                    self.org.id,
                    stages=2,
                    issue_limit=ISSUE_LIMIT,
                    per_member_limit=MEMBER_LIMIT,
                )
                self.plans = [self.made.stage(session, n) for n in (1, 2)]
                body = schemas.ClaimCodeIn(code="D11", offer_code="D11", claim_limit=CLAIM_LIMIT)
                stage_id = self.made.campaign.stages[0].id
                claims.create_claim_code(
                    session, self.made.owner, self.made.campaign.id, stage_id, body
                )

        def session(self):  # type: ignore[no-untyped-def]
            return session_scope(container.sessions, self.org.id)

        @rule(stage=st.sampled_from([0, 1]), members=st.sets(st.sampled_from(MEMBERS)))
        def bulk(self, stage: int, members: set[uuid.UUID]) -> None:
            with self.session() as session:
                report = bulk_issue.issue_batch(session, self.plans[stage], members)
            counted = report.issued + report.already_held + report.refused_budget
            assert counted + report.refused_member_limit == report.members == len(members)

        @rule(member=st.sampled_from(MEMBERS))
        def claim(self, member: uuid.UUID) -> None:
            try:
                with self.session() as session:
                    claims.claim(session, self.made.owner, "d-11", member)
            except LedgerError as refused:
                assert refused.code in {"claim_limit", "budget_spent", "member_limit"}

        @rule(stage=st.sampled_from([0, 1]), member=st.sampled_from(MEMBERS))
        def single(self, stage: int, member: uuid.UUID) -> None:
            plan = self.plans[stage]
            self.singles += 1
            request = coupons.Issue(
                offer_id=plan.offer_id,
                issue_key=f"single-{self.singles}",
                valid_from=plan.valid_from,
                valid_until=plan.valid_until,
                member_id=member,
                stage_key=plan.stage_key,
            )
            try:
                with self.session() as session:
                    coupons.issue(session, self.org.id, request, "machine")
            except LedgerError as refused:
                assert refused.code in {"budget_spent", "member_limit"}

        @rule(merged=st.sampled_from(MEMBERS), survivor=st.sampled_from(MEMBERS))
        def merge(self, merged: uuid.UUID, survivor: uuid.UUID) -> None:
            if merged != survivor:
                with self.session() as session:
                    coupons.move_member(session, [merged], survivor, "oneid")

        @rule(member=st.sampled_from(MEMBERS))
        def erasure(self, member: uuid.UUID) -> None:
            with self.session() as session:
                coupons.void_member(session, member, "erasure")

        @invariant()
        def ledgers_agree(self) -> None:
            with self.session() as session:
                check_invariants(session)
                rows = session.execute(
                    select(Coupon.stage_key, Coupon.member_id, Coupon.state, Coupon.member_slot)
                ).all()
                usable = [r for r in rows if r.state != CouponState.VOIDED]
                spent = dict(session.execute(select(Budget.stage_key, Budget.issued)).all())
                for plan in self.plans:
                    counted = sum(1 for r in usable if r.stage_key == plan.stage_key)
                    assert spent[plan.stage_key] == counted <= ISSUE_LIMIT
                # every coupon holds a slot; the usable ones within the limit, each slot once
                assert all(r.member_slot is not None for r in rows)
                assert all(r.member_slot <= MEMBER_LIMIT for r in usable)
                slots = [(r.member_id, r.member_slot) for r in rows]
                assert len(slots) == len(set(slots))
                claimed = session.scalar(select(ClaimCode.claimed))
                facts = dict(
                    session.execute(
                        select(OutboxMessage.event_type, func.count()).group_by(
                            OutboxMessage.event_type
                        )
                    ).all()
                )
                assert claimed == facts.get("coupon_claim", 0) <= CLAIM_LIMIT
                assert facts.get("coupon_issued", 0) == len(rows)
                changes = dict(
                    session.execute(
                        select(CouponLedgerEntry.change, func.count()).group_by(
                            CouponLedgerEntry.change
                        )
                    ).all()
                )
                assert changes.get("issued", 0) == len(rows)
                assert changes.get("voided", 0) == len(rows) - len(usable)

    run_state_machine_as_test(
        Issuing,
        settings=settings(
            max_examples=12,
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
