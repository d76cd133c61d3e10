"""The acceptance races of issue 13 through the order services on PostgreSQL, each client on
its own connection and in its own transaction: one single-use coupon named by 64 till sales
and online checkouts at once, and an offline till's sale with a coupon sent three times at
once, with and without the coupon redeemed online meanwhile."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.bootstrap import Container
from newretail.core.database import create_db_engine, make_session_factory, session_scope, utcnow
from newretail.marketing.models import Budget, RedemptionConflict
from newretail.orders import checkout, pos, schemas
from newretail.orders.models import Order
from tests.conftest import Org
from tests.marketing.ledger_helpers import check_invariants
from tests.orders.coupon_helpers import STAGE, coupon, issue, save_offers, stage_budget, totals
from tests.orders.factory import Shop, build_shop, check_ledger
from tests.orders.test_concurrency import CLIENTS, run_parallel

pytestmark = pytest.mark.postgres
CODE = "R4CE-2345-6789-WXYZ"


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Real row locks and parallel connections: PostgreSQL only."""
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def wide(container: Container) -> Iterator[Container]:
    """The same stores with a pool big enough for every client at once."""
    engine = create_db_engine(container.settings.resolved_database_url, pool_size=CLIENTS // 2)
    yield Container(container.settings, engine, make_session_factory(engine), container.warehouse)
    engine.dispose()


def till_sale(
    shop: Shop, external: str, *, offline: bool = False, store_id: uuid.UUID | None = None
) -> schemas.PosSaleCreate:
    """Three units of the first SKU at 10.00 with the coupon (30.00 → 25.00)."""
    return schemas.PosSaleCreate.model_validate(
        {
            "store_id": store_id or shop.shop_id,
            "external_order_id": external,
            "lines": [{"sku_id": shop.sku_ids[0], "quantity": 3}],
            "coupons": [CODE],
            **({"offline": True, "sold_at": utcnow() - timedelta(hours=1)} if offline else {}),
        }
    )


def web_order(shop: Shop) -> schemas.CheckoutCreate:
    """Three units online at 12.00 with the coupon (36.00 → 31.00)."""
    return schemas.CheckoutCreate.model_validate(
        {
            "store_id": shop.online_id,
            "lines": [{"sku_id": shop.sku_ids[0], "quantity": 3}],
            "coupons": [CODE],
            "paid": True,
        }
    )


def sold(result: object) -> str:
    return "sold"


def test_one_single_use_coupon_named_by_64_tills_and_checkouts_at_once(
    wide: Container,
    org: Org,
) -> None:
    shop = build_shop(wide, org, stock=1000)
    offers = save_offers(wide, shop)
    stage_budget(wide, shop, redeem_limit=10, amount_limit="100.00")
    coupon_id = issue(wide, shop, offers["SPEND-30-SAVE-5"], "one", code=CODE, stage_key=STAGE)
    jobs: list[Callable[[Session], object]] = []
    for n in range(CLIENTS):
        if n % 2:
            store = shop.shop_id if n % 4 == 1 else shop.counter_id
            data = till_sale(shop, f"till-{n}", store_id=store)
            jobs.append(lambda s, d=data: sold(pos.pos_sale(s, shop.principal, d)))
        else:
            web = web_order(shop)
            jobs.append(lambda s, d=web: sold(checkout.checkout(s, shop.principal, d)))
    results = run_parallel(wide, org.id, jobs)
    assert Counter(results) == {"sold": 1, "coupon_already_used": CLIENTS - 1}
    winner = results.index("sold")
    used = coupon(wide, shop, coupon_id)
    with session_scope(wide.sessions, org.id) as session:
        orders = session.scalars(select(Order)).all()
        assert [str(o.id) for o in orders] == [used.order_ref]
        assert [(o.channel, str(o.total_amount)) for o in orders] == [
            ("online", "31.00") if winner % 2 == 0 else (orders[0].channel, "25.00")
        ]
        budget = session.scalar(select(Budget))
        assert budget is not None
        assert (budget.redeemed, str(budget.discounted)) == (1, "5.00")
        check_invariants(session)
    assert used.state == "redeemed"
    assert totals(wide, shop) == (1, 1, 0)
    check_ledger(wide, org.id, tills_overdrew=True)


def test_an_offline_sale_with_a_coupon_sent_3_times_at_once_is_one_redemption(
    wide: Container,
    org: Org,
) -> None:
    shop = build_shop(wide, org, stock=10)
    offers = save_offers(wide, shop)
    coupon_id = issue(wide, shop, offers["SPEND-30-SAVE-5"], "one", code=CODE)
    data = till_sale(shop, "till-5-0099", offline=True)
    results = run_parallel(
        wide, org.id, [lambda s: pos.pos_sale(s, shop.principal, data).replayed] * 3
    )
    assert sorted(results, key=str) == [False, True, True]
    assert totals(wide, shop) == (1, 1, 0)
    used = coupon(wide, shop, coupon_id)
    with session_scope(wide.sessions, org.id) as session:
        order = session.scalar(select(Order))
        assert order is not None and str(order.total_amount) == "25.00"
        # redeemed as of the sale, not of its arrival
        assert (used.state, used.order_ref, used.redeemed_at) == (
            "redeemed",
            str(order.id),
            order.placed_at,
        )
        check_invariants(session)


def test_an_offline_sale_sent_3_times_after_the_coupon_was_redeemed_online(
    wide: Container,
    org: Org,
) -> None:
    shop = build_shop(wide, org, stock=10)
    offers = save_offers(wide, shop)
    coupon_id = issue(wide, shop, offers["SPEND-30-SAVE-5"], "one", code=CODE)
    with session_scope(wide.sessions, org.id) as session:
        web = checkout.checkout(session, shop.principal, web_order(shop)).order.id
    data = till_sale(shop, "till-5-0099", offline=True)
    results = run_parallel(
        wide, org.id, [lambda s: pos.pos_sale(s, shop.principal, data).replayed] * 3
    )
    assert sorted(results, key=str) == [False, True, True]
    assert totals(wide, shop) == (2, 1, 1)
    assert coupon(wide, shop, coupon_id).order_ref == str(web)
    with session_scope(wide.sessions, org.id) as session:
        till = session.scalar(select(Order.id).where(Order.external_order_id == "till-5-0099"))
        conflicts = session.execute(
            select(RedemptionConflict.order_ref, RedemptionConflict.used_by_order_ref)
        ).all()
        assert [tuple(c) for c in conflicts] == [(str(till), str(web))]
        check_invariants(session)


@pytest.mark.parametrize("run", range(3))
def test_an_offline_sale_sent_3_times_while_the_coupon_is_redeemed_online(
    run: int,
    wide: Container,
    org: Org,
) -> None:
    shop = build_shop(wide, org, stock=10)
    offers = save_offers(wide, shop)
    coupon_id = issue(wide, shop, offers["SPEND-30-SAVE-5"], "one", code=CODE)
    data = till_sale(shop, "till-5-0099", offline=True)
    jobs: list[Callable[[Session], object]] = [
        lambda s: "resent" if pos.pos_sale(s, shop.principal, data).replayed else "till"
    ] * 3
    jobs.append(lambda s: checkout.checkout(s, shop.principal, web_order(shop)) and "web")
    results = Counter(run_parallel(wide, org.id, jobs))
    used = coupon(wide, shop, coupon_id)
    with session_scope(wide.sessions, org.id) as session:
        refs = dict(session.execute(select(Order.external_order_id, Order.id)).all())
        check_invariants(session)
    till = str(refs["till-5-0099"])
    if results["web"]:  # the checkout won: the till's sale stands, one conflict for review
        assert results == {"till": 1, "resent": 2, "web": 1}
        assert used.order_ref == str(refs[None]) and totals(wide, shop) == (2, 1, 1)
    else:  # the till's sale came first: the checkout was refused
        assert results == {"till": 1, "resent": 2, "coupon_already_used": 1}
        assert used.order_ref == till and totals(wide, shop) == (1, 1, 0)
