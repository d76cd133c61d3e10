"""One `purchase` event shape whatever the channel and the entry point (issue 12, scope 1):
the same SKU sold at every channel type through the till (POS: store, counter, pop-up,
vending), checkout (online, cloud shelf; paid) and the CSV import (every channel type), on
SQLite and on PostgreSQL (whose till sale is one SQL statement): the stored events have the
same keys, and the same values for what describes the sale (docs/collector.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.catalog import schemas as catalog_schemas
from newretail.catalog import service as catalog_service
from newretail.core.database import session_scope
from newretail.events.models import OutboxMessage
from newretail.orders import checkout, importing, pos, schemas
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType
from tests.conftest import Org
from tests.orders.factory import build_shop

POS_TYPES = [ChannelType.STORE, ChannelType.COUNTER, ChannelType.POPUP, ChannelType.VENDING]
CHECKOUT_TYPES = [ChannelType.ONLINE, ChannelType.CLOUD_SHELF]
SALE_KEYS = {"order_id", "external_order_id", "fulfilment_type", "currency", "lines"}
LINE_KEYS = {
    "order_line_id",
    "sku_id",
    "sku_code",
    "product_id",
    "category",
    "brand_id",
    "quantity",
    "unit_price",
    "amount",
    "location_id",
}
# what differs by nature between two sales of the same goods: their ids, and where the
# units left from (the till's store; the allocated location; none for imported history)
PER_SALE = {"order_id", "external_order_id", "order_line_id", "location_id", "fulfilment_type"}


def test_one_purchase_shape_for_every_channel_and_entry_point(
    container: Container, org: Org, tmp_path: Path
) -> None:
    shop = build_shop(container, org, stock=20)
    sku = shop.sku_ids[0]
    principal = shop.principal
    with session_scope(container.sessions, org.id) as session:
        catalog_service.set_prices(
            session,
            principal,
            sku,
            catalog_schemas.PricesSet(
                prices={c: Decimal("10.00") for c in ChannelType if c != ChannelType.WAREHOUSE}
            ),
        )
        stores = {
            ChannelType.STORE: shop.shop_id,
            ChannelType.COUNTER: shop.counter_id,
            ChannelType.ONLINE: shop.online_id,
        }
        for channel in (ChannelType.POPUP, ChannelType.VENDING, ChannelType.CLOUD_SHELF):
            stores[channel] = tenancy_service.create_store(
                session,
                principal,
                tenancy_schemas.StoreCreate(
                    code=channel.value.upper(),
                    name=channel.value,
                    channel_type=channel,
                    brand_id=org.brand_id,
                ),
            ).id
    codes = {}
    with session_scope(container.sessions, org.id) as session:
        for channel in POS_TYPES:
            order = pos.pos_sale(
                session,
                principal,
                schemas.PosSaleCreate(
                    store_id=stores[channel],
                    external_order_id=f"TILL-{channel.value}",
                    sold_at="2026-11-11T00:30:00+08:00",  # type: ignore[arg-type]
                    lines=[schemas.PosLineIn(sku_id=sku, quantity=2)],
                ),
            ).order
            codes[order.id] = ("till", channel)
        for channel in CHECKOUT_TYPES:
            order = checkout.checkout(
                session,
                principal,
                schemas.CheckoutCreate(
                    store_id=stores[channel],
                    external_order_id=f"WEB-{channel.value}",
                    paid=True,
                    lines=[schemas.CheckoutLineIn(sku_id=sku, quantity=2)],
                ),
            ).order
            codes[order.id] = ("checkout", channel)
        store_codes = {
            channel: tenancy_service.get_store(session, principal, store_id).code
            for channel, store_id in stores.items()
        }
    csv = ["external_order_id,store,ordered_at,sku,quantity,unit_price"]
    for channel in ChannelType:
        if channel != ChannelType.WAREHOUSE:
            csv.append(
                f"CSV-{channel.value},{store_codes[channel]},2026-11-11T00:30:00+08:00,"
                f"{shop.sku_codes[0]},2,10.00"
            )
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(csv) + "\n", encoding="utf-8")
    report = importing.import_orders(container.sessions, principal, path, lambda _: None)
    assert (report.accepted, report.rejected) == (6, [])
    with session_scope(container.sessions, org.id) as session:
        events = session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_type == "purchase")
        ).all()
    assert len(events) == len(POS_TYPES) + len(CHECKOUT_TYPES) + 6
    shapes = []
    for event in events:
        properties: dict[str, Any] = event.properties
        assert set(properties) == SALE_KEYS, properties
        assert [set(line) for line in properties["lines"]] == [LINE_KEYS]
        line = properties["lines"][0]
        shapes.append(
            (
                event.brand_id,
                event.amount,
                properties["currency"],
                {key: value for key, value in line.items() if key not in PER_SALE},
            )
        )
    assert shapes == [
        (
            org.brand_id,
            Decimal("20.00"),
            "CNY",
            {
                "sku_id": str(sku),
                "sku_code": "SKU0",
                "product_id": line_product(events),
                "category": "skincare",
                "brand_id": str(org.brand_id),
                "quantity": 2,
                "unit_price": "10.00",
                "amount": "20.00",
            },
        )
    ] * len(events)
    by_channel = {(event.channel, event.properties["external_order_id"][:3]) for event in events}
    assert by_channel == {
        *((c.value, "TIL") for c in POS_TYPES),
        *((c.value, "WEB") for c in CHECKOUT_TYPES),
        *((c.value, "CSV") for c in ChannelType if c != ChannelType.WAREHOUSE),
    }


def line_product(events: Any) -> str:
    products = {event.properties["lines"][0]["product_id"] for event in events}
    assert len(products) == 1 and None not in products
    return str(products.pop())
