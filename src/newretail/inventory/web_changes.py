"""Console forms that change stock: a receipt, an adjustment with its reason, a transfer
between two locations. Each calls the stock service the API calls (same rules, same ledger);
a refused form is shown again with the fields at fault (HTTP 422)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from newretail.console.forms import attempt, errors_of, render_form
from newretail.console.shell import Form, page_locale, redirect
from newretail.core.i18n import translator
from newretail.inventory import forms, schemas, service
from newretail.inventory.errors import OutOfStock
from newretail.tenancy import auth
from newretail.tenancy.dependencies import Identity, SessionDep, posted_by
from newretail.tenancy.permissions import Permission, Principal
from newretail.tenancy.web_stores import stores_by_code

router = APIRouter(include_in_schema=False)  # included by inventory/web.py under /console
# the out-of-stock refusal in the reader's language, naming the SKU
OUT_OF_STOCK = "stock.error.out_of_stock"


class Change:
    """One kind of stock change: its payload, schema and service use case."""

    def __init__(
        self,
        payload: Callable[[Session, dict[str, str]], dict[str, Any]],
        schema: type[BaseModel],
        use_case: Callable[[Session, Principal, Any], schemas.StockChangeRead],
        location_field: str,
    ) -> None:
        self.payload = payload
        self.schema = schema
        self.use_case = use_case
        self.location_field = location_field


CHANGES = {
    "receipt": Change(
        forms.receipt_payload, schemas.ReceiptCreate, service.receive_stock, "location_id"
    ),
    "adjustment": Change(
        forms.adjustment_payload, schemas.AdjustmentCreate, service.adjust_stock, "location_id"
    ),
    "transfer": Change(
        forms.transfer_payload, schemas.TransferCreate, service.transfer_stock, "from_location_id"
    ),
}
FIELDS = {
    "location_id",
    "from_location_id",
    "to_location_id",
    "delta",
    "note",
    "reference",
    *(f"sku_{n}" for n in range(forms.LINES)),
    *(f"quantity_{n}" for n in range(forms.LINES)),
}


def _errors(exc: Exception, locale: str) -> dict[str, str]:
    """Field -> message; a message about no field of the form (out of stock…) heads it."""
    if isinstance(exc, OutOfStock):
        return {"_form": translator(locale)(OUT_OF_STOCK, sku=exc.sku_code)}
    errors: dict[str, str] = {}
    for field, message in errors_of(exc, locale).items():
        errors[field if field in FIELDS else "_form"] = message
    return errors


def _form_page(
    request: Request,
    session: Session,
    identity: auth.ConsoleIdentity,
    kind: str,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    return render_form(
        request,
        "inventory/change_form.html",
        identity,
        values,
        errors,
        section="stock",
        kind=kind,
        locations=stores_by_code(session, identity.principal),
        lines=range(forms.LINES),
    )


def _change_page(kind: str) -> Any:
    def page(
        request: Request,
        session: SessionDep,
        identity: Identity,
        location_id: str = "",
        sku: str = "",
    ) -> Response:
        identity.principal.require(Permission.MANAGE_STOCK)
        values = {CHANGES[kind].location_field: location_id, "sku_0": sku}
        return _form_page(request, session, identity, kind, values)

    page.__name__ = f"{kind}_page"
    page.__doc__ = f"The stock {kind} form (a location and a SKU may be given)."
    return page


def _change_submit(kind: str) -> Any:
    change = CHANGES[kind]

    def submit(request: Request, session: SessionDep, identity: Identity, form: Form) -> Response:
        principal = posted_by(identity, form, Permission.MANAGE_STOCK)
        with attempt(session, page_locale(request, identity), _errors) as refusal:
            data = change.schema.model_validate(change.payload(session, form))
            result = change.use_case(session, principal, data)
        if refusal.errors:
            return _form_page(request, session, identity, kind, form, refusal.errors)
        location = form.get(change.location_field, "")
        return redirect(
            f"/console/stock/movements?location_id={location}&reference={result.reference}"
            f"&done={kind}"
        )

    submit.__name__ = f"submit_{kind}"
    submit.__doc__ = f"Book a stock {kind} (same rules as POST /api/v1/stock/{kind}s)."
    return submit


for _kind in CHANGES:
    router.add_api_route(f"/stock/{_kind}", _change_page(_kind), methods=["GET"])
    router.add_api_route(f"/stock/{_kind}", _change_submit(_kind), methods=["POST"])
