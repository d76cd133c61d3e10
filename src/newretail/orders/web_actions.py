"""Console actions on one order: refund some units of some lines (or everything left) and
cancel before fulfilment. Each calls the service the API calls (POST /api/v1/orders/{id}/refunds,
…/cancel); a refusal is shown on the order page with its reason (HTTP 422 or 409)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from newretail.console.forms import FormError, Refusal, attempt
from newretail.console.shell import Form, page_locale, redirect, render
from newretail.marketing import reads as marketing_reads
from newretail.orders import reads, refunds, schemas, transitions
from newretail.orders.models import FulfilmentType, Order, OrderStatus
from newretail.tenancy import auth
from newretail.tenancy.dependencies import Identity, SessionDep, posted_by
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
    refusal: Refusal | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    """The order page: lines, payment, fulfilment, refunds, and the refund and cancel forms."""
    detail = reads.order_detail(session, identity.principal, order_id)
    order = detail.order
    can_sell = identity.principal.can(Permission.SELL)
    return render(
        request,
        "orders/detail.html",
        identity,
        refusal.status_code if refusal else 200,
        section="orders",
        order=order,
        refunds=detail.refunds,
        stores=detail.stores,
        skus=detail.skus,
        member=detail.member,
        line_numbers=detail.line_numbers,
        net=detail.net,
        coupons=marketing_reads.order_coupons(session, str(order.id)),
        is_carry_out=order.fulfilment_type == FulfilmentType.CARRY_OUT,
        can_refund=can_sell and order.status in REFUNDABLE,
        can_cancel=can_sell and order.status in CANCELLABLE,
        done=done if done in DONE else "",
        errors=refusal.errors if refusal else {},
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


@router.post("/orders/{order_id}/refund")
def refund_order(
    request: Request, session: SessionDep, identity: Identity, order_id: uuid.UUID, form: Form
) -> Response:
    """Refund units of some lines of a fulfilled order; they go back to the stock they left."""
    principal = posted_by(identity, form, Permission.SELL)
    order = reads.get_order(session, principal, order_id)
    with attempt(session, page_locale(request, identity)) as refusal:
        data = schemas.RefundCreate.model_validate(refund_payload(form, order))
        refunds.refund(session, principal, order_id, data)
    if refusal.errors:
        return order_page(request, session, identity, order_id, refusal=refusal, values=form)
    return redirect(f"/console/orders/{order_id}?done=refund")


@router.post("/orders/{order_id}/cancel")
def cancel_order(
    request: Request, session: SessionDep, identity: Identity, order_id: uuid.UUID, form: Form
) -> Response:
    """Cancel an order before fulfilment: its stock returns, a paid order is refunded in full."""
    principal = posted_by(identity, form, Permission.SELL)
    reads.get_order(session, principal, order_id)
    with attempt(session, page_locale(request, identity)) as refusal:
        transitions.cancel(session, principal, order_id)
    if refusal.errors:
        return order_page(request, session, identity, order_id, refusal=refusal.under("cancel"))
    return redirect(f"/console/orders/{order_id}?done=cancel")
