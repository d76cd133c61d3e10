"""The coupon and budget ledgers, change by change, on SQLite and PostgreSQL (exact values)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.events.models import OutboxMessage
from newretail.marketing import budgets, coupons
from newretail.marketing.errors import LedgerError, LedgerErrorCode
from newretail.marketing.models import Budget, Coupon, CouponState, RedemptionConflict
from newretail.marketing.redemption import redeem, redeem_late, release, reserve, restore
from tests.conftest import Org
from tests.marketing.ledger_helpers import (
    NOW,
    OFFER,
    STAGE,
    VALID_FROM,
    VALID_UNTIL,
    a_coupon,
    check_invariants,
    later,
    ledger,
    use,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
Code = LedgerErrorCode


def refusal(change: Callable[[], object]) -> LedgerErrorCode:
    try:
        change()
    except LedgerError as error:
        return error.code
    raise AssertionError("the ledger accepted a change it should refuse")


def test_issue_is_idempotent_by_key_and_spends_the_stage_budget_once(
    container: Container, org: Org
) -> None:
    with session_scope(container.sessions, org.id) as session:
        budgets.create_budget(session, org.id, name="main day", stage_key=STAGE, issue_limit=2)
        first = a_coupon(session, org.id, "main-day:member-1")
        again = a_coupon(session, org.id, "main-day:member-1")
        second = a_coupon(session, org.id, "main-day:member-2")
        assert again.id == first.id and second.id != first.id
        assert refusal(lambda: a_coupon(session, org.id, "main-day:member-3")) == Code.BUDGET_SPENT
        budget = session.scalar(select(Budget))
        assert budget is not None and (budget.issued, budget.redeemed) == (2, 0)
        assert session.scalar(select(func.count()).select_from(Coupon)) == 2
        assert ledger(session, first.id) == ["issued"]
        check_invariants(session)


def test_a_store_budget_limits_its_store_only(container: Container, org: Org) -> None:
    shop, counter = org.store_ids
    with session_scope(container.sessions, org.id) as session:
        budgets.create_budget(session, org.id, name="stage", stage_key=STAGE, issue_limit=10)
        budgets.create_budget(
            session, org.id, name="shop", stage_key=STAGE, store_id=shop, issue_limit=2
        )
        for n in range(2):
            a_coupon(session, org.id, f"shop-{n}", store_id=shop)
        assert refusal(lambda: a_coupon(session, org.id, "shop-2", store_id=shop)) == (
            Code.BUDGET_SPENT
        )
        for n in range(3):
            a_coupon(session, org.id, f"counter-{n}", store_id=counter)
        spent = dict(session.execute(select(Budget.name, Budget.issued)).all())
        assert spent == {"stage": 5, "shop": 2}
        check_invariants(session)


def test_one_redemption_per_coupon_and_a_resend_is_a_replay(container: Container, org: Org) -> None:
    shop = org.store_ids[0]
    with session_scope(container.sessions, org.id) as session:
        budgets.create_budget(session, org.id, name="stage", stage_key=STAGE)
        coupon = a_coupon(session, org.id, "c1")
        redeemed = redeem(session, coupon.id, use("till-1:0001", store_id=shop), "pos", now=NOW)
        assert (redeemed.state, redeemed.order_ref, redeemed.discount) == (
            CouponState.REDEEMED,
            "till-1:0001",
            Decimal("30.00"),
        )
        replay = redeem(session, coupon.id, use("till-1:0001", store_id=shop), "pos", now=NOW)
        assert replay.order_ref == "till-1:0001"
        other = use("web-7", store_id=org.store_ids[1])
        assert refusal(lambda: redeem(session, coupon.id, other, "web", now=NOW)) == (
            Code.COUPON_ALREADY_USED
        )
        budget = session.scalar(select(Budget))
        assert budget is not None
        assert (budget.issued, budget.redeemed, budget.discounted) == (1, 1, Decimal("30.00"))
        assert ledger(session, coupon.id) == ["issued", "redeemed"]
        check_invariants(session)


def test_a_reservation_holds_the_coupon_until_it_lapses(container: Container, org: Org) -> None:
    with session_scope(container.sessions, org.id) as session:
        coupon = a_coupon(session, org.id, "c1")
        reserve(
            session,
            coupon.id,
            "cart-9",
            member_id=None,
            ttl=timedelta(minutes=15),
            actor="web",
            now=NOW,
        )
        at_till = use("till-1:0002")
        assert refusal(lambda: redeem(session, coupon.id, at_till, "pos", now=later(14))) == (
            Code.COUPON_RESERVED
        )
        # the holder redeems within its hold
        held = use("order-9", reservation="cart-9")
        assert redeem(session, coupon.id, held, "web", now=later(14)).state == "redeemed"

        lapsing = a_coupon(session, org.id, "c2")
        reserve(
            session,
            lapsing.id,
            "cart-10",
            member_id=None,
            ttl=timedelta(minutes=15),
            actor="web",
            now=NOW,
        )
        # at the end of the hold it is anyone's: the till takes it
        taken = redeem(session, lapsing.id, use("till-1:0003"), "pos", now=later(15))
        assert taken.order_ref == "till-1:0003"
        released = a_coupon(session, org.id, "c3")
        reserve(
            session,
            released.id,
            "cart-11",
            member_id=None,
            ttl=timedelta(minutes=15),
            actor="web",
            now=NOW,
        )
        assert release(session, released.id, "cart-11", "web").state == "issued"
        assert release(session, released.id, "cart-11", "web").state == "issued"
        assert ledger(session, released.id) == ["issued", "reserved", "released"]
        check_invariants(session)


def test_validity_ends_at_local_midnight_in_shanghai(container: Container, org: Org) -> None:
    # valid through 2026-11-11 in Shanghai: until 2026-11-12 00:00 local = 2026-11-11 16:00 UTC
    last_second = datetime(2026, 11, 11, 23, 59, 59, tzinfo=SHANGHAI)
    midnight = datetime(2026, 11, 12, 0, 0, tzinfo=SHANGHAI)
    assert midnight == VALID_UNTIL
    with session_scope(container.sessions, org.id) as session:
        late = a_coupon(session, org.id, "late")
        assert refusal(lambda: redeem(session, late.id, use("o-1"), "pos", now=midnight)) == (
            Code.COUPON_EXPIRED
        )
        early = datetime(2026, 10, 31, 23, 59, 59, tzinfo=SHANGHAI)
        assert datetime(2026, 11, 1, 0, 0, tzinfo=SHANGHAI) == VALID_FROM
        assert refusal(lambda: redeem(session, late.id, use("o-2"), "pos", now=early)) == (
            Code.COUPON_NOT_VALID_YET
        )
        assert redeem(session, late.id, use("o-3"), "pos", now=last_second).state == ("redeemed")


def test_a_members_coupon_is_theirs_alone(container: Container, org: Org) -> None:
    owner, stranger = uuid.uuid4(), uuid.uuid4()
    with session_scope(container.sessions, org.id) as session:
        coupon = a_coupon(session, org.id, "c1", member_id=owner)
        mine = use("o-1", member_id=stranger)
        assert refusal(lambda: redeem(session, coupon.id, mine, "pos", now=NOW)) == (
            Code.COUPON_NOT_YOURS
        )
        assert redeem(session, coupon.id, use("o-2", member_id=owner), "pos", now=NOW).state == (
            "redeemed"
        )


def test_a_spent_money_budget_refuses_and_leaves_the_coupon_usable(
    container: Container, org: Org
) -> None:
    with session_scope(container.sessions, org.id) as session:
        budgets.create_budget(
            session, org.id, name="stage", stage_key=STAGE, amount_limit=Decimal("100")
        )
        first, second = a_coupon(session, org.id, "c1"), a_coupon(session, org.id, "c2")
        redeem(session, first.id, use("o-1", "60.00"), "pos", now=NOW)
        assert refusal(lambda: redeem(session, second.id, use("o-2", "50.00"), "pos", now=NOW)) == (
            Code.BUDGET_SPENT
        )
        assert coupons.get(session, second.id).state == "issued"
        assert redeem(session, second.id, use("o-3", "40.00"), "pos", now=NOW).state == ("redeemed")
        budget = session.scalar(select(Budget))
        assert budget is not None and (budget.redeemed, budget.discounted) == (2, Decimal("100.00"))
        check_invariants(session)


def test_a_refund_restores_a_valid_coupon_and_gives_the_budget_back(
    container: Container, org: Org
) -> None:
    with session_scope(container.sessions, org.id) as session:
        budgets.create_budget(session, org.id, name="stage", stage_key=STAGE)
        coupon = a_coupon(session, org.id, "c1")
        redeem(session, coupon.id, use("o-1"), "pos", now=NOW)
        assert restore(session, coupon.id, "o-1", "refund", now=later(60)).state == "issued"
        assert restore(session, coupon.id, "o-1", "refund", now=later(61)).state == "issued"
        budget = session.scalar(select(Budget))
        assert budget is not None and (budget.redeemed, budget.discounted) == (0, Decimal("0.00"))
        expired = a_coupon(session, org.id, "c2")
        redeem(session, expired.id, use("o-2"), "pos", now=NOW)
        after_validity = VALID_UNTIL + timedelta(days=1)
        assert restore(session, expired.id, "o-2", "refund", now=after_validity).state == (
            "redeemed"
        )
        assert ledger(session, coupon.id) == ["issued", "redeemed", "restored"]
        check_invariants(session)


def test_a_late_offline_redemption_of_a_used_coupon_is_a_conflict_once(
    container: Container, org: Org
) -> None:
    shop = org.store_ids[0]
    with session_scope(container.sessions, org.id) as session:
        coupon = a_coupon(session, org.id, "c1")
        redeem(session, coupon.id, use("web-1"), "web", now=later(30))
        offline = use("till-3:0042", store_id=shop)
        results = [redeem_late(session, coupon.id, offline, later(10), "till-3") for _ in range(3)]
        assert all(isinstance(r, RedemptionConflict) for r in results)
        conflicts = session.scalars(select(RedemptionConflict)).all()
        assert [(c.order_ref, c.used_by_order_ref, c.discount) for c in conflicts] == [
            ("till-3:0042", "web-1", Decimal("30.00"))
        ]
        assert coupons.get(session, coupon.id).order_ref == "web-1"
        # an unused coupon redeemed late is an ordinary redemption, valid at the time of sale
        fresh = a_coupon(session, org.id, "c2")
        done = redeem_late(session, fresh.id, offline, VALID_UNTIL - timedelta(seconds=1), "till-3")
        assert isinstance(done, Coupon) and done.redeemed_at == VALID_UNTIL - timedelta(seconds=1)
        check_invariants(session)


def test_expiry_merge_and_erasure(container: Container, org: Org) -> None:
    survivor, merged = uuid.uuid4(), uuid.uuid4()
    with session_scope(container.sessions, org.id) as session:
        budgets.create_budget(session, org.id, name="stage", stage_key=STAGE)
        a_coupon(session, org.id, "c1", member_id=merged)
        a_coupon(session, org.id, "c2", member_id=merged, valid_until=NOW)
        held = a_coupon(session, org.id, "c3", member_id=survivor)
        reserve(
            session,
            held.id,
            "cart-1",
            member_id=survivor,
            ttl=timedelta(minutes=5),
            actor="web",
            now=later(-10),
        )
        assert coupons.expire_due(session, "job", now=NOW) == 1
        assert coupons.get(session, held.id).state == "issued"  # the lapsed hold was freed
        assert len(coupons.move_member(session, [merged], survivor, "oneid")) == 2
        states = dict(
            session.execute(
                select(Coupon.issue_key, Coupon.state).where(Coupon.member_id == survivor)
            ).all()
        )
        assert states == {"c1": "issued", "c2": "expired", "c3": "issued"}
        assert coupons.void_member(session, survivor, "erasure") == 2
        budget = session.scalar(select(Budget))
        assert budget is not None and budget.issued == 1  # the two voided gave their issue back
        check_invariants(session)


def test_bearer_codes_are_random_and_kept_as_hashes(container: Container, org: Org) -> None:
    with session_scope(container.sessions, org.id) as session:
        requests = [
            coupons.Issue(OFFER, f"print-{n}", VALID_FROM, VALID_UNTIL, stage_key=None)
            for n in range(50)
        ]
        codes = coupons.issue_codes(session, org.id, requests, "print")
        assert len(set(codes)) == 50
        assert all(len(c) == 16 and set(c) <= set(coupons.CODE_ALPHABET) for c in codes)
        stored = set(session.scalars(select(Coupon.code_hash)))
        assert not stored & set(codes)
        typed = "-".join([codes[7][:8], codes[7][8:]]).lower()
        assert coupons.by_code(session, typed).issue_key == "print-7"
        assert refusal(lambda: coupons.by_code(session, "2222-2222-2222-2222")) == (
            Code.COUPON_NOT_FOUND
        )


def test_every_coupon_change_is_a_fact_in_the_outbox(container: Container, org: Org) -> None:
    member = uuid.uuid4()
    shop = org.store_ids[0]
    with session_scope(container.sessions, org.id) as session:
        budgets.create_budget(session, org.id, name="stage", stage_key=STAGE)
        used = a_coupon(session, org.id, "c1", member_id=member)
        reserve(
            session,
            used.id,
            "till-1:7",
            member_id=member,
            ttl=timedelta(minutes=5),
            actor="pos",
            now=NOW,
        )
        redeem(
            session,
            used.id,
            use("till-1:7", "25.00", store_id=shop, member_id=member),
            "pos",
            now=NOW,
        )
        restore(session, used.id, "till-1:7", "refund", now=later(5))
        a_coupon(session, org.id, "c2", member_id=member, valid_until=NOW)
        coupons.expire_due(session, "job", now=NOW)
        facts = session.execute(
            select(
                OutboxMessage.event_type,
                OutboxMessage.member_id,
                OutboxMessage.store_id,
                OutboxMessage.amount,
                OutboxMessage.properties,
            )
            .where(OutboxMessage.event_type.like("coupon_%"))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        ).all()
    campaign_id, position = STAGE.split(":")  # no such campaign or offer saved: ids only
    base = {"offer_id": str(OFFER), "campaign_id": campaign_id, "stage_position": position}
    assert [(f[0], f[1], f[2], f[3]) for f in facts] == [
        ("coupon_issued", member, None, None),
        ("coupon_reserved", member, None, None),
        ("coupon_redeemed", member, shop, Decimal("25.00")),
        ("coupon_restored", member, shop, None),
        ("coupon_issued", member, None, None),
        ("coupon_expired", member, None, None),
    ]
    assert facts[2][4] == {**base, "coupon_id": str(used.id), "order_ref": "till-1:7"}
