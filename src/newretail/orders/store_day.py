"""A store's day for its manager: today's sales and orders (the store's local day) and its
stock alerts (stock the system holds below zero after POS sales of goods in hand, and low
stock). Orchestration over the order ledger and stock; each part is its owner's read model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from newretail.core import localtime
from newretail.inventory import discrepancies as inventory_discrepancies
from newretail.inventory import reads as stock_reads
from newretail.inventory.schemas import StockDiscrepancyRead
from newretail.orders import reads
from newretail.orders.models import Order
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Store
from newretail.tenancy.permissions import Permission, Principal

ALERTS_SHOWN = 50


@dataclass(frozen=True)
class StoreDay:
    """What the store page shows for one local day."""

    store: Store
    day: date
    zone: str
    sales: reads.SalesSummary
    orders: list[Order]
    order_count: int
    low_stock: stock_reads.StockView
    discrepancies: list[StockDiscrepancyRead]


def scope_stores(session: Session, principal: Principal) -> list[Store]:
    """The stores of the principal's scope that sell (warehouses have no store page), by code."""
    stores = tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    return sorted((s for s in stores if s.channel_type != ChannelType.WAREHOUSE), key=_code)


def _code(store: Store) -> str:
    return store.code


def first_store(session: Session, principal: Principal) -> Store | None:
    """The store a store manager's page opens on: the first of their stores by code."""
    stores = scope_stores(session, principal)
    return stores[0] if stores else None


def store_day(
    session: Session,
    principal: Principal,
    store_id: uuid.UUID,
    page: int,
    per_page: int,
    now: datetime | None = None,
) -> StoreDay:
    """Today (the store's own zone) at one store of the principal's scope."""
    principal.require(Permission.READ)
    store = tenancy_service.get_store(session, principal, store_id)
    zone = store.time_zone
    day = localtime.today(zone, now)
    start, end = localtime.local_day_bounds(day, zone)
    filters = reads.OrderFilter(store_id=store.id, placed_from=start, placed_to=end)
    orders, count = reads.order_page(session, principal, filters, page, per_page)
    low = stock_reads.stock_view(
        session,
        principal,
        stock_reads.StockFilter(location_id=store.id, low_only=True),
        ALERTS_SHOWN,
    )
    return StoreDay(
        store=store,
        day=day,
        zone=zone,
        sales=reads.sales_summary(session, principal, filters),
        orders=orders,
        order_count=count,
        low_stock=low,
        discrepancies=inventory_discrepancies.list_discrepancies(session, principal, store.id),
    )
