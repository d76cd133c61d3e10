"""Console page for stock: levels by location with SKU search, and the low-stock view."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from newretail.catalog import service as catalog_service
from newretail.console.web import Identity, render
from newretail.core.errors import InvalidInput
from newretail.inventory import service
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.dependencies import SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console", include_in_schema=False)
MAX_LEVELS = 5000  # list_levels' own limit
SHOWN = 500


def _location_id(value: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInput("not a location id", field="location_id") from exc


@router.get("/stock")
def stock_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    location_id: str = "",
    q: str = "",
    low: str = "",
) -> Response:
    """Stock by location (on hand, allocated, reserved, available); `low=1` for low stock."""
    principal = identity.principal
    principal.require(Permission.READ)
    location = _location_id(location_id)
    low_only = low == "1"
    levels = service.list_levels(
        session, principal, service.StockFilter(location, None, low_only), MAX_LEVELS
    )
    # SKU names and barcodes for display and search (the catalogue is small: one query)
    skus = {
        sku.id: sku
        for product in catalog_service.all_products(session, catalog_service.ProductFilter())
        for sku in product.skus
    }
    needle = q.strip().casefold()
    if needle:
        levels = [
            level
            for level in levels
            if needle in level.sku_code.casefold()
            or (level.sku_id in skus and needle in skus[level.sku_id].name.casefold())
            or (level.sku_id in skus and needle == (skus[level.sku_id].barcode or ""))
        ]
    locations = tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    return render(
        request,
        "inventory/stock.html",
        identity,
        section="stock",
        levels=levels[:SHOWN],
        total=len(levels),
        shown=SHOWN,
        sku_names={sku_id: sku.name for sku_id, sku in skus.items()},
        locations=sorted(locations, key=lambda s: s.code),
        query={"location_id": location_id, "q": q.strip(), "low": low_only},
    )
