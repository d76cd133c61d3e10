"""Console page of the counter screen (Marketing → Reach → Counter screen): choose a store,
then its offers arrive as they are decided — the page opens the store's feed
(GET /api/v1/reach/stores/{id}/feed) with the browser's own EventSource, signed in by the
console session (no API key on the page)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from newretail.console.shell import render
from newretail.tenancy import service as tenancy_service
from newretail.tenancy import web_stores
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console/reach/screens", include_in_schema=False)


@router.get("")
def screens_page(request: Request, session: SessionDep, identity: Identity) -> Response:
    """The in-person stores (a counter, not online or the warehouse) whose counter screen the
    signed-in user may open."""
    principal = identity.principal
    principal.require(Permission.READ)
    stores = web_stores.in_person(
        tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    )
    return render(
        request, "reach/screens.html", identity, section="marketing", stores=stores, store=None
    )


@router.get("/{store_id}")
def screen_page(
    request: Request, session: SessionDep, identity: Identity, store_id: uuid.UUID
) -> Response:
    """One store's counter screen: offers listed as they arrive, newest on top."""
    principal = identity.principal
    principal.require(Permission.READ)
    store = tenancy_service.get_store(session, principal, store_id)
    return render(
        request, "reach/screens.html", identity, section="marketing", stores=[], store=store
    )
