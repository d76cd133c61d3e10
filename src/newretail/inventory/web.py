"""Console pages for stock: levels by location with SKU search (paged, with the total), the
low-stock view, the stock ledger, and the forms that change stock (inventory/web_changes.py)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from newretail.console.shell import render
from newretail.core.errors import InvalidInput
from newretail.core.pagination import CONSOLE_PER_PAGE, page_number
from newretail.inventory import reads, web_changes
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console", include_in_schema=False)
router.include_router(web_changes.router)


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
    page: str = "",
) -> Response:
    """Stock by location (on hand, allocated, reserved, available); `low=1` for low stock."""
    principal = identity.principal
    principal.require(Permission.READ)
    low_only = low == "1"
    number = page_number(page)
    view = reads.stock_view(
        session,
        principal,
        reads.StockFilter(_location_id(location_id), None, low_only, q.strip() or None),
        CONSOLE_PER_PAGE,
        (number - 1) * CONSOLE_PER_PAGE,
    )
    locations = tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    return render(
        request,
        "inventory/stock.html",
        identity,
        section="stock",
        levels=view.levels,
        total=view.total,
        page=number,
        per_page=CONSOLE_PER_PAGE,
        sku_names=view.sku_names,
        location_names={s.id: s.name for s in locations},
        locations=sorted(locations, key=lambda s: s.code),
        can_change=principal.can(Permission.MANAGE_STOCK),
        query={"location_id": location_id, "q": q.strip(), "low": low_only},
    )


@router.get("/stock/movements")
def movements_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    location_id: str = "",
    sku: str = "",
    reference: str = "",
    done: str = "",
    page: str = "",
) -> Response:
    """The stock ledger, newest first: receipts, adjustments with their reason, transfers,
    sales and refunds, by location, SKU code or reference."""
    principal = identity.principal
    principal.require(Permission.READ)
    number = page_number(page)
    filters = reads.MovementFilter(
        _location_id(location_id), None, reference.strip() or None, sku.strip() or None
    )
    view = reads.movement_view(session, principal, filters, number, CONSOLE_PER_PAGE)
    locations = tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    return render(
        request,
        "inventory/movements.html",
        identity,
        section="stock",
        movements=view.movements,
        total=view.total,
        page=number,
        per_page=CONSOLE_PER_PAGE,
        skus=view.skus,
        location_names={s.id: f"{s.code} · {s.name}" for s in locations},
        locations=sorted(locations, key=lambda s: s.code),
        done=done if done in web_changes.CHANGES else "",
        query={"location_id": location_id, "sku": sku.strip(), "reference": reference},
    )
