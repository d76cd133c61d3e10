"""Catalogue use cases: products, SKUs, channel prices with store overrides, availability.

Price rule: a store's own price for the SKU, else the price for the store's channel type.
Availability rule: a store's override, else the SKU's channel list (empty = every channel).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from newretail.catalog import pricing, schemas
from newretail.catalog.errors import PriceNotFound, WarehouseDoesNotSell
from newretail.catalog.models import Product, Sku, SkuPrice, SkuStoreAvailability, SkuStorePrice
from newretail.core.database import (
    add_unique,
    apply_changes,
    by_code_or_not_found,
    flush_unique,
    get_or_not_found,
    partial_changes,
    utcnow,
    where_given,
    where_text,
)
from newretail.core.money import money
from newretail.core.pagination import numbered_page, paginate
from newretail.core.reads import read_of
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Store
from newretail.tenancy.permissions import Permission, Principal


# ---------------------------------------------------------------- products
@dataclass(frozen=True)
class ProductFilter:
    brand_id: uuid.UUID | None = None
    category: str | None = None
    q: str | None = None


def _filtered_products(filters: ProductFilter) -> Any:
    statement = where_given(select(Product), (Product.brand_id, filters.brand_id))
    if filters.category:
        prefix = filters.category.strip("/")
        statement = statement.where(
            or_(Product.category_path == prefix, Product.category_path.like(f"{prefix}/%"))
        )
    return where_text(statement, filters.q, Product.name, Product.code)


def list_products(
    session: Session, filters: ProductFilter, limit: int, cursor: str | None
) -> tuple[list[Product], str | None]:
    """Products filtered by brand, category subtree and a name or code substring."""
    return paginate(session, _filtered_products(filters), Product, limit, cursor)


@dataclass(frozen=True)
class ProductPage:
    """A numbered page of products (with their SKUs) and the counts of every match."""

    products: list[Product]
    total_products: int
    total_skus: int


def product_page(session: Session, filters: ProductFilter, page: int, per_page: int) -> ProductPage:
    """One numbered page of the matching products by code, with their SKUs (console)."""
    statement = _filtered_products(filters)
    products, total = numbered_page(session, statement.order_by(Product.code), page, per_page)
    matching = statement.with_only_columns(Product.id).subquery()
    skus = session.scalar(
        select(func.count()).select_from(Sku).where(Sku.product_id.in_(select(matching.c.id)))
    )
    return ProductPage(products, total, int(skus or 0))


def get_product(session: Session, product_id: uuid.UUID) -> Product:
    """The product with this id; 404 outside the organisation."""
    return get_or_not_found(session, Product, product_id, "product", field="product_id")


def create_product(session: Session, principal: Principal, data: schemas.ProductCreate) -> Product:
    """Create a product of one of the organisation's brands."""
    principal.require(Permission.MANAGE_CATALOG)
    tenancy_service._brand_field(session, data.brand_id)
    product = Product(
        organization_id=principal.organization_id,
        **data.model_dump(exclude={"image_urls"}),
        image_urls=[str(u) for u in data.image_urls],
    )
    return add_unique(session, product, "code", f"a product with code {data.code!r} exists")


def update_product(
    session: Session, principal: Principal, product_id: uuid.UUID, data: schemas.ProductUpdate
) -> Product:
    """Change a product's name, category, attributes, images or status."""
    principal.require(Permission.MANAGE_CATALOG)
    product = get_product(session, product_id)
    not_null = ("name", "category_path", "attributes", "image_urls", "status")
    changes = partial_changes(data, not_null, mode="json")
    apply_changes(product, changes)
    session.flush()
    return product


def delete_product(session: Session, principal: Principal, product_id: uuid.UUID) -> None:
    """Delete a product and its SKUs (refused once a SKU has stock or orders)."""
    principal.require(Permission.MANAGE_CATALOG)
    session.delete(get_product(session, product_id))
    flush_unique(session, "product_id", "the product's SKUs have stock or orders; retire it")


# ---------------------------------------------------------------- SKUs
def sku_read(sku: Sku) -> schemas.SkuRead:
    """The API shape of a SKU (prices as a channel → amount map)."""
    return read_of(
        schemas.SkuRead,
        sku,
        prices={p.channel_type: p.amount for p in sku.prices},
        store_prices=[schemas.StorePriceRead.model_validate(p) for p in sku.store_prices],
        store_availability=[
            schemas.StoreAvailabilityRead.model_validate(a) for a in sku.store_availability
        ],
    )


def product_detail(product: Product) -> schemas.ProductDetail:
    """The API shape of a product with its SKUs."""
    return read_of(schemas.ProductDetail, product, skus=[sku_read(s) for s in product.skus])


def list_skus(
    session: Session,
    limit: int,
    cursor: str | None,
    product_id: uuid.UUID | None = None,
    barcode: str | None = None,
    q: str | None = None,
) -> tuple[list[Sku], str | None]:
    """SKUs filtered by product, exact barcode or a name or code substring."""
    statement = where_given(select(Sku), (Sku.product_id, product_id), (Sku.barcode, barcode))
    statement = where_text(statement, q, Sku.name, Sku.code)
    return paginate(session, statement, Sku, limit, cursor)


def get_sku(session: Session, sku_id: uuid.UUID) -> Sku:
    """The SKU with this id; 404 outside the organisation."""
    return get_or_not_found(session, Sku, sku_id, "SKU", field="sku_id")


def sku_by_code(session: Session, code: str) -> Sku:
    """The SKU with this code (imports and the CLI)."""
    return by_code_or_not_found(session, Sku, code, "SKU", field="sku")


def create_sku(
    session: Session, principal: Principal, product_id: uuid.UUID, data: schemas.SkuCreate
) -> Sku:
    """Create a SKU of a product, with its channel prices."""
    principal.require(Permission.MANAGE_CATALOG)
    product = get_product(session, product_id)
    if ChannelType.WAREHOUSE in data.channels or ChannelType.WAREHOUSE in data.prices:
        raise WarehouseDoesNotSell("channels")
    sku = Sku(
        organization_id=principal.organization_id,
        product_id=product.id,
        brand_id=product.brand_id,
        **data.model_dump(exclude={"image_urls", "channels", "prices"}),
        image_urls=[str(u) for u in data.image_urls],
        channels=[str(c) for c in data.channels],
    )
    sku.prices = [
        SkuPrice(organization_id=principal.organization_id, channel_type=str(c), amount=money(a))
        for c, a in data.prices.items()
    ]
    return add_unique(session, sku, "code", f"a SKU with code {data.code!r} or this barcode exists")


def update_sku(
    session: Session, principal: Principal, sku_id: uuid.UUID, data: schemas.SkuUpdate
) -> Sku:
    """Change a SKU's name, barcode, attributes, images, channels or status."""
    principal.require(Permission.MANAGE_CATALOG)
    sku = get_sku(session, sku_id)
    not_null = ("name", "attributes", "image_urls", "channels", "status")
    changes = partial_changes(data, not_null, mode="json")
    if ChannelType.WAREHOUSE in (changes.get("channels") or []):
        raise WarehouseDoesNotSell("channels")
    apply_changes(sku, changes)
    flush_unique(session, "barcode", "another SKU has this barcode")
    return sku


def set_prices(
    session: Session, principal: Principal, sku_id: uuid.UUID, data: schemas.PricesSet
) -> Sku:
    """Set the SKU's price on some channel types."""
    principal.require(Permission.MANAGE_CATALOG)
    sku = get_sku(session, sku_id)
    if ChannelType.WAREHOUSE in data.prices:
        raise WarehouseDoesNotSell("prices")
    current = {p.channel_type: p for p in sku.prices}
    for channel, amount in data.prices.items():
        if channel in current:
            current[channel].amount = money(amount)
        else:
            sku.prices.append(
                SkuPrice(
                    organization_id=principal.organization_id,
                    channel_type=str(channel),
                    amount=money(amount),
                )
            )
    sku.updated_at = utcnow()
    session.flush()
    return sku


def _selling_store(session: Session, principal: Principal, store_id: uuid.UUID) -> Store:
    store = tenancy_service.get_store(session, principal, store_id)
    if store.channel_type == ChannelType.WAREHOUSE:
        raise WarehouseDoesNotSell("location_id")
    return store


OverrideT = TypeVar("OverrideT", SkuStorePrice, SkuStoreAvailability)


def _store_override(
    overrides: list[OverrideT], model: type[OverrideT], principal: Principal, store_id: uuid.UUID
) -> OverrideT:
    """The SKU's override row for the store, added to `overrides` when it has none yet."""
    existing = next((o for o in overrides if o.store_id == store_id), None)
    if existing is None:
        existing = model(organization_id=principal.organization_id, store_id=store_id)
        overrides.append(existing)
    return existing


def set_store_price(
    session: Session,
    principal: Principal,
    sku_id: uuid.UUID,
    store_id: uuid.UUID,
    data: schemas.StorePriceSet,
) -> Sku:
    """Set a store's own price for the SKU."""
    principal.require(Permission.MANAGE_CATALOG)
    sku = get_sku(session, sku_id)
    _selling_store(session, principal, store_id)
    override = _store_override(sku.store_prices, SkuStorePrice, principal, store_id)
    override.amount = money(data.amount)
    session.flush()
    return sku


def clear_store_price(
    session: Session, principal: Principal, sku_id: uuid.UUID, store_id: uuid.UUID
) -> Sku:
    """Drop a store's own price; the channel price applies again."""
    principal.require(Permission.MANAGE_CATALOG)
    sku = get_sku(session, sku_id)
    for price in [p for p in sku.store_prices if p.store_id == store_id]:
        sku.store_prices.remove(price)
        session.delete(price)
    session.flush()
    return sku


def set_store_availability(
    session: Session,
    principal: Principal,
    sku_id: uuid.UUID,
    store_id: uuid.UUID,
    data: schemas.AvailabilitySet,
) -> Sku:
    """Allow or stop the sale of the SKU at one store."""
    principal.require(Permission.MANAGE_CATALOG)
    sku = get_sku(session, sku_id)
    _selling_store(session, principal, store_id)
    override = _store_override(sku.store_availability, SkuStoreAvailability, principal, store_id)
    override.available = data.available
    session.flush()
    return sku


def resolve_price(
    session: Session, principal: Principal, sku_id: uuid.UUID, store_id: uuid.UUID
) -> schemas.ResolvedPrice:
    """The price and availability of a SKU at a store."""
    get_sku(session, sku_id)
    store = _selling_store(session, principal, store_id)
    price = pricing.sale_prices(
        session,
        [sku_id],
        store.id,
        store.channel_type,
        organization_id=principal.organization_id,
    )[sku_id]
    if price.amount is None:
        raise PriceNotFound(price.code, store.channel_type)
    return read_of(
        schemas.ResolvedPrice,
        price,
        sku_id=sku_id,
        store_id=store.id,
        channel_type=store.channel_type,
    )


@dataclass(frozen=True)
class SkuLabel:
    """What a report shows of a SKU: its code, name and product's category path."""

    code: str
    name: str
    category_path: str


def sku_labels(session: Session, sku_ids: list[uuid.UUID]) -> dict[uuid.UUID, SkuLabel]:
    """The labels of these SKUs (those of the session's organisation; unknown ids absent)."""
    if not sku_ids:
        return {}
    rows = session.execute(
        select(Sku.id, Sku.code, Sku.name, Product.category_path)
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_(sorted(set(sku_ids))))
    )
    return {row.id: SkuLabel(row.code, row.name, row.category_path) for row in rows}
