"""Ledger invariants under random operations, and redemptions racing on real connections."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from newretail.bootstrap import Container
from newretail.members import points, schemas, service
from newretail.members.errors import InsufficientPoints
from tests.conftest import Org
from tests.members.conftest import org_session, owner_of

START = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)


def test_ledger_invariants_hold_under_random_operations(container: Container, org: Org) -> None:
    with org_session(container, org) as session:
        owner = owner_of(org)
        points.create_earn_rule(
            session,
            owner,
            schemas.EarnRuleCreate(brand_id=org.brand_id, points_per_unit=Decimal(1)),
        )
        points.update_settings(
            session,
            owner,
            schemas.SettingsUpdate.model_validate(
                {"return_window_days": 7, "expiry_mode": "days", "expiry_days": 30}
            ),
        )

    class Ledger(RuleBasedStateMachine):
        @initialize()
        def new_member(self) -> None:
            with org_session(container, org) as session:
                self.member_id = service.create_member(
                    session, owner_of(org), schemas.MemberCreate()
                ).id
            self.now = START
            self.orders: list[tuple[uuid.UUID, Decimal]] = []

        @rule(amount=st.integers(min_value=1, max_value=400))
        def earn(self, amount: int) -> None:
            order_id = uuid.uuid4()
            with org_session(container, org) as session:
                award = points.award_order_points(
                    session,
                    org.id,
                    self.member_id,
                    order_id=order_id,
                    brand_id=org.brand_id,
                    paid_at=self.now,
                    lines=[schemas.OrderLine(line_id="1", amount=Decimal(amount))],
                )
                assert award.points == amount
            self.orders.append((order_id, Decimal(amount)))

        @precondition(lambda self: bool(self.orders))
        @rule(data=st.data(), share=st.integers(min_value=1, max_value=100))
        def refund(self, data: st.DataObject, share: int) -> None:
            order_id, amount = data.draw(st.sampled_from(self.orders))
            with org_session(container, org) as session:
                points.reverse_order_points(
                    session,
                    org.id,
                    self.member_id,
                    order_id=order_id,
                    refund_id=uuid.uuid4(),
                    refunded_lines=[schemas.RefundedLine(line_id="1", amount=amount * share / 100)],
                    occurred_at=self.now,
                )

        @rule(days=st.integers(min_value=0, max_value=20))
        def advance(self, days: int) -> None:
            self.now += timedelta(days=days)

        @rule()
        def unlock(self) -> None:
            with org_session(container, org) as session:
                points.release_locked_points(session, self.now)

        @rule()
        def expire(self) -> None:
            with org_session(container, org) as session:
                points.expire_points(session, self.now)

        @rule(wanted=st.integers(min_value=1, max_value=300))
        def redeem(self, wanted: int) -> None:
            with org_session(container, org) as session:
                before = points.points_balance(session, owner_of(org), self.member_id).available
            try:
                with org_session(container, org) as session:
                    entry = points.redeem_points(
                        session, org.id, self.member_id, points=wanted, now=self.now
                    )
                    assert entry.available_delta == -wanted
                    assert entry.available_after >= 0
            except InsufficientPoints:
                with org_session(container, org) as session:
                    after = points.points_balance(session, owner_of(org), self.member_id)
                    assert after.available == before  # the failed redemption changed nothing

        @invariant()
        def ledger_is_sound(self) -> None:
            with org_session(container, org) as session:
                assert points.check_invariants(session, self.member_id) == []

    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=8,
            stateful_step_count=12,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_concurrent_redemptions_never_overspend(container: Container, org: Org) -> None:
    with org_session(container, org) as session:
        member_id = service.create_member(session, owner_of(org), schemas.MemberCreate()).id
        points.grant_points(session, org.id, member_id, points=100, actor="test")
    workers = 8
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def redeem() -> None:
        barrier.wait()
        try:
            with org_session(container, org) as session:
                points.redeem_points(session, org.id, member_id, points=30, actor="race")
            outcome = "ok"
        except InsufficientPoints:
            outcome = "insufficient"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=redeem) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["insufficient"] * 5 + ["ok"] * 3
    with org_session(container, org) as session:
        balance = points.points_balance(session, owner_of(org), member_id)
        assert (balance.available, balance.locked) == (10, 0)
        assert points.check_invariants(session, member_id) == []
