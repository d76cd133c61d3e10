"""Console page for stock: levels by location with SKU search, and the low-stock view."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from newretail.console.web import Identity, render
from newretail.core.errors import InvalidInput
from newretail.inventory import service
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.dependencies import SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console", include_in_schema=False)
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
    low_only = low == "1"
    view = service.stock_view(
        session,
        principal,
        service.StockFilter(_location_id(location_id), None, low_only, q.strip() or None),
        SHOWN,
    )
    locations = tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    return render(
        request,
        "inventory/stock.html",
        identity,
        section="stock",
        levels=view.levels,
        total=view.total,
        shown=SHOWN,
        sku_names=view.sku_names,
        locations=sorted(locations, key=lambda s: s.code),
        query={"location_id": location_id, "q": q.strip(), "low": low_only},
    )
