"""Console pages for the order ledger: orders of every channel with filters, an order page,
and the member 360 page's order history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from newretail.console.shell import render
from newretail.core.errors import InvalidInput
from newretail.orders import reads
from newretail.orders.models import FulfilmentType, Order, OrderStatus
from newretail.tenancy import auth
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.models import ChannelType

router = APIRouter(prefix="/console", include_in_schema=False)
SHOWN = 200
MEMBER_ORDERS = 50
SELLING_CHANNELS = [c.value for c in ChannelType if c != ChannelType.WAREHOUSE]


@dataclass(frozen=True)
class OrderQuery:
    channel: str = ""
    store_id: str = ""
    status: str = ""
    date_from: str = ""
    date_to: str = ""


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("not a date (YYYY-MM-DD)", field=field) from exc


def order_filter(query: OrderQuery, time_zone: str) -> reads.OrderFilter:
    """The service filter for the page's query; dates are whole days in the organisation's zone."""
    zone = ZoneInfo(time_zone)
    start, end = _day(query.date_from, "date_from"), _day(query.date_to, "date_to")
    if start and end and end < start:
        raise InvalidInput("must not be before date_from", field="date_to")
    store_id = None
    if query.store_id:
        try:
            store_id = uuid.UUID(query.store_id)
        except ValueError as exc:
            raise InvalidInput("not a store id", field="store_id") from exc
    return reads.OrderFilter(
        channel=query.channel or None,
        store_id=store_id,
        status=query.status or None,
        placed_from=datetime.combine(start, time(), zone) if start else None,
        placed_to=datetime.combine(end + timedelta(days=1), time(), zone) if end else None,
    )


@router.get("/orders")
def orders_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    channel: str = "",
    store_id: str = "",
    status: str = "",
    date_from: str = "",
    date_to: str = "",
) -> Response:
    """Orders of every channel, newest first, by channel, store, status and date range."""
    principal = identity.principal
    query = OrderQuery(
        channel if channel in SELLING_CHANNELS else "",
        store_id,
        status if status in set(OrderStatus) else "",
        date_from,
        date_to,
    )
    filters = order_filter(query, identity.organization.time_zone)
    orders, count, total = reads.recent_orders(session, principal, filters, SHOWN)
    stores = tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    return render(
        request,
        "orders/list.html",
        identity,
        section="orders",
        orders=orders,
        count=count,
        total=total,
        shown=SHOWN,
        stores=sorted(
            (s for s in stores if s.channel_type != ChannelType.WAREHOUSE), key=lambda s: s.code
        ),
        store_codes={s.id: s.code for s in stores},
        channels=SELLING_CHANNELS,
        statuses=[s.value for s in OrderStatus],
        zone=ZoneInfo(identity.organization.time_zone),
        query=query,
    )


@router.get("/orders/{order_id}")
def order_page(
    request: Request, session: SessionDep, identity: Identity, order_id: uuid.UUID
) -> Response:
    """One order: lines, payment, fulfilment and refunds."""
    detail = reads.order_detail(session, identity.principal, order_id)
    return render(
        request,
        "orders/detail.html",
        identity,
        section="orders",
        order=detail.order,
        refunds=detail.refunds,
        stores=detail.stores,
        skus=detail.skus,
        member=detail.member,
        line_numbers=detail.line_numbers,
        net=detail.net,
        zone=ZoneInfo(identity.organization.time_zone),
        is_carry_out=detail.order.fulfilment_type == FulfilmentType.CARRY_OUT,
    )


@dataclass(frozen=True)
class MemberOrders:
    """The newest orders of one member from every channel, for the member 360 page."""

    orders: list[dict[str, Any]]
    count: int
    total: Decimal


def member_orders(
    session: Session, identity: auth.ConsoleIdentity, member_id: uuid.UUID
) -> MemberOrders:
    """The member's newest orders in the principal's store scope (the member 360 page)."""
    principal = identity.principal
    orders, count, total = reads.recent_orders(
        session, principal, reads.OrderFilter(member_id=member_id), MEMBER_ORDERS
    )
    codes = {
        s.id: s.code
        for s in tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    }
    zone = ZoneInfo(identity.organization.time_zone)
    return MemberOrders([_summary(order, codes, zone) for order in orders], count, total)


def _summary(order: Order, codes: dict[uuid.UUID, str], zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": order.id,
        "placed_at": order.placed_at.astimezone(zone),
        "channel": order.channel,
        "store_code": codes.get(order.store_id, "—"),
        "status": order.status,
        "items": sum(line.quantity for line in order.lines),
        "total_amount": order.total_amount,
        "refunded_amount": order.refunded_amount,
    }
