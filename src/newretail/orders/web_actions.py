"""Console actions on one order: refund some units of some lines (or everything left) and
cancel before fulfilment. Each calls the service the API calls (POST /api/v1/orders/{id}/refunds,
…/cancel); a refusal is shown on the order page with its reason (HTTP 422 or 409)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from newretail.console.forms import FormError, errors_of
from newretail.console.shell import Form, check_csrf, page_locale, redirect, render
from newretail.core.errors import NewRetailError
from newretail.orders import reads, refunds, schemas, transitions
from newretail.orders.models import FulfilmentType, Order, OrderStatus
from newretail.tenancy import auth
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(include_in_schema=False)  # included by orders/web.py under /console
REFUNDABLE = (OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED)
CANCELLABLE = (OrderStatus.PLACED, OrderStatus.PAID)
# refusals: message keys in the orders locale catalogues
WHOLE_NUMBER = "orders.error.whole_number"
NOTHING_CHOSEN = "orders.error.nothing_chosen"
TOO_MANY = "orders.error.too_many"
DONE = ("refund", "cancel")


def order_page(
    request: Request,
    session: Session,
    identity: auth.ConsoleIdentity,
    order_id: uuid.UUID,
    *,
    done: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The order page: lines, payment, fulfilment, refunds, and the refund and cancel forms."""
    detail = reads.order_detail(session, identity.principal, order_id)
    order = detail.order
    can_sell = identity.principal.can(Permission.SELL)
    return render(
        request,
        "orders/detail.html",
        identity,
        status_code,
        section="orders",
        order=order,
        refunds=detail.refunds,
        stores=detail.stores,
        skus=detail.skus,
        member=detail.member,
        line_numbers=detail.line_numbers,
        net=detail.net,
        is_carry_out=order.fulfilment_type == FulfilmentType.CARRY_OUT,
        can_refund=can_sell and order.status in REFUNDABLE,
        can_cancel=can_sell and order.status in CANCELLABLE,
        done=done if done in DONE else "",
        errors=errors or {},
        values=values or {},
    )


def refund_payload(form: dict[str, str], order: Order) -> dict[str, Any]:
    """A RefundCreate payload: `refund_<line number>` units per line, or `everything` left.
    (The service checks what is left again, under its lock; the form names the line.)"""
    reason = form.get("reason", "").strip() or None
    if form.get("everything"):
        return {"lines": None, "reason": reason}
    lines = []
    for line in sorted(order.lines, key=lambda item: item.line_number):
        field = f"refund_{line.line_number}"
        raw = form.get(field, "").strip()
        if not raw:
            continue
        try:
            quantity = int(raw)
        except ValueError as exc:
            raise FormError.keyed(field, WHOLE_NUMBER) from exc
        left = line.quantity - line.refunded_quantity
        if not 0 <= quantity <= left:
            raise FormError.keyed(field, TOO_MANY, left=left, line=line.line_number)
        if quantity:
            lines.append({"order_line_id": line.id, "quantity": quantity})
    if not lines:
        raise FormError.keyed("refund", NOTHING_CHOSEN)
    return {"lines": lines, "reason": reason}


def _refused(exc: Exception, locale: str) -> tuple[dict[str, str], int]:
    if isinstance(exc, NewRetailError) and exc.status_code in (401, 403, 404):
        raise exc
    status = exc.status_code if isinstance(exc, NewRetailError) else 422
    return errors_of(exc, locale), status


@router.post("/orders/{order_id}/refund")
def refund_order(
    request: Request, session: SessionDep, identity: Identity, order_id: uuid.UUID, form: Form
) -> Response:
    """Refund units of some lines of a fulfilled order; they go back to the stock they left."""
    check_csrf(identity, form)
    principal = identity.principal
    principal.require(Permission.SELL)
    order = reads.get_order(session, principal, order_id)
    try:
        with session.begin_nested():
            data = schemas.RefundCreate.model_validate(refund_payload(form, order))
            refunds.refund(session, principal, order_id, data)
    except (FormError, ValidationError, NewRetailError) as exc:
        errors, status = _refused(exc, page_locale(request, identity))
        return order_page(
            request, session, identity, order_id, errors=errors, values=form, status_code=status
        )
    return redirect(f"/console/orders/{order_id}?done=refund")


@router.post("/orders/{order_id}/cancel")
def cancel_order(
    request: Request, session: SessionDep, identity: Identity, order_id: uuid.UUID, form: Form
) -> Response:
    """Cancel an order before fulfilment: its stock returns, a paid order is refunded in full."""
    check_csrf(identity, form)
    principal = identity.principal
    principal.require(Permission.SELL)
    reads.get_order(session, principal, order_id)
    try:
        with session.begin_nested():
            transitions.cancel(session, principal, order_id)
    except NewRetailError as exc:
        errors, status = _refused(exc, page_locale(request, identity))
        return order_page(
            request,
            session,
            identity,
            order_id,
            errors={"cancel": next(iter(errors.values()))},
            status_code=status,
        )
    return redirect(f"/console/orders/{order_id}?done=cancel")
