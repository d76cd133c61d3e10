"""What a till sale reads before it writes, on SQLite and for a PostgreSQL sale with coupons:
the store, and each asked SKU's price and availability there by the catalogue's rule."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, Table, and_, bindparam, select

from newretail.catalog import pricing
from newretail.catalog.models import Product, Sku
from newretail.core.errors import NotFound
from newretail.orders.pos_postgres import POS_CHANNELS
from newretail.orders.rows import SkuFacts
from newretail.orders.sales import check_store
from newretail.tenancy.models import Store


def _statement() -> Select[Any]:
    """The store and, for each asked SKU, its price and availability there (one query).

    The rows `catalog.pricing`'s rule reads (`pricing.with_price_rows`). One row per SKU
    found, or one row with NULL SKU columns when none is; no row when the store is not in
    the organisation.
    """
    store, product = Store.__table__, Product.__table__
    sku: Table = Sku.__table__  # type: ignore[assignment]
    found = (
        select(
            store.c.code.label("store_code"),
            store.c.channel_type,
            store.c.status.label("store_status"),
            store.c.brand_id.label("store_brand_id"),
            sku.c.product_id,
            product.c.category_path,
        )
        .select_from(store)
        .outerjoin(
            sku,
            and_(
                sku.c.organization_id == store.c.organization_id,
                sku.c.id.in_(bindparam("sku_ids", expanding=True)),
            ),
        )
        .outerjoin(product, product.c.id == sku.c.product_id)
    )
    return pricing.with_price_rows(
        found, sku, channel_type=store.c.channel_type, store_id=store.c.id
    ).where(
        store.c.id == bindparam("store_id"),
        store.c.organization_id == bindparam("organization_id"),
    )


SALE_CONTEXT = _statement()


@dataclass(frozen=True)
class SaleContext:
    """The store a till sale names and the prices and facts of its SKUs there."""

    store_code: str
    channel_type: str
    brand_id: uuid.UUID | None
    prices: dict[uuid.UUID, pricing.SalePrice]
    facts: dict[uuid.UUID, SkuFacts]


def read(
    connection: Connection,
    organization_id: uuid.UUID,
    store_id: uuid.UUID,
    sku_ids: Iterable[uuid.UUID],
) -> SaleContext:
    """The store (refused when it is not a till's, or closed) and its SKUs' prices."""
    found = connection.execute(
        SALE_CONTEXT,
        {"store_id": store_id, "organization_id": organization_id, "sku_ids": list(set(sku_ids))},
    ).all()
    if not found:
        raise NotFound("store not found", field="store_id")
    first = found[0]
    check_store(first.channel_type, first.store_status, POS_CHANNELS)
    prices: dict[uuid.UUID, pricing.SalePrice] = {}
    facts: dict[uuid.UUID, SkuFacts] = {}
    for row in found:
        if row.sku_id is None:
            continue
        prices[row.sku_id] = pricing.sale_price(row, first.channel_type)
        facts[row.sku_id] = SkuFacts(
            row.sku_code,
            row.product_id,
            pricing.category_of(row.category_path),
            row.category_path or "",
        )
    return SaleContext(first.store_code, first.channel_type, first.store_brand_id, prices, facts)
