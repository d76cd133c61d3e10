"""Real parallel connections on PostgreSQL: no oversell, idempotent POS resends."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from newretail.bootstrap import Container
from newretail.core.database import create_db_engine, make_session_factory, session_scope
from newretail.core.errors import NewRetailError
from newretail.inventory import schemas as inventory_schemas
from newretail.inventory import service as inventory_service
from newretail.inventory.models import StockReservation
from newretail.orders import checkout, pos, schemas
from newretail.orders.models import Order
from tests.conftest import Org
from tests.orders.factory import Shop, build_shop, check_ledger, level, receive

CLIENTS = 64


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """These tests need real row locks: PostgreSQL only."""
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def wide(container: Container) -> Iterator[Container]:
    """The same stores with a pool big enough for every client at once."""
    engine = create_db_engine(container.settings.resolved_database_url, pool_size=CLIENTS // 2)
    yield Container(container.settings, engine, make_session_factory(engine), container.warehouse)
    engine.dispose()


def run_parallel(
    container: Container, org_id: uuid.UUID, jobs: list[Callable[[Session], object]]
) -> list[object]:
    """Run each job in its own thread and transaction, all released at once."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def worker(index: int) -> None:
        barrier.wait()
        try:
            with session_scope(container.sessions, org_id) as session:
                results[index] = jobs[index](session)
        except NewRetailError as exc:
            results[index] = exc.code
        except Exception as exc:  # surfaced by the assertions below
            results[index] = repr(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def buyers(
    shop: Shop, sku: uuid.UUID, count: int, tills: bool = False
) -> list[Callable[[Session], object]]:
    """Online buyers (strict stock); with `tills`, every other one a POS sale of goods in hand
    (recorded whatever the system stock says, issue 11)."""
    jobs: list[Callable[[Session], object]] = []
    for i in range(count):
        if tills and i % 2:
            data_pos = schemas.PosSaleCreate(
                store_id=shop.shop_id,
                external_order_id=f"till-{i}",
                lines=[schemas.PosLineIn(sku_id=sku, quantity=1)],
            )
            jobs.append(lambda s, d=data_pos: pos.pos_sale(s, shop.principal, d) and "sold")
        else:
            data_web = schemas.CheckoutCreate(
                store_id=shop.online_id, lines=[schemas.CheckoutLineIn(sku_id=sku, quantity=1)]
            )
            jobs.append(lambda s, d=data_web: checkout.checkout(s, shop.principal, d) and "sold")
    return jobs


def last_units_shop(container: Container, org: Org, units: int) -> Shop:
    shop = build_shop(container, org)
    with session_scope(container.sessions, org.id) as session:
        receive(session, shop.principal, shop.shop_id, [shop.sku_ids[0]], units)
        inventory_service.set_location_policy(
            session,
            shop.principal,
            shop.shop_id,
            inventory_schemas.LocationPolicySet(fulfils_online=True),
        )
    return shop


def test_64_clients_buy_the_last_10_units(wide: Container, org: Org) -> None:
    shop = last_units_shop(wide, org, 10)
    sku = shop.sku_ids[0]
    results = run_parallel(wide, org.id, buyers(shop, sku, CLIENTS))
    assert Counter(results) == {"sold": 10, "out_of_stock": CLIENTS - 10}
    row = level(wide, org.id, sku, shop.shop_id)
    assert row.on_hand - row.allocated - row.reserved == 0
    assert row.on_hand >= 0
    check_ledger(wide, org.id)


def test_64_tills_sell_goods_in_hand_while_online_buyers_race(wide: Container, org: Org) -> None:
    """Every till sale is recorded (no lost update of on-hand); online buyers never take more
    than the units the system holds."""
    shop = last_units_shop(wide, org, 10)
    sku = shop.sku_ids[0]
    results = run_parallel(wide, org.id, buyers(shop, sku, CLIENTS, tills=True))
    tills, online = results[1::2], results[0::2]
    assert tills == ["sold"] * (CLIENTS // 2)
    assert set(online) <= {"sold", "out_of_stock"}
    row = level(wide, org.id, sku, shop.shop_id)
    assert row.on_hand == 10 - CLIENTS // 2
    assert row.allocated == online.count("sold") <= 10
    check_ledger(wide, org.id, tills_overdrew=True)


def test_buyers_race_expired_and_live_reservations(wide: Container, org: Org) -> None:
    shop = last_units_shop(wide, org, 10)
    sku = shop.sku_ids[0]
    with session_scope(wide.sessions, org.id) as session:
        held = [
            inventory_service.reserve(
                session,
                shop.principal,
                inventory_schemas.ReservationCreate(
                    store_id=shop.online_id, sku_id=sku, quantity=q
                ),
            )
            for q in (3, 1, 2)
        ]
        # the first two lapsed; the third (2 units) is still held by its cart
        for reservation in held[:2]:
            session.execute(
                update(StockReservation)
                .where(StockReservation.id == reservation.id)
                .values(expires_at=reservation.expires_at - timedelta(hours=1))
            )
    live = held[2]
    jobs = buyers(shop, sku, CLIENTS - 1)
    cart = schemas.CheckoutCreate(
        store_id=shop.online_id,
        lines=[schemas.CheckoutLineIn(sku_id=sku, quantity=2, reservation_id=live.id)],
    )
    jobs.append(lambda s: checkout.checkout(s, shop.principal, cart) and "cart")
    results = run_parallel(wide, org.id, jobs)
    assert Counter(results) == {"sold": 8, "cart": 1, "out_of_stock": CLIENTS - 9}
    row = level(wide, org.id, sku, shop.shop_id)
    assert (row.on_hand - row.allocated - row.reserved, row.reserved) == (0, 0)
    with session_scope(wide.sessions, org.id) as session:
        statuses = dict(
            session.execute(
                select(StockReservation.id, StockReservation.status).where(
                    StockReservation.id.in_([h.id for h in held])
                )
            ).all()
        )
    assert statuses == {held[0].id: "expired", held[1].id: "expired", live.id: "consumed"}
    check_ledger(wide, org.id)


def test_the_same_pos_order_sent_3_times_at_once_is_one_order(wide: Container, org: Org) -> None:
    shop = build_shop(wide, org, stock=5)
    sku = shop.sku_ids[0]
    data = schemas.PosSaleCreate(
        store_id=shop.shop_id,
        external_order_id="till-7-000123",
        lines=[schemas.PosLineIn(sku_id=sku, quantity=2)],
    )
    results = run_parallel(
        wide,
        org.id,
        [lambda s: pos.pos_sale(s, shop.principal, data).replayed for _ in range(3)],
    )
    assert sorted(results, key=str) == [False, True, True]
    assert level(wide, org.id, sku, shop.shop_id).on_hand == 3
    with session_scope(wide.sessions, org.id) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
    check_ledger(wide, org.id)
