"""The sale-price rule, in one place, in its Python and its SQL form side by side
(tests/catalog/test_pricing.py checks they agree on every channel, store and override
combination):

- amount: the store's own price of the SKU wins over the price of the store's channel type;
  none of both: the SKU has no price there (a line may still carry its own price);
- availability: the store's override (sold here or not) wins over the SKU's channels (none
  listed: every channel); an inactive SKU is never sold;
- category: the top of the product's category path, lower case, as earn rules and the
  purchase event name it ("Skincare/Serums" -> "skincare").

Used by the catalogue's price lookup, the order ledger's ORM and SQLite paths, the
PostgreSQL one-statement POS sale (`orders.pos_postgres`, through the SQL form) and imports.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, bindparam, select
from sqlalchemy.orm import Session

from newretail.catalog.models import Sku, SkuPrice, SkuStoreAvailability, SkuStorePrice

ACTIVE = "active"


# ---------------------------------------------------------------- the rule, in Python
def sale_amount(
    store_amount: Decimal | None, channel_amount: Decimal | None
) -> tuple[Decimal | None, str]:
    """The amount and where it comes from ("store" or "channel")."""
    if store_amount is not None:
        return store_amount, "store"
    return channel_amount, "channel"


def sold_at_store(override: bool | None, channels: Any, status: str, channel_type: str) -> bool:
    """Whether a store of `channel_type` sells the SKU."""
    if override is None:
        listed = channels if isinstance(channels, list) else []
        override = not listed or channel_type in listed
    return bool(override) and status == ACTIVE


def category_of(category_path: str | None) -> str | None:
    """The top of a category path, as earn rules and events name it."""
    if not category_path:
        return None
    return category_path.split("/", 1)[0].strip().lower() or None


# ---------------------------------------------------------------- the rule, in SQL
# PostgreSQL forms over these aliases: k = sku, cp = the channel's sku_price row,
# sp = the store's sku_store_price row, av = sku_store_availability, p = product and
# s = the store (its channel_type).
SQL_AMOUNT = "COALESCE(sp.amount, cp.amount)"
SQL_AMOUNT_SOURCE = "CASE WHEN sp.amount IS NOT NULL THEN 'store' ELSE 'channel' END"
SQL_SOLD_AT_STORE = (
    "COALESCE(av.available, k.channels IS NULL OR json_typeof(k.channels) <> 'array'"
    " OR json_array_length(k.channels) = 0 OR CAST(k.channels AS jsonb) ? s.channel_type)"
    f" AND k.status = '{ACTIVE}'"
)
SQL_CATEGORY = "NULLIF(lower(btrim(split_part(p.category_path, '/', 1), E' \\t\\n\\r\\f\\v')), '')"


# ---------------------------------------------------------------- prices of SKUs at a store
@dataclass(frozen=True)
class SalePrice:
    """What the order ledger needs to sell a SKU at a store."""

    sku_id: uuid.UUID
    code: str
    brand_id: uuid.UUID
    amount: Decimal | None
    source: str
    available: bool


def sale_price(row: Any, channel_type: str) -> SalePrice:
    """The rule applied to one SKU's rows at a store of `channel_type`: a row of a statement
    `with_price_rows` built."""
    amount, source = sale_amount(row.store_amount, row.channel_amount)
    available = sold_at_store(row.available, row.channels, row.status, channel_type)
    return SalePrice(row.sku_id, row.sku_code, row.brand_id, amount, source, available)


def with_price_rows(
    statement: Select[Any],
    sku: Table,
    *,
    channel_type: ColumnElement[Any],
    store_id: ColumnElement[Any],
) -> Select[Any]:
    """`statement`, which selects from `sku`, with the rows the rule reads of the SKU at a
    store (outer joins): the columns sku_id, sku_code, brand_id, channels, status,
    channel_amount, store_amount and available that `sale_price` reads."""
    channel_price = SkuPrice.__table__.alias("channel_price")
    store_price = SkuStorePrice.__table__.alias("store_price")
    override = SkuStoreAvailability.__table__.alias("availability")
    return (
        statement.add_columns(
            sku.c.id.label("sku_id"),
            sku.c.code.label("sku_code"),
            sku.c.brand_id,
            sku.c.channels,
            sku.c.status,
            channel_price.c.amount.label("channel_amount"),
            store_price.c.amount.label("store_amount"),
            override.c.available,
        )
        .outerjoin(
            channel_price,
            and_(channel_price.c.sku_id == sku.c.id, channel_price.c.channel_type == channel_type),
        )
        .outerjoin(
            store_price, and_(store_price.c.sku_id == sku.c.id, store_price.c.store_id == store_id)
        )
        .outerjoin(override, and_(override.c.sku_id == sku.c.id, override.c.store_id == store_id))
    )


def _sale_prices_statement() -> Select[Any]:
    """Prices and availability of some SKUs at one store: a Core statement built once and
    scoped by organisation explicitly. (The ORM form, aliased entities under the session's
    organisation criteria, was compiled wrongly now and then when several threads ran it
    for the first time at once: a criterion named the table instead of its alias.)"""
    sku: Table = Sku.__table__  # type: ignore[assignment]
    return with_price_rows(
        select().select_from(sku),
        sku,
        channel_type=bindparam("channel_type"),
        store_id=bindparam("store_id"),
    ).where(
        sku.c.id.in_(bindparam("sku_ids", expanding=True)),
        sku.c.organization_id == bindparam("organization_id"),
    )


SALE_PRICES = _sale_prices_statement()


def sale_prices(
    session: Session,
    sku_ids: Iterable[uuid.UUID],
    store_id: uuid.UUID,
    channel_type: str,
    *,
    organization_id: uuid.UUID,
) -> dict[uuid.UUID, SalePrice]:
    """Prices and availability of several SKUs of the organisation at one store, in one
    query."""
    rows = session.connection().execute(
        SALE_PRICES,
        {
            "sku_ids": list(sku_ids),
            "store_id": store_id,
            "channel_type": str(channel_type),
            "organization_id": organization_id,
        },
    )
    return {row.sku_id: sale_price(row, str(channel_type)) for row in rows}
