"""Mounts every domain's console pages and the shell's assets, as api.py mounts the routers."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from newretail.audiences.web import router as audiences_pages
from newretail.catalog.web import router as catalog_pages
from newretail.console.shell import SECTIONS, mount_assets, render, templates
from newretail.databank.web import router as databank_pages
from newretail.events.web import router as events_pages
from newretail.identity.web import router as identity_pages
from newretail.inventory.web import router as stock_pages
from newretail.marketing.web import router as marketing_pages
from newretail.members.web import router as members_pages
from newretail.orders.web import router as orders_pages
from newretail.tenancy.dependencies import Identity
from newretail.tenancy.permissions import Permission
from newretail.tenancy.web import router as tenancy_pages

DOMAIN_PAGES = [
    tenancy_pages,
    catalog_pages,
    stock_pages,
    members_pages,
    identity_pages,
    events_pages,
    orders_pages,
    databank_pages,
    audiences_pages,
    marketing_pages,
]
# navigation sections whose domain has no pages yet
PLACEHOLDER_SECTIONS = ("diagnosis",)

placeholders = APIRouter(prefix="/console", include_in_schema=False)


def _placeholder(section: str) -> Callable[..., Response]:
    def page(request: Request, identity: Identity) -> Response:
        identity.principal.require(Permission.READ)
        return render(request, "placeholder.html", identity, section=section)

    page.__name__ = f"{section}_page"
    return page


for _section in PLACEHOLDER_SECTIONS:
    assert _section in SECTIONS
    placeholders.add_api_route(f"/{_section}", _placeholder(_section), methods=["GET"])


def mount_pages(app: FastAPI) -> None:
    """Every domain's console pages, the placeholders and the shell's static assets."""
    templates.env.globals["Permission"] = Permission  # `identity.principal.can(Permission.X)`
    for router in DOMAIN_PAGES:
        app.include_router(router)
    app.include_router(placeholders)
    mount_assets(app)
