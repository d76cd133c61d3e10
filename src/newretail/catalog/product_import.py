"""CSV import of products and their SKUs with prices, one row per SKU.

Columns: brand (code), product_code, product_name, category (optional, `Tea/Green`),
sku_code, sku_name, barcode (optional), price (every channel), price_online (optional).
Rows are committed in batches; each refused row is reported (core.csvimport).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from newretail.catalog import schemas, service
from newretail.catalog.models import Product
from newretail.core.csvimport import (
    Advance,
    ImportReport,
    Row,
    RowError,
    decimal_amount,
    import_in_batches,
    required,
)
from newretail.core.errors import NewRetailError
from newretail.core.money import money
from newretail.tenancy.models import Brand, ChannelType
from newretail.tenancy.permissions import Principal

COLUMNS = ["brand", "product_code", "product_name", "sku_code", "sku_name", "price"]
BATCH = 1000
MONEY_LIMIT = Decimal(10) ** 16  # prices are NUMERIC(18, 2)


def import_products(
    sessions: sessionmaker[Session], principal: Principal, path: Path, advance: Advance
) -> ImportReport:
    """Create the products and SKUs of the file's rows; report every refused row."""

    def import_batch(session: Session, batch: list[Row], report: ImportReport) -> None:
        brands = {b.code: b.id for b in session.scalars(select(Brand))}
        products = {p.code: p.id for p in session.scalars(select(Product))}
        for number, row in batch:
            report.rows += 1
            try:
                with session.begin_nested():
                    _product_row(session, principal, row, brands, products)
                report.accepted += 1
            except RowError as exc:
                report.rejected.append(exc.at(number))
            except ValidationError as exc:
                report.rejected.append(RowError.of_payload(exc).at(number))
            except NewRetailError as exc:
                report.reject(number, exc.field or "row", exc.message)
            except IntegrityError:
                report.reject(number, "sku_code", "duplicate")
            advance(1)

    return import_in_batches(
        sessions, principal.organization_id, path, COLUMNS, BATCH, import_batch
    )


def _price(row: dict[str, str], column: str) -> Decimal:
    return money(decimal_amount(row, column, MONEY_LIMIT))


def _product_row(
    session: Session,
    principal: Principal,
    row: dict[str, str],
    brands: dict[str, uuid.UUID],
    products: dict[str, uuid.UUID],
) -> None:
    brand = brands.get(required(row, "brand"))
    if brand is None:
        raise RowError("brand", "no brand with this code")
    price = _price(row, "price")
    prices: dict[ChannelType, Decimal] = dict.fromkeys(schemas.SELLING_CHANNELS, price)
    if row.get("price_online"):
        prices[ChannelType.ONLINE] = _price(row, "price_online")
    code = required(row, "product_code")
    if code not in products:
        products[code] = service.create_product(
            session,
            principal,
            schemas.ProductCreate(
                brand_id=brand,
                code=code,
                name=required(row, "product_name"),
                category_path=row.get("category", ""),
            ),
        ).id
    service.create_sku(
        session,
        principal,
        products[code],
        schemas.SkuCreate(
            code=required(row, "sku_code"),
            name=required(row, "sku_name"),
            barcode=row.get("barcode") or None,
            prices=prices,
        ),
    )
