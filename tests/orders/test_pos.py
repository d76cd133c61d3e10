"""The POS sale on SQLite and PostgreSQL (one statement there): the same answers, the same
rows, the same refusals, and nothing written by a refused sale."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from newretail.bootstrap import Container
from newretail.catalog import schemas as catalog_schemas
from newretail.catalog import service as catalog_service
from newretail.core.database import session_scope, utcnow
from newretail.core.errors import InvalidInput, NotFound
from newretail.events.models import OutboxMessage
from newretail.inventory import schemas as inventory_schemas
from newretail.inventory import service as inventory_service
from newretail.inventory.models import StockMovement, StockReservation
from newretail.orders import pos, pos_postgres, reads, schemas
from newretail.orders.models import Order, OrderLine
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, StoreStatus
from tests.conftest import Org
from tests.orders.factory import Shop, build_shop, check_ledger, level, receive


def sale(
    store_id: uuid.UUID, external: str, *lines: tuple[uuid.UUID, int, str | None]
) -> schemas.PosSaleCreate:
    return schemas.PosSaleCreate(
        store_id=store_id,
        external_order_id=external,
        lines=[
            schemas.PosLineIn(
                sku_id=sku_id,
                quantity=quantity,
                unit_price=None if price is None else Decimal(price),
            )
            for sku_id, quantity, price in lines
        ],
    )


def counts(container: Container, org_id: uuid.UUID) -> tuple[int, int, int, int]:
    """Orders, lines, stock movements and outbox rows of the organisation."""
    with session_scope(container.sessions, org_id) as session:
        return (
            session.scalar(select(func.count()).select_from(Order)) or 0,
            session.scalar(select(func.count()).select_from(OrderLine)) or 0,
            session.scalar(select(func.count()).select_from(StockMovement)) or 0,
            session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
        )


def test_order_columns_come_from_the_model() -> None:
    columns = {column.name for column in Order.__table__.columns}
    assert [column.name for column in Order.__table__.columns] == pos_postgres.ORDER_COLUMNS
    assert set(pos_postgres.ORDER_PARAMETERS) == columns - set(pos_postgres.COMPUTED)
    assert set(pos_postgres.ORDER_PARAMETERS) <= set(pos_postgres.SELL_PARAMETERS)


def test_lines_events_and_stock_of_a_sale(container: Container, org: Org) -> None:
    shop = build_shop(container, org, stock=5)
    a, b = shop.sku_ids
    with session_scope(container.sessions, org.id) as session:
        result = pos.pos_sale(
            session,
            shop.principal,
            # the same SKU twice (one at the till's own price), then another one
            sale(shop.shop_id, "T-1", (b, 1, None), (a, 2, "8.5"), (b, 1, "9.99")),
        )
    order = result.order
    assert (result.replayed, result.events) == (False, ["order_placed", "purchase"])
    assert (order.channel, order.brand_id, order.status, order.total_amount) == (
        "store",
        org.brand_id,
        "fulfilled",
        Decimal("36.99"),
    )
    assert [(line.line_number, line.sku_id, line.quantity, line.unit_price, line.amount)
            for line in order.lines] == [
        (1, b, 1, Decimal("10.00"), Decimal("10.00")),
        (2, a, 2, Decimal("8.50"), Decimal("17.00")),
        (3, b, 1, Decimal("9.99"), Decimal("9.99")),
    ]  # fmt: skip
    assert level(container, org.id, a, shop.shop_id).on_hand == 3
    assert level(container, org.id, b, shop.shop_id).on_hand == 3
    with session_scope(container.sessions, org.id) as session:
        stored = reads.get_order(session, shop.principal, order.id)
        assert (stored.total_amount, stored.placed_at, stored.actor) == (
            Decimal("36.99"),
            order.placed_at,
            "test",
        )
        assert [(line.id, line.amount, line.location_id) for line in stored.lines] == [
            (line.id, line.amount, shop.shop_id) for line in order.lines
        ]
        movements = session.execute(
            select(StockMovement.sku_id, StockMovement.delta, StockMovement.reference)
            .order_by(StockMovement.reason, StockMovement.sku_id)
            .where(StockMovement.reason == "sale")
        ).all()
        assert sorted(movements) == sorted(
            [(a, -2, f"order:{order.id}"), (b, -2, f"order:{order.id}")]
        )
        events = session.scalars(select(OutboxMessage).order_by(OutboxMessage.event_type)).all()
    assert [event.event_type for event in events] == ["order_placed", "purchase"]
    for event in events:
        assert (event.amount, event.channel, event.store_id, event.brand_id, event.member_id) == (
            Decimal("36.99"),
            "store",
            shop.shop_id,
            org.brand_id,
            None,
        )
        assert event.occurred_at == order.placed_at
        assert event.properties == {
            "order_id": str(order.id),
            "external_order_id": "T-1",
            "fulfilment_type": "carry_out",
            "currency": "CNY",
            "lines": [
                {
                    "order_line_id": str(line.id),
                    "sku_id": str(line.sku_id),
                    "sku_code": shop.sku_codes[shop.sku_ids.index(line.sku_id)],
                    "product_id": event.properties["lines"][0]["product_id"],
                    "category": "skincare",
                    "brand_id": str(org.brand_id),
                    "quantity": line.quantity,
                    "unit_price": str(line.unit_price),
                    "amount": str(line.amount),
                    "location_id": str(shop.shop_id),
                }
                for line in order.lines
            ],
        }
    check_ledger(container, org.id)


def test_refused_sales_name_the_input_and_write_nothing(
    container: Container, org: Org, other_org: Org
) -> None:
    shop = build_shop(container, org, stock=5)
    a, b = shop.sku_ids
    with session_scope(container.sessions, org.id) as session:
        product = catalog_service.create_product(
            session,
            shop.principal,
            catalog_schemas.ProductCreate(brand_id=org.brand_id, code="P2", name="Tea"),
        )
        online_only = catalog_service.create_sku(
            session,
            shop.principal,
            product.id,
            catalog_schemas.SkuCreate(
                code="ONLINE-ONLY",
                name="Online only",
                channels=[ChannelType.ONLINE],
                prices={ChannelType.ONLINE: Decimal("5.00"), ChannelType.STORE: Decimal("5.00")},
            ),
        ).id
        unpriced = catalog_service.create_sku(
            session,
            shop.principal,
            product.id,
            catalog_schemas.SkuCreate(
                code="UNPRICED", name="Unpriced", prices={ChannelType.ONLINE: Decimal("5.00")}
            ),
        ).id
        catalog_service.set_store_availability(
            session,
            shop.principal,
            b,
            shop.counter_id,
            catalog_schemas.AvailabilitySet(available=False),
        )
        closed = tenancy_service.create_store(
            session,
            shop.principal,
            tenancy_schemas.StoreCreate(
                code="CLOSED", name="Closed", channel_type=ChannelType.STORE
            ),
        ).id
        tenancy_service.update_store(
            session, shop.principal, closed, tenancy_schemas.StoreUpdate(status=StoreStatus.CLOSED)
        )
        receive(session, shop.principal, shop.shop_id, [online_only, unpriced], 5)
    foreign = build_shop(container, other_org, stock=5)
    before = counts(container, org.id)
    cases: list[tuple[schemas.PosSaleCreate, type[Exception], str, str]] = [
        (sale(uuid.uuid4(), "X-1", (a, 1, None)), NotFound, "store_id", "store not found"),
        (sale(foreign.shop_id, "X-2", (a, 1, None)), NotFound, "store_id", "store not found"),
        (
            sale(shop.online_id, "X-3", (a, 1, None)),
            InvalidInput,
            "store_id",
            "this sale needs a store of type counter, popup, store, vending",
        ),
        (sale(closed, "X-4", (a, 1, None)), InvalidInput, "store_id", "the store is closed"),
        (
            sale(shop.shop_id, "X-5", (a, 1, None), (uuid.uuid4(), 1, None)),
            InvalidInput,
            "lines[1].sku_id",
            "unknown SKU in this organisation",
        ),
        (
            sale(shop.shop_id, "X-6", (foreign.sku_ids[0], 1, None)),
            InvalidInput,
            "lines[0].sku_id",
            "unknown SKU in this organisation",
        ),
        (
            sale(shop.shop_id, "X-7", (a, 1, None), (online_only, 1, None)),
            InvalidInput,
            "lines[1].sku_id",
            "SKU ONLINE-ONLY is not sold at S0",
        ),
        (
            sale(shop.counter_id, "X-8", (b, 1, None)),
            InvalidInput,
            "lines[0].sku_id",
            "SKU SKU1 is not sold at S1",
        ),
        (
            sale(shop.shop_id, "X-9", (unpriced, 1, None)),
            InvalidInput,
            "lines[0].sku_id",
            "SKU UNPRICED has no store price",
        ),
    ]
    for data, error, field, message in cases:
        with pytest.raises(error) as caught, session_scope(container.sessions, org.id) as session:
            pos.pos_sale(session, shop.principal, data)
        assert (caught.value.field, caught.value.message) == (field, message)  # type: ignore[attr-defined]
    assert counts(container, org.id) == before
    assert level(container, org.id, a, shop.shop_id).on_hand == 5
    # a till's own price sells a SKU that has no catalogue price at the store
    with session_scope(container.sessions, org.id) as session:
        order = pos.pos_sale(
            session, shop.principal, sale(shop.shop_id, "X-10", (unpriced, 2, "3.30"))
        ).order
    assert order.total_amount == Decimal("6.60")
    check_ledger(container, org.id)


def test_expired_reservations_do_not_block_a_till(container: Container, org: Org) -> None:
    shop: Shop = build_shop(container, org)
    sku = shop.sku_ids[0]
    with session_scope(container.sessions, org.id) as session:
        receive(session, shop.principal, shop.near_store_id, [sku], 3)
        held = inventory_service.reserve(
            session,
            shop.principal,
            inventory_schemas.ReservationCreate(store_id=shop.online_id, sku_id=sku, quantity=3),
        )
        assert held.location_id == shop.near_store_id
        session.execute(
            update(StockReservation)
            .where(StockReservation.id == held.id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    with session_scope(container.sessions, org.id) as session:
        result = pos.pos_sale(
            session, shop.principal, sale(shop.near_store_id, "R-1", (sku, 3, None))
        )
    assert result.order.total_amount == Decimal("30.00")
    stock = level(container, org.id, sku, shop.near_store_id)
    assert (stock.on_hand, stock.reserved) == (0, 0)
    with session_scope(container.sessions, org.id) as session:
        status = session.scalar(
            select(StockReservation.status).where(StockReservation.id == held.id)
        )
    assert status == "expired"
    check_ledger(container, org.id)


def test_a_member_enrolled_at_the_till_is_on_the_order_and_its_events(
    container: Container, org: Org
) -> None:
    shop = build_shop(container, org, stock=5)
    data: dict[str, Any] = {
        "store_id": str(shop.shop_id),
        "external_order_id": "M-1",
        "lines": [{"sku_id": str(shop.sku_ids[0]), "quantity": 1}],
        "member": {"type": "member_card", "value": "CARD-0001"},
    }
    with session_scope(container.sessions, org.id) as session:
        order = pos.pos_sale(
            session, shop.principal, schemas.PosSaleCreate.model_validate(data)
        ).order
    assert order.member_id is not None
    with session_scope(container.sessions, org.id) as session:
        stored = session.get(Order, order.id)
        assert stored is not None and stored.member_id == order.member_id
        members = session.scalars(select(OutboxMessage.member_id).where(
            OutboxMessage.event_type.in_(["order_placed", "purchase"])
        )).all()  # fmt: skip
    assert members == [order.member_id, order.member_id]
