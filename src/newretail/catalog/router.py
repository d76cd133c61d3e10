"""REST API for the catalogue: products, SKUs, channel prices, store prices, availability."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from newretail.catalog import schemas, service
from newretail.core.http import no_content, page
from newretail.core.pagination import Page
from newretail.tenancy.dependencies import CurrentPrincipal, Cursor, Limit, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/api/v1", tags=["catalog"])


@router.get("/products", response_model=Page[schemas.ProductRead])
def list_products(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
    brand_id: uuid.UUID | None = None,
    category: Annotated[str | None, Query(description="Category path prefix")] = None,
    q: Annotated[str | None, Query(description="Substring of name or code")] = None,
) -> object:
    """List products by brand, category subtree or name."""
    principal.require(Permission.READ)
    filters = service.ProductFilter(brand_id, category, q)
    return page(service.list_products(session, filters, limit, cursor))


@router.post("/products", response_model=schemas.ProductRead, status_code=201)
def create_product(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.ProductCreate
) -> object:
    """Create a product."""
    return service.create_product(session, principal, body)


@router.get("/products/{product_id}", response_model=schemas.ProductDetail)
def read_product(session: SessionDep, principal: CurrentPrincipal, product_id: uuid.UUID) -> object:
    """Read a product with its SKUs and prices."""
    principal.require(Permission.READ)
    return service.product_detail(service.get_product(session, product_id))


@router.patch("/products/{product_id}", response_model=schemas.ProductRead)
def update_product(
    session: SessionDep,
    principal: CurrentPrincipal,
    product_id: uuid.UUID,
    body: schemas.ProductUpdate,
) -> object:
    """Change a product."""
    return service.update_product(session, principal, product_id, body)


@router.delete("/products/{product_id}", status_code=204)
def delete_product(
    session: SessionDep, principal: CurrentPrincipal, product_id: uuid.UUID
) -> Response:
    """Delete a product and its SKUs (refused once they have stock or orders)."""
    service.delete_product(session, principal, product_id)
    return no_content()


@router.post("/products/{product_id}/skus", response_model=schemas.SkuRead, status_code=201)
def create_sku(
    session: SessionDep, principal: CurrentPrincipal, product_id: uuid.UUID, body: schemas.SkuCreate
) -> object:
    """Create a SKU with its channel prices."""
    return service.sku_read(service.create_sku(session, principal, product_id, body))


@router.get("/skus", response_model=Page[schemas.SkuRead])
def list_skus(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
    product_id: uuid.UUID | None = None,
    barcode: str | None = None,
    q: Annotated[str | None, Query(description="Substring of name or code")] = None,
) -> object:
    """List SKUs by product, barcode or name."""
    principal.require(Permission.READ)
    return page(service.list_skus(session, limit, cursor, product_id, barcode, q), service.sku_read)


@router.get("/skus/{sku_id}", response_model=schemas.SkuRead)
def read_sku(session: SessionDep, principal: CurrentPrincipal, sku_id: uuid.UUID) -> object:
    """Read a SKU with its prices and store overrides."""
    principal.require(Permission.READ)
    return service.sku_read(service.get_sku(session, sku_id))


@router.patch("/skus/{sku_id}", response_model=schemas.SkuRead)
def update_sku(
    session: SessionDep, principal: CurrentPrincipal, sku_id: uuid.UUID, body: schemas.SkuUpdate
) -> object:
    """Change a SKU."""
    return service.sku_read(service.update_sku(session, principal, sku_id, body))


@router.put("/skus/{sku_id}/prices", response_model=schemas.SkuRead)
def set_prices(
    session: SessionDep, principal: CurrentPrincipal, sku_id: uuid.UUID, body: schemas.PricesSet
) -> object:
    """Set the SKU's price per channel type."""
    return service.sku_read(service.set_prices(session, principal, sku_id, body))


@router.put("/skus/{sku_id}/stores/{location_id}/price", response_model=schemas.SkuRead)
def set_store_price(
    session: SessionDep,
    principal: CurrentPrincipal,
    sku_id: uuid.UUID,
    location_id: uuid.UUID,
    body: schemas.StorePriceSet,
) -> object:
    """Set a store's own price for the SKU."""
    return service.sku_read(service.set_store_price(session, principal, sku_id, location_id, body))


@router.delete("/skus/{sku_id}/stores/{location_id}/price", response_model=schemas.SkuRead)
def clear_store_price(
    session: SessionDep, principal: CurrentPrincipal, sku_id: uuid.UUID, location_id: uuid.UUID
) -> object:
    """Drop a store's own price."""
    return service.sku_read(service.clear_store_price(session, principal, sku_id, location_id))


@router.put("/skus/{sku_id}/stores/{location_id}/availability", response_model=schemas.SkuRead)
def set_availability(
    session: SessionDep,
    principal: CurrentPrincipal,
    sku_id: uuid.UUID,
    location_id: uuid.UUID,
    body: schemas.AvailabilitySet,
) -> object:
    """Allow or stop the sale of the SKU at one store."""
    return service.sku_read(
        service.set_store_availability(session, principal, sku_id, location_id, body)
    )


@router.get("/skus/{sku_id}/stores/{location_id}/price", response_model=schemas.ResolvedPrice)
def resolve_price(
    session: SessionDep, principal: CurrentPrincipal, sku_id: uuid.UUID, location_id: uuid.UUID
) -> object:
    """The price and availability of the SKU at a store."""
    principal.require(Permission.READ)
    return service.resolve_price(session, principal, sku_id, location_id)
