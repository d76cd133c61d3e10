"""A Hypothesis state machine over the coupon and budget ledgers: issue, reserve, redeem,
release, refund, expiry, merge and erasure in any order, on SQLite and PostgreSQL. After every
step the coupons' states, their ledger rows and the budgets agree."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing import budgets, coupons
from newretail.marketing.errors import LedgerError, LedgerErrorCode
from newretail.marketing.models import Budget, Coupon, CouponLedgerEntry, CouponState
from newretail.marketing.redemption import Redemption, redeem, release, reserve, restore
from tests.conftest import make_org
from tests.marketing.ledger_helpers import NOW, OFFER, STAGE, VALID_FROM, check_invariants

MEMBERS = [uuid.UUID(int=n + 1) for n in range(3)]
KEYS = [f"k{n}" for n in range(8)]


def test_the_ledgers_stay_consistent_whatever_the_order(container: Container) -> None:
    class Ledgers(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.org = make_org(container, "machine")
            self.shop = self.org.store_ids[0]
            self.now = NOW
            self.orders = 0
            self.used_by: dict[str, str] = {}  # coupon key -> the order that redeemed it
            with self.session() as session:
                budgets.create_budget(
                    session,
                    self.org.id,
                    name="stage",
                    stage_key=STAGE,
                    issue_limit=5,
                    redeem_limit=3,
                    amount_limit=Decimal("100"),
                )
                budgets.create_budget(
                    session,
                    self.org.id,
                    name="shop",
                    stage_key=STAGE,
                    store_id=self.shop,
                    redeem_limit=2,
                )

        def session(self):  # type: ignore[no-untyped-def]
            return session_scope(container.sessions, self.org.id)

        def coupon_id(self, key: str) -> uuid.UUID | None:
            with self.session() as session:
                found = coupons.find_by_key(session, key)
                return None if found is None else found.id

        @rule(member=st.sampled_from(MEMBERS), key=st.sampled_from(KEYS))
        def issue(self, member: uuid.UUID, key: str) -> None:
            hours = 12 * (KEYS.index(key) % 3 + 1)
            request = coupons.Issue(
                OFFER, key, VALID_FROM, NOW + timedelta(hours=hours), member, STAGE
            )
            try:
                with self.session() as session:
                    coupons.issue(session, self.org.id, request, "machine")
            except LedgerError as refused:
                assert refused.code == LedgerErrorCode.BUDGET_SPENT

        @rule(
            key=st.sampled_from(KEYS),
            hold=st.sampled_from(["cart-1", "till-2"]),
            member=st.sampled_from(MEMBERS),
            minutes=st.integers(1, 30),
        )
        def hold(self, key: str, hold: str, member: uuid.UUID, minutes: int) -> None:
            coupon_id = self.coupon_id(key)
            if coupon_id is None:
                return
            try:
                with self.session() as session:
                    reserve(
                        session,
                        coupon_id,
                        hold,
                        member_id=member,
                        ttl=timedelta(minutes=minutes),
                        actor="machine",
                        now=self.now,
                    )
            except LedgerError:
                pass

        @rule(
            key=st.sampled_from(KEYS),
            member=st.sampled_from(MEMBERS),
            at_shop=st.booleans(),
            discount=st.integers(5, 60),
            hold=st.sampled_from([None, "cart-1", "till-2"]),
            again=st.booleans(),
        )
        def use(
            self,
            key: str,
            member: uuid.UUID,
            at_shop: bool,
            discount: int,
            hold: str | None,
            again: bool,
        ) -> None:
            coupon_id = self.coupon_id(key)
            if coupon_id is None:
                return
            if again and key in self.used_by:
                order = self.used_by[key]  # the till sends the same sale again
            else:
                self.orders += 1
                order = f"order-{self.orders}"
            store = self.shop if at_shop else self.org.store_ids[1]
            use = Redemption(order, store, Decimal(discount), member, hold)
            try:
                with self.session() as session:
                    redeemed = redeem(session, coupon_id, use, "machine", now=self.now)
                    assert redeemed.order_ref == order
            except LedgerError as refused:
                if key in self.used_by and self.used_by[key] != order:
                    assert refused.code == LedgerErrorCode.COUPON_ALREADY_USED
                return
            assert self.used_by.get(key, order) == order  # used once, or replayed
            self.used_by[key] = order

        @rule(key=st.sampled_from(KEYS), hold=st.sampled_from(["cart-1", "till-2"]))
        def let_go(self, key: str, hold: str) -> None:
            coupon_id = self.coupon_id(key)
            if coupon_id is not None:
                with self.session() as session:
                    release(session, coupon_id, hold, "machine")

        @rule(key=st.sampled_from(KEYS))
        def refund(self, key: str) -> None:
            coupon_id, order = self.coupon_id(key), self.used_by.get(key)
            if coupon_id is None or order is None:
                return
            with self.session() as session:
                state = restore(session, coupon_id, order, "refund", now=self.now).state
            if state == CouponState.ISSUED:
                del self.used_by[key]

        @rule(minutes=st.integers(1, 24 * 60))
        def time_passes(self, minutes: int) -> None:
            self.now += timedelta(minutes=minutes)

        @rule()
        def expiry_job(self) -> None:
            with self.session() as session:
                coupons.expire_due(session, "job", now=self.now)

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
                stage = session.scalar(select(Budget).where(Budget.store_id.is_(None)))
                shop = session.scalar(select(Budget).where(Budget.store_id == self.shop))
                assert stage is not None and shop is not None
                rows = session.execute(
                    select(Coupon.state, Coupon.store_id, Coupon.discount, Coupon.issue_key)
                ).all()
                redeemed = [r for r in rows if r.state == CouponState.REDEEMED]
                voided = [r for r in rows if r.state == CouponState.VOIDED]
                assert stage.issued == len(rows) - len(voided)
                assert stage.redeemed == len(redeemed)
                assert stage.discounted == sum((r.discount for r in redeemed), Decimal(0))
                assert shop.redeemed == sum(1 for r in redeemed if r.store_id == self.shop)
                assert {r.issue_key for r in redeemed} == set(self.used_by)
                changes = dict(
                    session.execute(
                        select(CouponLedgerEntry.change, func.count()).group_by(
                            CouponLedgerEntry.change
                        )
                    ).all()
                )
                assert changes.get("redeemed", 0) - changes.get("restored", 0) == len(redeemed)
                assert changes.get("issued", 0) == len(rows)

    run_state_machine_as_test(
        Ledgers,
        settings=settings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
