"""The store manager's page: today's sales and orders at one store (its local day) and its
stock alerts, with links to the full lists."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from newretail.console.paging import PagingDep
from newretail.console.shell import redirect, render
from newretail.core import localtime
from newretail.core.errors import NotFound
from newretail.orders import store_day
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(include_in_schema=False)  # included by orders/web.py under /console


@router.get("/my-store")
def my_store(session: SessionDep, identity: Identity, store_id: str = "") -> Response:
    """The page of a chosen store, else of the signed-in user's first store."""
    identity.principal.require(Permission.READ)
    stores = store_day.scope_stores(session, identity.principal)
    chosen = next((s for s in stores if str(s.id) == store_id), stores[0] if stores else None)
    if chosen is None:
        raise NotFound("no store in your scope", field="store_id")
    return redirect(f"/console/stores/{chosen.id}/today")


@router.get("/stores/{store_id}/today")
def store_today(
    request: Request,
    session: SessionDep,
    identity: Identity,
    paging: PagingDep,
    store_id: uuid.UUID,
) -> Response:
    """Today at one store: sales, orders and stock alerts, in the store's local time."""
    day = store_day.store_day(session, identity.principal, store_id, paging.number, paging.size)
    return render(
        request,
        "orders/store_day.html",
        identity,
        section="orders",
        day=day,
        paging=paging,
        store_zone_label=localtime.zone_label(day.zone),
        store_time=lambda moment: localtime.format_local_time(moment, day.zone),
        stores=store_day.scope_stores(session, identity.principal),
        can_change_stock=identity.principal.can(Permission.MANAGE_STOCK),
    )
