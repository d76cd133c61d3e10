"""Console pages for the catalogue: products with their SKUs and channel prices, a product page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from newretail.catalog import service, web_edit
from newretail.console.paging import PagingDep
from newretail.console.params import optional_id
from newretail.console.shell import page_locale, render
from newretail.core.i18n import catalogue
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.models import ChannelType
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console", include_in_schema=False)
router.include_router(web_edit.router)  # first: /catalog/new before /catalog/{product_id}
# the channel types a SKU can have a price on, in the order the tables show them
PRICE_CHANNELS = [c.value for c in ChannelType if c != ChannelType.WAREHOUSE]
# what the product page confirms after a form saved (`?saved=`)
SAVED = ("product", "sku", "store_price")


def category_label(path: str, locale: str) -> str:
    """A category path in the reader's language: each level the catalogue names
    (`catalog.category_label.<level>`) translated, others as the retailer typed them."""
    if not path:
        return "—"
    messages = catalogue(locale)
    return "/".join(
        messages.get(f"catalog.category_label.{level.strip().lower()}", level)
        for level in path.split("/")
    )


@dataclass
class CatalogQuery:
    """The catalogue list's filters, as the page shows them again (`?brand_id=&category=&q=`)."""

    brand_id: str = ""
    category: str = ""
    q: str = ""

    def __post_init__(self) -> None:
        self.category, self.q = self.category.strip(), self.q.strip()


@router.get("/catalog")
def catalog_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    paging: PagingDep,
    query: Annotated[CatalogQuery, Depends()],
) -> Response:
    """Products with their SKUs and prices per channel, filtered by brand, category and text,
    a numbered page at a time with the totals."""
    identity.principal.require(Permission.READ)
    filters = service.ProductFilter(
        brand_id=optional_id(query.brand_id, "brand_id", "not a brand id"),
        category=query.category or None,
        q=query.q or None,
    )
    found = service.product_page(session, filters, paging.number, paging.size)
    brands = tenancy_service.brand_choices(session)
    return render(
        request,
        "catalog/list.html",
        identity,
        section="catalog",
        products=found.products,
        product_count=found.total_products,
        sku_count=found.total_skus,
        paging=paging,
        brands=brands,
        brand_names={b.id: b.name for b in brands},
        channels=PRICE_CHANNELS,
        category=partial(category_label, locale=page_locale(request, identity)),
        query=query,
    )


@router.get("/catalog/{product_id}")
def product_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    product_id: uuid.UUID,
    saved: str = "",
) -> Response:
    """One product: its SKUs, barcodes, channel prices and store overrides."""
    identity.principal.require(Permission.READ)
    product = service.get_product(session, product_id)
    stores = tenancy_service.all_stores(session, identity.principal, tenancy_service.StoreFilter())
    return render(
        request,
        "catalog/detail.html",
        identity,
        section="catalog",
        product=product,
        brand=tenancy_service.get_brand(session, product.brand_id),
        store_names={s.id: s.name for s in stores},
        channels=PRICE_CHANNELS,
        can_edit=identity.principal.can(Permission.MANAGE_CATALOG),
        category=partial(category_label, locale=page_locale(request, identity)),
        saved=saved if saved in SAVED else "",
    )
