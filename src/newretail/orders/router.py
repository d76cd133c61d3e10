"""REST API for the order ledger: POS sales, checkout, payment, fulfilment, cancel, refunds."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from newretail.core.errors import InvalidInput
from newretail.core.http import page
from newretail.core.pagination import Page
from newretail.orders import checkout as checkout_service
from newretail.orders import pos as pos_service
from newretail.orders import reads as reads_service
from newretail.orders import refunds as refunds_service
from newretail.orders import schemas
from newretail.orders import transitions as transitions_service
from newretail.orders.models import Order, OrderStatus
from newretail.orders.sales import SaleResult
from newretail.tenancy.dependencies import CurrentPrincipal, Cursor, Limit, SessionDep
from newretail.tenancy.models import ChannelType

router = APIRouter(prefix="/api/v1", tags=["orders"])


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput("must include a time zone", field=field)
    return value


@router.get("/orders", response_model=Page[schemas.OrderRead])
def list_orders(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
    channel: ChannelType | None = None,
    store_id: uuid.UUID | None = None,
    status: OrderStatus | None = None,
    member_id: uuid.UUID | None = None,
    placed_from: Annotated[datetime | None, Query(description="Inclusive, ISO 8601")] = None,
    placed_to: Annotated[datetime | None, Query(description="Exclusive, ISO 8601")] = None,
) -> object:
    """Orders of every channel, filtered by channel, store, status, member and date range."""
    filters = reads_service.OrderFilter(
        channel,
        store_id,
        status,
        member_id,
        _aware(placed_from, "query.placed_from"),
        _aware(placed_to, "query.placed_to"),
    )
    return page(reads_service.list_orders(session, principal, filters, limit, cursor))


def _placed(result: SaleResult, response: Response) -> Order:
    """The order a sale placed (201); a resend's recorded order answers 200."""
    if result.replayed:
        response.status_code = 200
    return result.order


@router.post("/orders/pos", response_model=schemas.OrderRead, status_code=201)
def pos_sale(
    session: SessionDep,
    principal: CurrentPrincipal,
    body: schemas.PosSaleCreate,
    response: Response,
) -> object:
    """Record a sale at a till, counter, pop-up or vending machine (resends answer 200)."""
    return _placed(pos_service.pos_sale(session, principal, body), response)


@router.post("/orders/checkout", response_model=schemas.OrderRead, status_code=201)
def checkout(
    session: SessionDep,
    principal: CurrentPrincipal,
    body: schemas.CheckoutCreate,
    response: Response,
) -> object:
    """Place an online or cloud-shelf order (allocates stock by the fulfilment strategy)."""
    return _placed(checkout_service.checkout(session, principal, body), response)


@router.get("/orders/{order_id}", response_model=schemas.OrderRead)
def read_order(session: SessionDep, principal: CurrentPrincipal, order_id: uuid.UUID) -> object:
    """Read an order with its lines."""
    return reads_service.get_order(session, principal, order_id)


@router.post("/orders/{order_id}/pay", response_model=schemas.OrderRead)
def pay(session: SessionDep, principal: CurrentPrincipal, order_id: uuid.UUID) -> object:
    """Record payment of a placed order."""
    return transitions_service.pay(session, principal, order_id)


@router.post("/orders/{order_id}/fulfil", response_model=schemas.OrderRead)
def fulfil(session: SessionDep, principal: CurrentPrincipal, order_id: uuid.UUID) -> object:
    """Ship or hand over a paid order."""
    return transitions_service.fulfil(session, principal, order_id)


@router.post("/orders/{order_id}/cancel", response_model=schemas.OrderRead)
def cancel(session: SessionDep, principal: CurrentPrincipal, order_id: uuid.UUID) -> object:
    """Cancel an order before fulfilment; stock returns."""
    return transitions_service.cancel(session, principal, order_id)


@router.post("/orders/{order_id}/refunds", response_model=schemas.RefundRead, status_code=201)
def create_refund(
    session: SessionDep,
    principal: CurrentPrincipal,
    order_id: uuid.UUID,
    body: schemas.RefundCreate,
) -> object:
    """Refund some lines (or everything left) of a fulfilled order."""
    return refunds_service.refund(session, principal, order_id, body)


@router.get("/orders/{order_id}/refunds", response_model=list[schemas.RefundRead])
def list_refunds(session: SessionDep, principal: CurrentPrincipal, order_id: uuid.UUID) -> object:
    """The refunds of an order."""
    return reads_service.list_refunds(session, principal, order_id)


@router.get("/orders/{order_id}/refunds/{refund_id}", response_model=schemas.RefundRead)
def read_refund(
    session: SessionDep, principal: CurrentPrincipal, order_id: uuid.UUID, refund_id: uuid.UUID
) -> object:
    """Read a refund."""
    return reads_service.get_refund(session, principal, order_id, refund_id)
