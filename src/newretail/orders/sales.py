"""What every sale shares, whatever its entry point: the store check, priced lines, the
idempotent order insert and the result a sale answers with."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newretail.catalog import pricing
from newretail.catalog.errors import NoSalePrice, NotSoldHere, UnknownSku
from newretail.catalog.models import Product, Sku
from newretail.core.errors import Conflict, InvalidInput, NotFound
from newretail.core.money import money
from newretail.orders import rows
from newretail.orders.errors import IdempotencyConflict
from newretail.orders.models import Order
from newretail.orders.rows import ORDER_TABLE, SkuFacts
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Principal


@dataclass
class SaleResult:
    """The order and whether it was recorded before (an idempotent resend)."""

    order: Order
    replayed: bool = False
    events: list[str] = field(default_factory=list)


def check_store(channel_type: str, status: str, allowed: Collection[str]) -> None:
    """Refuse a sale at a store of another type or a closed one."""
    if channel_type not in allowed:
        names = ", ".join(sorted(allowed))
        raise InvalidInput(f"this sale needs a store of type {names}", field="store_id")
    if status != "active":
        raise InvalidInput("the store is closed", field="store_id")


def store_for_sale(
    session: Session, principal: Principal, store_id: uuid.UUID, allowed: Collection[str]
) -> Store:
    """The store a sale names, if the principal may sell there and it sells this way."""
    principal.require_store(store_id)
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("store not found", field="store_id")
    check_store(store.channel_type, store.status, allowed)
    return store


def price_lines(
    prices: Mapping[uuid.UUID, pricing.SalePrice],
    store_code: str,
    channel_type: str,
    organization_id: uuid.UUID,
    order_id: uuid.UUID,
    requested: Sequence[Any],
    now: datetime,
) -> list[dict[str, Any]]:
    """Line rows of the requested lines at their sale prices (a line's own price wins)."""
    lines: list[dict[str, Any]] = []
    for number, line in enumerate(requested, start=1):
        where = f"lines[{number - 1}].sku_id"
        price = prices.get(line.sku_id)
        if price is None:
            raise UnknownSku(where)
        if not price.available:
            raise NotSoldHere(price.code, store_code, where)
        unit_price = getattr(line, "unit_price", None)
        if unit_price is None:
            unit_price = price.amount
        if unit_price is None:
            raise NoSalePrice(price.code, channel_type, where)
        unit_price = money(unit_price)
        lines.append(
            rows.line_row(
                organization_id=organization_id,
                order_id=order_id,
                line_number=number,
                sku_id=line.sku_id,
                brand_id=price.brand_id,
                quantity=line.quantity,
                unit_price=unit_price,
                amount=money(unit_price * line.quantity),
                location_id=None,
                now=now,
            )
        )
    return lines


def priced_lines(
    session: Session,
    store: Store,
    organization_id: uuid.UUID,
    order_id: uuid.UUID,
    requested: Sequence[Any],
    now: datetime,
) -> tuple[list[dict[str, Any]], dict[uuid.UUID, SkuFacts]]:
    """Line rows priced by the catalogue's sale-price rule, and the SKUs' facts."""
    prices = pricing.sale_prices(
        session,
        {line.sku_id for line in requested},
        store.id,
        store.channel_type,
        organization_id=organization_id,
    )
    lines = price_lines(
        prices, store.code, store.channel_type, organization_id, order_id, requested, now
    )
    return lines, sku_facts(session, set(prices))


def sku_facts(session: Session, sku_ids: set[uuid.UUID]) -> dict[uuid.UUID, SkuFacts]:
    """Code, product and top category of each SKU."""
    found = session.execute(
        select(Sku.id, Sku.code, Sku.product_id, Product.category_path)
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_(sku_ids))
    )
    return {
        sku_id: SkuFacts(code, product_id, pricing.category_of(path), path or "")
        for sku_id, code, product_id, path in found
    }


def order_sku_facts(session: Session, order: Order) -> dict[uuid.UUID, SkuFacts]:
    """The facts of the SKUs an order's lines name."""
    return sku_facts(session, {line.sku_id for line in order.lines})


def brand_of(brand_id: uuid.UUID | None, lines: list[dict[str, Any]]) -> uuid.UUID | None:
    """The store's brand, else the one brand of every line (None when they differ)."""
    if brand_id is not None:
        return brand_id
    brands = {line["brand_id"] for line in lines}
    return brands.pop() if len(brands) == 1 else None


_ORDER_INSERTS: dict[str, Any] = {}


def order_insert(connection: Connection) -> Any:
    """INSERT … ON CONFLICT (org, store, external id) DO NOTHING RETURNING id, built once per
    dialect; the values come as bound parameters, so the compiled form is cached."""
    name = connection.dialect.name
    statement = _ORDER_INSERTS.get(name)
    if statement is None:
        dialect = postgresql if name == "postgresql" else sqlite
        statement = (
            dialect.insert(ORDER_TABLE)
            .on_conflict_do_nothing(
                index_elements=["organization_id", "store_id", "external_order_id"]
            )
            .returning(ORDER_TABLE.c.id)
        )
        _ORDER_INSERTS[name] = statement
    return statement


def insert_order(session: Session, values: dict[str, Any]) -> bool:
    """Insert the order row; False when (org, store, external id) was already recorded."""
    connection = session.connection()
    if values.get("external_order_id") is None:
        connection.execute(insert(ORDER_TABLE), values)
        return True
    return connection.execute(order_insert(connection), values).first() is not None


def replayed_order(
    session: Session,
    store_id: uuid.UUID,
    external_order_id: str,
    requested: Sequence[Any],
    *,
    member_id: uuid.UUID | None = None,
    sold_at: datetime | None = None,
) -> Order:
    """The order a device's order id recorded before, when it is sent again with the same
    content (an idempotent resend); other lines, member or sale time are refused."""
    order = existing_order(session, store_id, external_order_id)
    recorded = sorted(order.lines, key=lambda line: line.line_number)
    same_lines = len(recorded) == len(requested) and all(
        line.sku_id == asked.sku_id
        and line.quantity == asked.quantity
        and (
            getattr(asked, "unit_price", None) is None or money(asked.unit_price) == line.unit_price
        )
        for line, asked in zip(recorded, requested, strict=False)
    )
    differs = None
    if not same_lines:
        differs = "lines"
    elif member_id is not None and member_id != order.member_id:
        differs = "member_id"
    elif sold_at is not None and sold_at != order.placed_at:
        differs = "sold_at"
    if differs is not None:
        raise IdempotencyConflict(order.id, external_order_id, differs)
    return order


def existing_order(session: Session, store_id: uuid.UUID, external_order_id: str) -> Order:
    """The order a device's order id recorded before."""
    order = session.scalar(
        select(Order)
        .where(Order.store_id == store_id, Order.external_order_id == external_order_id)
        .execution_options(populate_existing=True)
    )
    if order is None:  # the first sender rolled back between our insert and this read
        raise Conflict("the same order is being recorded; retry", field="external_order_id")
    return order
