"""Races on PostgreSQL with real parallel connections: one single-use coupon, one budget, one
store budget, an offline till's resends against an online redemption."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.database import session_scope
from newretail.marketing import budgets, coupons
from newretail.marketing.errors import LedgerError
from newretail.marketing.models import Budget, Coupon, CouponState, RedemptionConflict
from newretail.marketing.redemption import redeem, redeem_late
from tests.conftest import Org
from tests.marketing.ledger_helpers import NOW, STAGE, a_coupon, check_invariants, later, use
from tests.marketing.races import WORKERS, database_url, pg_org, postgres_sessions

pytestmark = pytest.mark.postgres
__all__ = ["database_url", "pg_org", "postgres_sessions"]


def race(workers: int, work: Callable[[int], str]) -> Counter[str]:
    """Start `workers` threads at one barrier; count what each returned."""
    barrier = threading.Barrier(workers)

    def start(n: int) -> str:
        barrier.wait()
        return work(n)

    with ThreadPoolExecutor(workers) as pool:
        return Counter(pool.map(start, range(workers)))


def attempt(
    sessions: sessionmaker[Session], org_id: uuid.UUID, change: Callable[[Session], object]
) -> str:
    try:
        with session_scope(sessions, org_id) as session:
            change(session)
    except LedgerError as error:
        return str(error.code)
    return "ok"


def test_one_single_use_coupon_redeemed_by_64_tills_and_checkouts_at_once(
    pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    with session_scope(postgres_sessions, pg_org.id) as session:
        budgets.create_budget(session, pg_org.id, name="stage", stage_key=STAGE)
        coupon_id = a_coupon(session, pg_org.id, "single").id

    def redeem_one(n: int) -> str:
        channel = "till-1" if n % 2 else "web"
        order = use(f"{channel}:{n}", store_id=pg_org.store_ids[n % 2])
        return attempt(
            postgres_sessions,
            pg_org.id,
            lambda s: redeem(s, coupon_id, order, channel, now=NOW),
        )

    outcomes = race(WORKERS, redeem_one)
    assert outcomes == Counter({"ok": 1, "coupon_already_used": WORKERS - 1})
    with session_scope(postgres_sessions, pg_org.id) as session:
        budget = session.scalar(select(Budget))
        assert budget is not None and (budget.redeemed, budget.discounted) == (1, Decimal("30.00"))
        check_invariants(session)


def test_64_issuers_against_a_budget_of_1000_issue_exactly_1000(
    pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    with session_scope(postgres_sessions, pg_org.id) as session:
        budgets.create_budget(session, pg_org.id, name="stage", stage_key=STAGE, issue_limit=1000)

    def issue_until_refused(n: int) -> str:
        issued = 0
        while True:
            key = f"bulk-{n}-{issued}"
            result = attempt(
                postgres_sessions, pg_org.id, lambda s, key=key: a_coupon(s, pg_org.id, key)
            )
            if result != "ok":
                return f"{result}:{issued}"
            issued += 1

    outcomes = race(WORKERS, issue_until_refused)
    assert {o.split(":")[0] for o in outcomes} == {"budget_spent"}
    assert sum(int(o.split(":")[1]) * k for o, k in outcomes.items()) == 1000
    with session_scope(postgres_sessions, pg_org.id) as session:
        assert session.scalar(select(func.count()).select_from(Coupon)) == 1000
        assert session.scalar(select(Budget.issued)) == 1000
        check_invariants(session)


def test_a_store_budget_of_10_redemptions_under_64_tills(
    pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    shop = pg_org.store_ids[0]
    with session_scope(postgres_sessions, pg_org.id) as session:
        budgets.create_budget(session, pg_org.id, name="stage", stage_key=STAGE)
        budgets.create_budget(
            session, pg_org.id, name="shop", stage_key=STAGE, store_id=shop, redeem_limit=10
        )
        ids = [a_coupon(session, pg_org.id, f"c{n}").id for n in range(WORKERS)]

    def redeem_one(n: int) -> str:
        order = use(f"till-{n}:1", store_id=shop)
        return attempt(
            postgres_sessions,
            pg_org.id,
            lambda s: redeem(s, ids[n], order, "pos", now=NOW),
        )

    assert race(WORKERS, redeem_one) == Counter({"ok": 10, "budget_spent": WORKERS - 10})
    with session_scope(postgres_sessions, pg_org.id) as session:
        spent = dict(session.execute(select(Budget.name, Budget.redeemed)).all())
        assert spent == {"stage": 10, "shop": 10}
        redeemed = (
            select(func.count()).select_from(Coupon).where(Coupon.state == CouponState.REDEEMED)
        )
        assert session.scalar(redeemed) == 10
        check_invariants(session)


@pytest.mark.parametrize("run", range(5))
def test_an_offline_sale_sent_three_times_while_the_coupon_is_redeemed_online(
    run: int, pg_org: Org, postgres_sessions: sessionmaker[Session]
) -> None:
    with session_scope(postgres_sessions, pg_org.id) as session:
        coupon_id = a_coupon(session, pg_org.id, "contested").id
    offline = use("till-5:0099", store_id=pg_org.store_ids[0])

    def send(n: int) -> str:
        if n == 3:  # the online checkout
            return attempt(
                postgres_sessions,
                pg_org.id,
                lambda s: redeem(s, coupon_id, use("web-1"), "web", now=later(30)),
            )
        found: list[str] = []

        def late(s: Session) -> None:
            result = redeem_late(s, coupon_id, offline, later(5), "till-5")
            found.append("conflict" if isinstance(result, RedemptionConflict) else "ok")

        refused = attempt(postgres_sessions, pg_org.id, late)
        return found[0] if refused == "ok" else refused

    outcomes = race(4, send)
    with session_scope(postgres_sessions, pg_org.id) as session:
        coupon = coupons.get(session, coupon_id)
        conflicts = session.scalars(select(RedemptionConflict)).all()
        check_invariants(session)
    assert coupon.state == CouponState.REDEEMED
    if coupon.order_ref == "web-1":  # the checkout won: the till's sale is one conflict
        assert outcomes == Counter({"ok": 1, "conflict": 3})
        assert [(c.order_ref, c.used_by_order_ref) for c in conflicts] == [("till-5:0099", "web-1")]
    else:  # the till's sale arrived first: the checkout was refused, the resends replayed
        assert coupon.order_ref == "till-5:0099"
        assert outcomes == Counter({"ok": 3, "coupon_already_used": 1})
        assert conflicts == []
