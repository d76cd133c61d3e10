"""Console pages for stock: levels by location with SKU search (paged, with the total), the
low-stock view, the stock ledger, and the forms that change stock (inventory/web_changes.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from newretail.console.paging import PagingDep
from newretail.console.params import optional_id
from newretail.console.shell import render
from newretail.inventory import reads, web_changes
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.permissions import Permission
from newretail.tenancy.web_stores import stores_by_code

router = APIRouter(prefix="/console", include_in_schema=False)
router.include_router(web_changes.router)


def _location_id(value: str) -> uuid.UUID | None:
    return optional_id(value, "location_id", "not a location id")


@dataclass
class StockQuery:
    """The stock page's filters, as it shows them again; `low` is "1" for the low-stock view
    and "" otherwise (any other value too)."""

    location_id: str = ""
    q: str = ""
    low: str = ""

    def __post_init__(self) -> None:
        self.q, self.low = self.q.strip(), "1" if self.low == "1" else ""


@dataclass
class MovementQuery:
    """The stock ledger's filters, as it shows them again (the SKU code trimmed)."""

    location_id: str = ""
    sku: str = ""
    reference: str = ""

    def __post_init__(self) -> None:
        self.sku = self.sku.strip()


@router.get("/stock")
def stock_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    paging: PagingDep,
    query: Annotated[StockQuery, Depends()],
) -> Response:
    """Stock by location (on hand, allocated, reserved, available); `low=1` for low stock."""
    principal = identity.principal
    principal.require(Permission.READ)
    location_id = _location_id(query.location_id)
    view = reads.stock_view(
        session,
        principal,
        reads.StockFilter(location_id, None, bool(query.low), query.q or None),
        paging.size,
        paging.offset,
    )
    locations = stores_by_code(session, principal)
    return render(
        request,
        "inventory/stock.html",
        identity,
        section="stock",
        levels=view.levels,
        total=view.total,
        paging=paging,
        sku_names=view.sku_names,
        location_names={s.id: s.name for s in locations},
        locations=locations,
        can_change=principal.can(Permission.MANAGE_STOCK),
        query=query,
    )


@router.get("/stock/movements")
def movements_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    paging: PagingDep,
    query: Annotated[MovementQuery, Depends()],
    done: str = "",
) -> Response:
    """The stock ledger, newest first: receipts, adjustments with their reason, transfers,
    sales and refunds, by location, SKU code or reference."""
    principal = identity.principal
    principal.require(Permission.READ)
    filters = reads.MovementFilter(
        _location_id(query.location_id), None, query.reference.strip() or None, query.sku or None
    )
    view = reads.movement_view(session, principal, filters, paging.number, paging.size)
    locations = stores_by_code(session, principal)
    return render(
        request,
        "inventory/movements.html",
        identity,
        section="stock",
        movements=view.movements,
        total=view.total,
        paging=paging,
        skus=view.skus,
        location_names={s.id: f"{s.code} · {s.name}" for s in locations},
        locations=locations,
        done=done if done in web_changes.CHANGES else "",
        query=query,
    )
