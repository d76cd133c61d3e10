"""What a till sale reads before it writes, on SQLite and for a PostgreSQL sale with coupons:
the store, and each asked SKU's price and availability there by the catalogue's rule."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import Connection, Select, Table, Uuid, and_, any_, bindparam, select
from sqlalchemy.dialects import postgresql

from newretail.catalog import pricing
from newretail.catalog.models import Product, Sku
from newretail.core import prepared
from newretail.core.errors import NotFound
from newretail.orders.pos_postgres import POS_CHANNELS
from newretail.orders.rows import SkuFacts
from newretail.orders.sales import check_store
from newretail.tenancy.models import Store


def _statement(skus_as_array: bool = False) -> Select[Any]:
    """The store and, for each asked SKU, its price and availability there (one query).

    The rows `catalog.pricing`'s rule reads (`pricing.with_price_rows`). One row per SKU
    found, or one row with NULL SKU columns when none is; no row when the store is not in
    the organisation. `skus_as_array`: the SKUs as one PostgreSQL array parameter.
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
                (
                    sku.c.id == any_(bindparam("sku_ids", type_=postgresql.ARRAY(Uuid)))
                    if skus_as_array
                    else sku.c.id.in_(bindparam("sku_ids", expanding=True))
                ),
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


def _postgres_text() -> tuple[str, dict[str, Any]]:
    """The same statement as PostgreSQL text for psycopg, and its constant parameters."""
    dialect = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]
    compiled = _statement(skus_as_array=True).compile(dialect=dialect)
    return str(compiled), dict(compiled.params)


SALE_CONTEXT_SQL, _SALE_CONTEXT_CONSTANTS = _postgres_text()


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
    return context_of(found)


@cache
def _with_column(sql: str) -> prepared.NumberedQuery:
    return prepared.NumberedQuery.of(
        f"SELECT ctx.*, ({sql}) AS extra FROM ({SALE_CONTEXT_SQL}) AS ctx"  # noqa: S608
    )


def read_with(
    connection: Connection,
    organization_id: uuid.UUID,
    store_id: uuid.UUID,
    sku_ids: Iterable[uuid.UUID],
    other: tuple[str, dict[str, Any]],
) -> tuple[SaleContext, Any]:
    """On PostgreSQL: the store and prices, and the value of another query (the sale's
    coupons as one JSON value), read by one statement: the other query is a column of it."""
    sql, parameters = other
    found = prepared.fetch_all(
        prepared.driver_of(connection),
        _with_column(sql),
        {
            **_SALE_CONTEXT_CONSTANTS,
            **parameters,
            "store_id": store_id,
            "organization_id": organization_id,
            "sku_ids": list(set(sku_ids)),
        },
        namedtuple_row,
    )
    return context_of(found), found[0].extra if found else None


def context_of(found: Sequence[Any]) -> SaleContext:
    """The sale's context from the statement's rows."""
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
