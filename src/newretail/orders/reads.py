"""Read models of the order ledger: orders filtered and paged, one order with what its page
shows, and an order's refunds."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from newretail.catalog.models import Sku
from newretail.core.errors import NewRetailError, NotFound
from newretail.core.pagination import CONSOLE_PER_PAGE, numbered_page, paginate
from newretail.members import service as members_service
from newretail.orders.models import Order, OrderStatus, Refund
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Permission, Principal
from newretail.tenancy.store_scope import store_scoped


@dataclass(frozen=True)
class OrderFilter:
    channel: str | None = None
    store_id: uuid.UUID | None = None
    status: str | None = None
    member_id: uuid.UUID | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None


def _filtered_orders(principal: Principal, filters: OrderFilter) -> Select[Any]:
    statement = store_scoped(select(Order), principal, Order.store_id)
    named: tuple[tuple[InstrumentedAttribute[Any], object], ...] = (
        (Order.channel, filters.channel),
        (Order.store_id, filters.store_id),
        (Order.status, filters.status),
        (Order.member_id, filters.member_id),
    )
    statement = statement.where(*(column == value for column, value in named if value))
    if filters.placed_from:
        statement = statement.where(Order.placed_at >= filters.placed_from)
    if filters.placed_to:
        statement = statement.where(Order.placed_at < filters.placed_to)
    return statement


def list_orders(
    session: Session, principal: Principal, filters: OrderFilter, limit: int, cursor: str | None
) -> tuple[list[Order], str | None]:
    """Orders by channel, store, status, member and placement date range."""
    principal.require(Permission.READ)
    return paginate(session, _filtered_orders(principal, filters), Order, limit, cursor)


def recent_orders(
    session: Session, principal: Principal, filters: OrderFilter, limit: int = 200
) -> tuple[Sequence[Order], int, Decimal]:
    """The newest matching orders, with the count and total of all matches (console)."""
    orders, count = order_page(session, principal, filters, 1, limit)
    return orders, count, orders_total(session, principal, filters)


def orders_total(session: Session, principal: Principal, filters: OrderFilter) -> Decimal:
    """The summed total amount of every matching order."""
    principal.require(Permission.READ)
    statement = _filtered_orders(principal, filters)
    total = session.scalar(
        statement.with_only_columns(func.coalesce(func.sum(Order.total_amount), 0))
    )
    return Decimal(total or 0)


def order_page(
    session: Session,
    principal: Principal,
    filters: OrderFilter,
    page: int = 1,
    per_page: int = CONSOLE_PER_PAGE,
) -> tuple[list[Order], int]:
    """One numbered page of matching orders, newest first, and how many match (console)."""
    principal.require(Permission.READ)
    statement = _filtered_orders(principal, filters).order_by(
        Order.placed_at.desc(), Order.id.desc()
    )
    return numbered_page(session, statement, page, per_page)


@dataclass(frozen=True)
class SalesSummary:
    """Orders not cancelled, their amount and what was refunded of it."""

    orders: int
    amount: Decimal
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        return self.amount - self.refunded


def sales_summary(session: Session, principal: Principal, filters: OrderFilter) -> SalesSummary:
    """How many matching orders were not cancelled, their amount and their refunds."""
    principal.require(Permission.READ)
    statement = _filtered_orders(principal, filters).where(Order.status != OrderStatus.CANCELLED)
    count, amount, refunded = session.execute(
        statement.with_only_columns(
            func.count(),
            func.coalesce(func.sum(Order.total_amount), 0),
            func.coalesce(func.sum(Order.refunded_amount), 0),
        )
    ).one()
    return SalesSummary(int(count), Decimal(amount), Decimal(refunded))


def get_order(session: Session, principal: Principal, order_id: uuid.UUID) -> Order:
    principal.require(Permission.READ)
    order = session.scalar(
        select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    )
    if order is None or (
        principal.store_ids is not None and order.store_id not in principal.store_ids
    ):
        raise NotFound("order not found", field="order_id")
    return order


@dataclass(frozen=True)
class OrderMember:
    """Who bought, as the order page names them (the members domain owns the profile)."""

    id: uuid.UUID
    name: str | None


@dataclass(frozen=True)
class OrderDetail:
    """An order with what its page shows: refunds, stores, SKUs and the member."""

    order: Order
    refunds: Sequence[Refund]
    stores: dict[uuid.UUID, Store]
    skus: dict[uuid.UUID, Sku]
    member: OrderMember | None
    line_numbers: dict[uuid.UUID, int]
    net: Decimal


def order_detail(session: Session, principal: Principal, order_id: uuid.UUID) -> OrderDetail:
    """One order with its refunds, the stores and SKUs it names and its member (console)."""
    order = get_order(session, principal, order_id)
    refunds = list_refunds(session, principal, order_id)
    stores = {
        store.id: store
        for store in tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    }
    skus = {
        sku.id: sku
        for sku in session.scalars(
            select(Sku).where(Sku.id.in_({line.sku_id for line in order.lines}))
        )
    }
    member = None
    if order.member_id is not None:
        try:
            profile = members_service.get_member(session, principal, order.member_id)
            member = OrderMember(profile.id, profile.name)
        except NewRetailError:
            member = None  # erased member: the order keeps its id
    return OrderDetail(
        order=order,
        refunds=refunds,
        stores=stores,
        skus=skus,
        member=member,
        line_numbers={line.id: line.line_number for line in order.lines},
        net=order.total_amount - order.refunded_amount,
    )


def list_refunds(session: Session, principal: Principal, order_id: uuid.UUID) -> Sequence[Refund]:
    """The refunds of an order, oldest first."""
    get_order(session, principal, order_id)
    return session.scalars(
        select(Refund).where(Refund.order_id == order_id).order_by(Refund.created_at)
    ).all()


def get_refund(
    session: Session, principal: Principal, order_id: uuid.UUID, refund_id: uuid.UUID
) -> Refund:
    get_order(session, principal, order_id)
    found = session.scalar(
        select(Refund).where(Refund.id == refund_id, Refund.order_id == order_id)
    )
    if found is None:
        raise NotFound("refund not found", field="refund_id")
    return found
