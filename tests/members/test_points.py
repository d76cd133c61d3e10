"""The points ledger: awards, the return window, expiry, FIFO redemption and reversal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.events.models import OutboxMessage
from newretail.members import points, schemas, service
from newretail.members.errors import InsufficientPoints
from newretail.members.models import LedgerKind, Member, PointsLedgerEntry, PointsLot
from tests.conftest import Org
from tests.members.conftest import org_session, owner_of

T0 = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
P2 = uuid.UUID("00000000-0000-0000-0000-0000000000b2")


def line(line_id: str, amount: str, product_id: uuid.UUID | None = None) -> schemas.OrderLine:
    return schemas.OrderLine(
        line_id=line_id, product_id=str(product_id) if product_id else None, amount=Decimal(amount)
    )


def setup_member(
    container: Container,
    org: Org,
    *,
    return_window_days: int = 7,
    expiry_mode: str = "year_end",
    expiry_days: int = 365,
) -> uuid.UUID:
    """A member, an earn rule (1 point per yuan, product P2 doubled) and the settings."""
    with org_session(container, org) as session:
        owner = owner_of(org)
        points.create_earn_rule(
            session,
            owner,
            schemas.EarnRuleCreate(
                brand_id=org.brand_id,
                points_per_unit=Decimal(1),
                product_multipliers={str(P2): Decimal(2)},
            ),
        )
        points.update_settings(
            session,
            owner,
            schemas.SettingsUpdate.model_validate(
                {
                    "return_window_days": return_window_days,
                    "expiry_mode": expiry_mode,
                    "expiry_days": expiry_days,
                }
            ),
        )
        member = service.create_member(session, owner, schemas.MemberCreate(name="Li Lei"))
        return member.id


def award(
    container: Container,
    org: Org,
    member_id: uuid.UUID,
    order_id: uuid.UUID,
    paid_at: datetime,
    lines: list[schemas.OrderLine],
) -> int:
    with org_session(container, org) as session:
        result = points.award_order_points(
            session,
            org.id,
            member_id,
            order_id=order_id,
            brand_id=org.brand_id,
            paid_at=paid_at,
            lines=lines,
        )
        return result.points


def balance(container: Container, org: Org, member_id: uuid.UUID) -> tuple[int, int]:
    """The stored balance: the ledger as the jobs of the simulated clock left it."""
    with org_session(container, org) as session:
        assert points.check_invariants(session, member_id) == []
        member = session.get(Member, member_id)
        assert member is not None
        return member.points_available, member.points_locked


def test_the_balance_is_as_of_now_before_the_jobs_run(container: Container, org: Org) -> None:
    member_id = setup_member(
        container, org, return_window_days=7, expiry_mode="days", expiry_days=30
    )
    now = datetime.now(UTC).replace(microsecond=0)
    for days_ago, amount in ((40, "100"), (8, "20"), (1, "3")):
        award(
            container,
            org,
            member_id,
            uuid.uuid4(),
            now - timedelta(days=days_ago),
            [line("L1", amount)],
        )
    # no job has run: every lot is still locked in the ledger
    assert balance(container, org, member_id) == (0, 123)
    with org_session(container, org) as session:
        found = points.points_balance(session, owner_of(org), member_id, now)
    # 100 expired 10 days ago, 20 left the return window a day ago, 3 are still locked
    assert (found.available, found.locked) == (20, 3)
    assert (found.next_expiry_at, found.next_expiry_points) == (now + timedelta(days=22), 20)
    with org_session(container, org) as session:
        assert points.release_locked_points(session, now) == 2
        assert points.expire_points(session, now) == 1
    assert balance(container, org, member_id) == (20, 3)
    with org_session(container, org) as session:
        again = points.points_balance(session, owner_of(org), member_id, now)
    assert (again.available, again.locked, again.next_expiry_at) == (20, 3, found.next_expiry_at)


def test_award_is_idempotent_per_order(container: Container, org: Org) -> None:
    member_id = setup_member(container, org)
    order_id = uuid.uuid4()
    lines = [line("L1", "100.00"), line("L2", "50.00", P2)]
    assert award(container, org, member_id, order_id, T0, lines) == 200
    assert award(container, org, member_id, order_id, T0, lines) == 200
    assert balance(container, org, member_id) == (0, 200)
    with org_session(container, org) as session:
        kinds = session.scalars(
            select(PointsLedgerEntry.kind).where(PointsLedgerEntry.member_id == member_id)
        ).all()
        assert kinds == ["earn"]
        events = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.member_id == member_id, OutboxMessage.event_type == "points_changed"
            )
        )
        assert events == 1


def test_points_unlock_when_the_return_window_ends(container: Container, org: Org) -> None:
    member_id = setup_member(container, org, return_window_days=7)
    award(container, org, member_id, uuid.uuid4(), T0, [line("L1", "80.50")])
    with org_session(container, org) as session:
        assert points.release_locked_points(session, T0 + timedelta(days=7, seconds=-1)) == 0
    assert balance(container, org, member_id) == (0, 80)
    with org_session(container, org) as session:
        assert points.release_locked_points(session, T0 + timedelta(days=7)) == 1
        assert points.release_locked_points(session, T0 + timedelta(days=8)) == 0
    assert balance(container, org, member_id) == (80, 0)


def test_points_expire_n_days_after_earning(container: Container, org: Org) -> None:
    member_id = setup_member(
        container, org, return_window_days=0, expiry_mode="days", expiry_days=30
    )
    award(container, org, member_id, uuid.uuid4(), T0, [line("L1", "120")])
    assert balance(container, org, member_id) == (120, 0)
    with org_session(container, org) as session:
        assert points.expire_points(session, T0 + timedelta(days=30, seconds=-1)) == 0
    assert balance(container, org, member_id) == (120, 0)
    with org_session(container, org) as session:
        assert points.expire_points(session, T0 + timedelta(days=30)) == 1
    assert balance(container, org, member_id) == (0, 0)


def test_points_expire_at_the_end_of_the_year_of_earning(container: Container, org: Org) -> None:
    member_id = setup_member(container, org, expiry_mode="year_end")
    award(container, org, member_id, uuid.uuid4(), T0, [line("L1", "60")])
    # the end of 2026 in Shanghai (UTC+8) is 2026-12-31 16:00 UTC; still locked? no: unlock first
    year_end = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    with org_session(container, org) as session:
        assert points.release_locked_points(session, T0 + timedelta(days=7)) == 1
        assert points.expire_points(session, year_end - timedelta(seconds=1)) == 0
    assert balance(container, org, member_id) == (60, 0)
    with org_session(container, org) as session:
        assert points.expire_points(session, year_end) == 1
    assert balance(container, org, member_id) == (0, 0)


def test_redemption_takes_the_soonest_expiring_points_first(container: Container, org: Org) -> None:
    member_id = setup_member(
        container, org, return_window_days=0, expiry_mode="days", expiry_days=365
    )
    award(container, org, member_id, uuid.uuid4(), T0, [line("L1", "100")])  # expires T0+365d
    with org_session(container, org) as session:
        points.update_settings(session, owner_of(org), schemas.SettingsUpdate(expiry_days=30))
    award(container, org, member_id, uuid.uuid4(), T0 + timedelta(days=10), [line("L1", "50")])
    with org_session(container, org) as session:
        points.redeem_points(
            session, org.id, member_id, points=60, actor="pos", now=T0 + timedelta(days=20)
        )
    with org_session(container, org) as session:
        lots = session.scalars(
            select(PointsLot).where(PointsLot.member_id == member_id).order_by(PointsLot.earned_at)
        ).all()
        assert [(lot.points, lot.remaining, lot.state) for lot in lots] == [
            (100, 90, "available"),
            (50, 0, "closed"),
        ]
    assert balance(container, org, member_id) == (90, 0)


def test_redeeming_more_than_available_fails(container: Container, org: Org) -> None:
    member_id = setup_member(container, org, return_window_days=0)
    award(container, org, member_id, uuid.uuid4(), T0, [line("L1", "30")])
    with pytest.raises(InsufficientPoints) as raised, org_session(container, org) as session:
        points.redeem_points(session, org.id, member_id, points=31, now=T0 + timedelta(days=1))
    assert raised.value.code == "insufficient_points"
    assert raised.value.field == "points"
    assert balance(container, org, member_id) == (30, 0)


def test_reversal_of_one_refunded_line_is_proportional_and_once(
    container: Container, org: Org
) -> None:
    member_id = setup_member(container, org)
    order_id = uuid.uuid4()
    award(container, org, member_id, order_id, T0, [line("L1", "100"), line("L2", "50", P2)])
    refund_id = uuid.uuid4()
    for _ in range(2):
        with org_session(container, org) as session:
            reversal = points.reverse_order_points(
                session,
                org.id,
                member_id,
                order_id=order_id,
                refund_id=refund_id,
                refunded_lines=[schemas.RefundedLine(line_id="L2", amount=Decimal("25"))],
                occurred_at=T0 + timedelta(days=1),
            )
            assert reversal is not None
            assert reversal.points == 50
    assert balance(container, org, member_id) == (0, 150)
    with org_session(container, org) as session:
        points.reverse_order_points(
            session,
            org.id,
            member_id,
            order_id=order_id,
            refund_id=uuid.uuid4(),
            refunded_lines=[schemas.RefundedLine(line_id="L2", amount=Decimal("25"))],
            occurred_at=T0 + timedelta(days=2),
        )
        kinds = session.scalars(
            select(PointsLedgerEntry.kind)
            .where(PointsLedgerEntry.member_id == member_id)
            .order_by(PointsLedgerEntry.created_at)
        ).all()
        assert kinds == [LedgerKind.EARN, LedgerKind.REVERSE, LedgerKind.REVERSE]
    assert balance(container, org, member_id) == (0, 100)
