"""Console pages for the order ledger: orders of every channel with filters (paged, with the
count and total), an order page with its refund and cancel actions (orders/web_actions.py),
and the member 360 page's order history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from newretail.console.paging import PagingDep
from newretail.console.params import optional_day, optional_id
from newretail.console.shell import render
from newretail.core import localtime
from newretail.core.errors import InvalidInput
from newretail.orders import reads, web_actions, web_store
from newretail.orders.models import OrderStatus
from newretail.tenancy import auth
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.models import ChannelType
from newretail.tenancy.web_stores import selling, stores_by_code

router = APIRouter(prefix="/console", include_in_schema=False)
router.include_router(web_actions.router)
router.include_router(web_store.router)
MEMBER_ORDERS = 50
SELLING_CHANNELS = [c.value for c in ChannelType if c != ChannelType.WAREHOUSE]


@dataclass
class OrderQuery:
    """The order list's filters, as the page shows them again; an unknown channel or status
    is no filter."""

    channel: str = ""
    store_id: str = ""
    status: str = ""
    date_from: str = ""
    date_to: str = ""

    def __post_init__(self) -> None:
        if self.channel not in SELLING_CHANNELS:
            self.channel = ""
        if self.status not in set(OrderStatus):
            self.status = ""


def order_filter(query: OrderQuery, time_zone: str) -> reads.OrderFilter:
    """The service filter for the page's query; dates are whole days in the organisation's zone."""
    start = optional_day(query.date_from, "date_from")
    end = optional_day(query.date_to, "date_to")
    if start and end and end < start:
        raise InvalidInput("must not be before date_from", field="date_to")
    store_id = optional_id(query.store_id, "store_id", "not a store id")
    return reads.OrderFilter(
        channel=query.channel or None,
        store_id=store_id,
        status=query.status or None,
        placed_from=localtime.local_day_bounds(start, time_zone)[0] if start else None,
        placed_to=localtime.local_day_bounds(end, time_zone)[1] if end else None,
    )


@router.get("/orders")
def orders_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    paging: PagingDep,
    query: Annotated[OrderQuery, Depends()],
) -> Response:
    """Orders of every channel, newest first, by channel, store, status and local date range,
    a numbered page at a time with the count and total of every match."""
    principal = identity.principal
    filters = order_filter(query, identity.organization.time_zone)
    orders, count = reads.order_page(session, principal, filters, paging.number, paging.size)
    total = reads.orders_total(session, principal, filters)
    stores = stores_by_code(session, principal)
    return render(
        request,
        "orders/list.html",
        identity,
        section="orders",
        orders=orders,
        count=count,
        total=total,
        paging=paging,
        stores=selling(stores),
        store_names={s.id: s.name for s in stores},
        channels=SELLING_CHANNELS,
        statuses=[s.value for s in OrderStatus],
        query=query,
    )


@router.get("/orders/{order_id}")
def order_page(
    request: Request, session: SessionDep, identity: Identity, order_id: uuid.UUID, done: str = ""
) -> Response:
    """One order: lines, payment, fulfilment and refunds; refund and cancel where allowed."""
    return web_actions.order_page(request, session, identity, order_id, done=done)


@dataclass(frozen=True)
class MemberOrder:
    """One row of the member 360 page's orders (an object: `items` is a count, not a method)."""

    id: uuid.UUID
    placed_at: datetime
    channel: str
    store_name: str  # people read names: the store's name, never its code
    status: str
    items: int
    total_amount: Decimal
    refunded_amount: Decimal


@dataclass(frozen=True)
class MemberOrders:
    """The newest orders of one member from every channel, for the member 360 page."""

    orders: list[MemberOrder]
    count: int
    total: Decimal


def member_orders(
    session: Session, identity: auth.ConsoleIdentity, member_id: uuid.UUID
) -> MemberOrders:
    """The member's newest orders in the principal's store scope (the member 360 page);
    `placed_at` in the organisation's zone."""
    principal = identity.principal
    orders, count, total = reads.recent_orders(
        session, principal, reads.OrderFilter(member_id=member_id), MEMBER_ORDERS
    )
    stores = {
        s.id: s
        for s in tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    }
    zone = identity.organization.time_zone
    rows = [
        MemberOrder(
            id=order.id,
            placed_at=localtime.to_local(order.placed_at, zone),
            channel=order.channel,
            store_name=stores[order.store_id].name if order.store_id in stores else "—",
            status=order.status,
            items=sum(line.quantity for line in order.lines),
            total_amount=order.total_amount,
            refunded_amount=order.refunded_amount,
        )
        for order in orders
    ]
    return MemberOrders(rows, count, total)
