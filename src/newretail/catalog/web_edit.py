"""Console forms of the catalogue: create and edit a product, create and edit a SKU with its
channel prices, set or clear a store's own price. Each calls the catalogue service the API
calls; a refused form is shown again with the fields at fault (HTTP 422)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from newretail.catalog import forms, schemas, service
from newretail.catalog.models import Product, Sku
from newretail.console.forms import attempt, render_form
from newretail.console.shell import Form, page_locale, redirect
from newretail.core.errors import NotFound
from newretail.tenancy import auth
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.dependencies import Identity, SessionDep, posted_by
from newretail.tenancy.permissions import Permission
from newretail.tenancy.web_stores import selling, stores_by_code

router = APIRouter(include_in_schema=False)  # included by catalog/web.py under /console


# ---------------------------------------------------------------- products
def _product_form(
    request: Request,
    session: Session,
    identity: auth.ConsoleIdentity,
    values: dict[str, str],
    product: Product | None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render_form(
        request,
        "catalog/product_form.html",
        identity,
        values,
        errors,
        section="catalog",
        product=product,
        brands=tenancy_service.brand_choices(session),
    )


@router.get("/catalog/new")
def new_product_page(request: Request, session: SessionDep, identity: Identity) -> Response:
    """The form for a new product."""
    identity.principal.require(Permission.MANAGE_CATALOG)
    return _product_form(request, session, identity, forms.product_values(None), None)


@router.post("/catalog/new")
def create_product(
    request: Request, session: SessionDep, identity: Identity, form: Form
) -> Response:
    """Create a product (same rules as POST /api/v1/products)."""
    principal = posted_by(identity, form, Permission.MANAGE_CATALOG)
    with attempt(session, page_locale(request, identity)) as refusal:
        data = schemas.ProductCreate.model_validate(forms.product_payload(form, new=True))
        product = service.create_product(session, principal, data)
    if refusal.errors:
        return _product_form(request, session, identity, form, None, refusal.errors)
    return redirect(f"/console/catalog/{product.id}?saved=product")


@router.get("/catalog/{product_id}/edit")
def edit_product_page(
    request: Request, session: SessionDep, identity: Identity, product_id: uuid.UUID
) -> Response:
    """The form of an existing product."""
    identity.principal.require(Permission.MANAGE_CATALOG)
    product = service.get_product(session, product_id)
    return _product_form(request, session, identity, forms.product_values(product), product)


@router.post("/catalog/{product_id}/edit")
def update_product(
    request: Request, session: SessionDep, identity: Identity, product_id: uuid.UUID, form: Form
) -> Response:
    """Change a product's name, category or status (same rules as PATCH /api/v1/products)."""
    principal = posted_by(identity, form, Permission.MANAGE_CATALOG)
    product = service.get_product(session, product_id)
    with attempt(session, page_locale(request, identity)) as refusal:
        data = schemas.ProductUpdate.model_validate(forms.product_payload(form, new=False))
        service.update_product(session, principal, product_id, data)
    if refusal.errors:
        session.refresh(product)
        values = {**form, "code": product.code, "brand_id": str(product.brand_id)}
        return _product_form(request, session, identity, values, product, refusal.errors)
    return redirect(f"/console/catalog/{product_id}?saved=product")


# ---------------------------------------------------------------- SKUs and prices
def _sku_form(
    request: Request,
    session: Session,
    identity: auth.ConsoleIdentity,
    product: Product,
    values: dict[str, str],
    sku: Sku | None,
    errors: dict[str, str] | None = None,
) -> Response:
    return render_form(
        request,
        "catalog/sku_form.html",
        identity,
        values,
        errors,
        section="catalog",
        product=product,
        sku=sku,
        channels=forms.CHANNELS,
        stores=selling(stores_by_code(session, identity.principal)),
    )


def _product_and_sku(
    session: Session, product_id: uuid.UUID, sku_id: uuid.UUID
) -> tuple[Product, Sku]:
    """The product and one of its SKUs (a SKU of another product is not found)."""
    product = service.get_product(session, product_id)
    sku = service.get_sku(session, sku_id)
    if sku.product_id != product_id:
        raise NotFound("SKU not found", field="sku_id")
    return product, sku


@router.get("/catalog/{product_id}/skus/new")
def new_sku_page(
    request: Request, session: SessionDep, identity: Identity, product_id: uuid.UUID
) -> Response:
    """The form for a new SKU of a product."""
    identity.principal.require(Permission.MANAGE_CATALOG)
    product = service.get_product(session, product_id)
    return _sku_form(request, session, identity, product, forms.sku_values(None), None)


@router.post("/catalog/{product_id}/skus/new")
def create_sku(
    request: Request, session: SessionDep, identity: Identity, product_id: uuid.UUID, form: Form
) -> Response:
    """Create a SKU with its channel prices (same rules as POST /api/v1/products/{id}/skus)."""
    principal = posted_by(identity, form, Permission.MANAGE_CATALOG)
    product = service.get_product(session, product_id)
    with attempt(session, page_locale(request, identity)) as refusal:
        data = schemas.SkuCreate.model_validate(forms.sku_payload(form, new=True))
        service.create_sku(session, principal, product_id, data)
    if refusal.errors:
        return _sku_form(request, session, identity, product, form, None, refusal.errors)
    return redirect(f"/console/catalog/{product_id}?saved=sku")


@router.get("/catalog/{product_id}/skus/{sku_id}/edit")
def edit_sku_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    product_id: uuid.UUID,
    sku_id: uuid.UUID,
) -> Response:
    """The form of an existing SKU and its channel prices."""
    identity.principal.require(Permission.MANAGE_CATALOG)
    product, sku = _product_and_sku(session, product_id, sku_id)
    return _sku_form(request, session, identity, product, forms.sku_values(sku), sku)


@router.post("/catalog/{product_id}/skus/{sku_id}/edit")
def update_sku(
    request: Request,
    session: SessionDep,
    identity: Identity,
    product_id: uuid.UUID,
    sku_id: uuid.UUID,
    form: Form,
) -> Response:
    """Change a SKU and set its channel prices (PATCH /api/v1/skus/{id}, PUT …/prices)."""
    principal = posted_by(identity, form, Permission.MANAGE_CATALOG)
    product, sku = _product_and_sku(session, product_id, sku_id)
    with attempt(session, page_locale(request, identity)) as refusal:
        data = schemas.SkuUpdate.model_validate(forms.sku_payload(form, new=False))
        service.update_sku(session, principal, sku_id, data)
        prices = schemas.PricesSet.model_validate({"prices": forms.sku_prices(form)})
        if prices.prices:
            service.set_prices(session, principal, sku_id, prices)
    if refusal.errors:
        session.refresh(sku)
        values = {**form, "code": sku.code}
        return _sku_form(request, session, identity, product, values, sku, refusal.errors)
    return redirect(f"/console/catalog/{product_id}?saved=sku")


@router.post("/catalog/{product_id}/skus/{sku_id}/store-price")
def set_store_price(
    request: Request,
    session: SessionDep,
    identity: Identity,
    product_id: uuid.UUID,
    sku_id: uuid.UUID,
    form: Form,
) -> Response:
    """Set a store's own price of the SKU, or clear it when the amount is blank
    (PUT or DELETE /api/v1/skus/{id}/stores/{store}/price)."""
    principal = posted_by(identity, form, Permission.MANAGE_CATALOG)
    product, sku = _product_and_sku(session, product_id, sku_id)
    with attempt(session, page_locale(request, identity)) as refusal:
        store_id, amount = forms.store_price(form)
        if amount is None:
            service.clear_store_price(session, principal, sku_id, store_id)
        else:
            data = schemas.StorePriceSet.model_validate({"amount": amount})
            service.set_store_price(session, principal, sku_id, store_id, data)
    if refusal.errors:
        session.refresh(sku)
        errors = refusal.under("store_price").errors
        return _sku_form(request, session, identity, product, forms.sku_values(sku), sku, errors)
    return redirect(f"/console/catalog/{product_id}?saved=store_price")
