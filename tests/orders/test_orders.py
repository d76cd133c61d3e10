"""The order ledger on SQLite and PostgreSQL: POS, checkout, refunds, cancel, outbox."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.events.models import OutboxMessage
from newretail.inventory import schemas as inventory_schemas
from newretail.inventory import service as inventory_service
from newretail.inventory.errors import OutOfStock
from newretail.orders import checkout as checkout_service
from newretail.orders import pos as pos_service
from newretail.orders import reads, refunds, schemas, transitions
from newretail.orders.models import Order
from tests.conftest import Org
from tests.orders.factory import build_shop, check_ledger, level


def pos(
    shop_id: uuid.UUID, external: str, sku_id: uuid.UUID, quantity: int = 1
) -> schemas.PosSaleCreate:
    return schemas.PosSaleCreate(
        store_id=shop_id,
        external_order_id=external,
        lines=[schemas.PosLineIn(sku_id=sku_id, quantity=quantity)],
    )


def test_pos_sale_takes_stock_and_resend_is_one_order(container: Container, org: Org) -> None:
    shop = build_shop(container, org, stock=5)
    sku = shop.sku_ids[0]
    for attempt in range(3):
        with session_scope(container.sessions, org.id) as session:
            result = pos_service.pos_sale(
                session, shop.principal, pos(shop.shop_id, "T1-0001", sku, 2)
            )
            assert result.replayed is (attempt > 0)
            assert result.order.total_amount == 20
    assert level(container, org.id, sku, shop.shop_id).on_hand == 3
    with session_scope(container.sessions, org.id) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        events = session.scalars(
            select(OutboxMessage.event_type).order_by(OutboxMessage.event_type)
        ).all()
        assert events == ["order_placed", "purchase"]
    check_ledger(container, org.id)


def test_out_of_stock_names_the_sku(container: Container, org: Org) -> None:
    # online orders stay strict; a POS sale of goods in hand is recorded beyond the system's
    # stock (issue 11: tests/orders/test_pos.py, test_api.py)
    shop = build_shop(container, org, stock=1)
    online = schemas.CheckoutCreate(
        store_id=shop.online_id,
        lines=[schemas.CheckoutLineIn(sku_id=shop.sku_ids[1], quantity=2)],
        external_order_id="W-2",
    )
    with pytest.raises(OutOfStock) as caught, session_scope(container.sessions, org.id) as session:
        checkout_service.checkout(session, shop.principal, online)
    assert caught.value.code == "out_of_stock"
    assert "SKU1" in caught.value.message
    assert level(container, org.id, shop.sku_ids[1], shop.shop_id).on_hand == 1


def test_refund_of_one_line_returns_stock_to_its_location(container: Container, org: Org) -> None:
    shop = build_shop(container, org, stock=5)
    a, b = shop.sku_ids
    with session_scope(container.sessions, org.id) as session:
        order = pos_service.pos_sale(
            session,
            shop.principal,
            schemas.PosSaleCreate(
                store_id=shop.counter_id,
                external_order_id="C-1",
                lines=[
                    schemas.PosLineIn(sku_id=a, quantity=2),
                    schemas.PosLineIn(sku_id=b, quantity=1),
                ],
            ),
        ).order
        line_a = next(line for line in order.lines if line.sku_id == a)
    assert level(container, org.id, a, shop.counter_id).on_hand == 3
    with session_scope(container.sessions, org.id) as session:
        refund = refunds.refund(
            session,
            shop.principal,
            order.id,
            schemas.RefundCreate(lines=[schemas.RefundLineIn(order_line_id=line_a.id, quantity=1)]),
        )
        assert refund.amount == 10
    assert level(container, org.id, a, shop.counter_id).on_hand == 4
    assert level(container, org.id, b, shop.counter_id).on_hand == 4
    assert level(container, org.id, a, shop.shop_id).on_hand == 5
    with session_scope(container.sessions, org.id) as session:
        current = reads.get_order(session, shop.principal, order.id)
        assert current.status == "partially_refunded"
        assert current.refunded_amount == 10
        refunds.refund(session, shop.principal, order.id, schemas.RefundCreate())
    with session_scope(container.sessions, org.id) as session:
        current = reads.get_order(session, shop.principal, order.id)
        assert (current.status, current.refunded_amount) == ("refunded", 30)
    assert level(container, org.id, a, shop.counter_id).on_hand == 5
    check_ledger(container, org.id)


def test_checkout_allocates_nearest_store_then_warehouse(container: Container, org: Org) -> None:
    shop = build_shop(container, org)
    sku = shop.sku_ids[0]
    with session_scope(container.sessions, org.id) as session:
        from tests.orders.factory import receive

        receive(session, shop.principal, shop.near_store_id, [sku], 1)
        receive(session, shop.principal, shop.warehouse_id, [sku], 5)
    checkout = schemas.CheckoutCreate(
        store_id=shop.online_id,
        lines=[schemas.CheckoutLineIn(sku_id=sku, quantity=1)],
        latitude=31.23,
        longitude=121.47,
    )
    with session_scope(container.sessions, org.id) as session:
        first = checkout_service.checkout(session, shop.principal, checkout).order
        second = checkout_service.checkout(session, shop.principal, checkout).order
    assert first.lines[0].location_id == shop.near_store_id
    assert second.lines[0].location_id == shop.warehouse_id
    assert first.total_amount == 12
    near = level(container, org.id, sku, shop.near_store_id)
    assert (near.on_hand, near.allocated) == (1, 1)
    with session_scope(container.sessions, org.id) as session:
        transitions.cancel(session, shop.principal, second.id)
        transitions.pay(session, shop.principal, first.id)
        done = transitions.fulfil(session, shop.principal, first.id)
        assert done.status == "fulfilled"
    near = level(container, org.id, sku, shop.near_store_id)
    assert (near.on_hand, near.allocated) == (0, 0)
    warehouse = level(container, org.id, sku, shop.warehouse_id)
    assert (warehouse.on_hand, warehouse.allocated) == (5, 0)
    check_ledger(container, org.id)


def test_reservation_is_consumed_at_checkout_and_expired_ones_do_not_block(
    container: Container, org: Org
) -> None:
    shop = build_shop(container, org)
    sku = shop.sku_ids[0]
    with session_scope(container.sessions, org.id) as session:
        from tests.orders.factory import receive

        receive(session, shop.principal, shop.warehouse_id, [sku], 2)
        held = inventory_service.reserve(
            session,
            shop.principal,
            inventory_schemas.ReservationCreate(store_id=shop.online_id, sku_id=sku, quantity=2),
        )
        assert held.location_id == shop.warehouse_id
    with pytest.raises(OutOfStock), session_scope(container.sessions, org.id) as session:
        pos_service.pos_sale  # noqa: B018
        checkout_service.checkout(
            session,
            shop.principal,
            schemas.CheckoutCreate(
                store_id=shop.online_id, lines=[schemas.CheckoutLineIn(sku_id=sku, quantity=1)]
            ),
        )
    with session_scope(container.sessions, org.id) as session:
        order = checkout_service.checkout(
            session,
            shop.principal,
            schemas.CheckoutCreate(
                store_id=shop.online_id,
                lines=[schemas.CheckoutLineIn(sku_id=sku, quantity=2, reservation_id=held.id)],
                paid=True,
            ),
        ).order
        assert order.status == "paid"
    row = level(container, org.id, sku, shop.warehouse_id)
    assert (row.on_hand, row.allocated, row.reserved) == (2, 2, 0)
    # an expired reservation gives its units back to the next buyer
    with session_scope(container.sessions, org.id) as session:
        transitions.cancel(session, shop.principal, order.id)
        expired = inventory_service.reserve(
            session,
            shop.principal,
            inventory_schemas.ReservationCreate(
                store_id=shop.online_id, sku_id=sku, quantity=2, ttl_seconds=1
            ),
        )
        from datetime import timedelta

        from sqlalchemy import update

        from newretail.inventory.models import StockReservation

        session.execute(
            update(StockReservation)
            .where(StockReservation.id == expired.id)
            .values(expires_at=expired.expires_at - timedelta(hours=1))
        )
    with session_scope(container.sessions, org.id) as session:
        again = checkout_service.checkout(
            session,
            shop.principal,
            schemas.CheckoutCreate(
                store_id=shop.online_id, lines=[schemas.CheckoutLineIn(sku_id=sku, quantity=2)]
            ),
        ).order
        assert again.lines[0].location_id == shop.warehouse_id
    row = level(container, org.id, sku, shop.warehouse_id)
    assert (row.on_hand, row.allocated, row.reserved) == (2, 2, 0)
    check_ledger(container, org.id)
