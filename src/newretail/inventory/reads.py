"""Read models of stock: levels by location and SKU (available = on hand − allocated −
unexpired reservations), the console's pages of levels with their count, and the stock ledger."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from newretail.catalog.models import Sku
from newretail.core.database import utcnow, where_given
from newretail.core.errors import InvalidInput, NotFound
from newretail.core.pagination import numbered_page, paginate
from newretail.inventory import schemas
from newretail.inventory.models import (
    ReservationStatus,
    StockLevel,
    StockMovement,
    StockReservation,
)
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Permission, Principal
from newretail.tenancy.store_scope import store_scoped


def unexpired_reserved(now: datetime) -> Any:
    """Units in the level row's unexpired reservations (a correlated scalar subquery)."""
    return (
        select(func.coalesce(func.sum(StockReservation.quantity), 0))
        .where(
            StockReservation.sku_id == StockLevel.sku_id,
            StockReservation.location_id == StockLevel.location_id,
            StockReservation.status == ReservationStatus.ACTIVE,
            StockReservation.expires_at > now,
        )
        .correlate(StockLevel)
        .scalar_subquery()
    )


class _LocationAndSku(Protocol):
    @property
    def location_id(self) -> uuid.UUID | None: ...

    @property
    def sku_id(self) -> uuid.UUID | None: ...


def _at_locations_and_skus(
    statement: Select[Any],
    principal: Principal,
    location_column: InstrumentedAttribute[uuid.UUID],
    sku_column: InstrumentedAttribute[uuid.UUID],
    filters: _LocationAndSku,
) -> Select[Any]:
    """Rows of the principal's stores, of the filter's location and SKU when it names them."""
    return where_given(
        store_scoped(statement, principal, location_column),
        (location_column, filters.location_id),
        (sku_column, filters.sku_id),
    )


def _sku_matches(search: str) -> ColumnElement[bool]:
    """A SKU whose code or name holds `search` (any case), or whose barcode is it."""
    return or_(
        Sku.code.icontains(search, autoescape=True),
        Sku.name.icontains(search, autoescape=True),
        Sku.barcode == search,
    )


@dataclass(frozen=True)
class StockFilter:
    location_id: uuid.UUID | None = None
    sku_id: uuid.UUID | None = None
    low_only: bool = False
    # part of the SKU's code or name (any case), or its exact barcode
    search: str | None = None


def _levels_query(principal: Principal, filters: StockFilter) -> Select[Any]:
    reserved = unexpired_reserved(utcnow()).label("reserved_now")
    available = (StockLevel.on_hand - StockLevel.allocated - reserved).label("available")
    statement = (
        select(StockLevel, Sku.code, Store.code, reserved, available)
        .join(Sku, Sku.id == StockLevel.sku_id)
        .join(Store, Store.id == StockLevel.location_id)
    )
    statement = _at_locations_and_skus(
        statement, principal, StockLevel.location_id, StockLevel.sku_id, filters
    )
    search = (filters.search or "").strip()
    if search:
        statement = statement.where(_sku_matches(search))
    if filters.low_only:
        statement = statement.where(
            StockLevel.low_stock_threshold.is_not(None),
            StockLevel.on_hand - StockLevel.allocated - reserved <= StockLevel.low_stock_threshold,
        )
    return statement


def _level_read(row: Any) -> schemas.StockLevelRead:
    level, sku_code, location_code, reserved, available = row
    threshold = level.low_stock_threshold
    return schemas.StockLevelRead(
        sku_id=level.sku_id,
        sku_code=sku_code,
        location_id=level.location_id,
        location_code=location_code,
        on_hand=level.on_hand,
        allocated=level.allocated,
        reserved=int(reserved),
        available=int(available),
        low_stock_threshold=threshold,
        low=threshold is not None and int(available) <= threshold,
        updated_at=level.updated_at,
    )


def list_levels(
    session: Session,
    principal: Principal,
    filters: StockFilter,
    limit: int,
    offset: int = 0,
) -> list[schemas.StockLevelRead]:
    """Stock levels by location and SKU (code, name or barcode; low-stock only on request)."""
    principal.require(Permission.READ)
    if filters.location_id:
        principal.require_store(filters.location_id)
    if not 1 <= limit <= 5000:
        raise InvalidInput("must be between 1 and 5000", field="query.limit")
    statement = (
        _levels_query(principal, filters).order_by(Store.code, Sku.code).limit(limit).offset(offset)
    )
    return [_level_read(row) for row in session.execute(statement)]


@dataclass(frozen=True)
class StockView:
    """A page of stock levels, the count of every match and the names of their SKUs."""

    levels: list[schemas.StockLevelRead]
    total: int
    sku_names: dict[uuid.UUID, str]


def stock_view(
    session: Session, principal: Principal, filters: StockFilter, limit: int, offset: int = 0
) -> StockView:
    """`limit` matching stock levels from `offset`, with the count of all matches (console)."""
    levels = list_levels(session, principal, filters, limit, offset)
    counted = _levels_query(principal, filters).subquery()
    total = session.scalar(select(func.count()).select_from(counted)) or 0
    names = session.execute(
        select(Sku.id, Sku.name).where(Sku.id.in_({level.sku_id for level in levels}))
    )
    return StockView(levels, int(total), {sku_id: name for sku_id, name in names})


def get_level(
    session: Session, principal: Principal, location_id: uuid.UUID, sku_id: uuid.UUID
) -> schemas.StockLevelRead:
    """The stock of one SKU at one location."""
    principal.require(Permission.READ)
    principal.require_store(location_id)
    row = session.execute(_levels_query(principal, StockFilter(location_id, sku_id))).first()
    if row is None:
        raise NotFound("no stock of this SKU at this location", field="sku_id")
    return _level_read(row)


def list_movements(
    session: Session,
    principal: Principal,
    limit: int,
    cursor: str | None,
    location_id: uuid.UUID | None = None,
    sku_id: uuid.UUID | None = None,
    reference: str | None = None,
) -> tuple[list[StockMovement], str | None]:
    """The stock ledger, oldest first, filtered by location, SKU or reference."""
    principal.require(Permission.READ)
    statement = _movements_query(principal, MovementFilter(location_id, sku_id, reference))
    return paginate(session, statement, StockMovement, limit, cursor)


@dataclass(frozen=True)
class MovementFilter:
    location_id: uuid.UUID | None = None
    sku_id: uuid.UUID | None = None
    reference: str | None = None
    # part of the SKU's code or name (any case), or its exact barcode
    search: str | None = None


def _movements_query(principal: Principal, filters: MovementFilter) -> Select[Any]:
    statement = _at_locations_and_skus(
        select(StockMovement),
        principal,
        StockMovement.location_id,
        StockMovement.sku_id,
        filters,
    )
    statement = where_given(statement, (StockMovement.reference, filters.reference))
    search = (filters.search or "").strip()
    if search:
        statement = statement.join(Sku, Sku.id == StockMovement.sku_id).where(_sku_matches(search))
    return statement


@dataclass(frozen=True)
class MovementView:
    """A numbered page of the stock ledger, the count of every match, the SKUs' code and name."""

    movements: list[StockMovement]
    total: int
    skus: dict[uuid.UUID, tuple[str, str]]


def movement_view(
    session: Session, principal: Principal, filters: MovementFilter, page: int, per_page: int
) -> MovementView:
    """One numbered page of the stock ledger, newest first (console)."""
    principal.require(Permission.READ)
    if filters.location_id:
        principal.require_store(filters.location_id)
    statement = _movements_query(principal, filters).order_by(
        StockMovement.created_at.desc(), StockMovement.id.desc()
    )
    movements, total = numbered_page(session, statement, page, per_page)
    skus = session.execute(
        select(Sku.id, Sku.code, Sku.name).where(Sku.id.in_({m.sku_id for m in movements}))
    )
    return MovementView(movements, total, {sku: (code, name) for sku, code, name in skus})


def on_hand_at(
    session: Session, principal: Principal, location_id: uuid.UUID, instants: list[datetime]
) -> dict[uuid.UUID, list[int]]:
    """Each SKU's on-hand stock at the location at each instant (the sum of its ledger's
    deltas before it), for the SKUs with any movement there before the last instant; the
    operations centre reads stock-outs from it (a SKU at 0 at the start of a local day)."""
    principal.require(Permission.READ)
    principal.require_store(location_id)
    if not instants:
        return {}
    ordered = sorted(instants)
    rows = session.execute(
        select(StockMovement.sku_id, StockMovement.created_at, StockMovement.delta)
        .where(
            StockMovement.location_id == location_id,
            StockMovement.created_at < ordered[-1],
        )
        .order_by(StockMovement.sku_id, StockMovement.created_at)
    )
    deltas: dict[uuid.UUID, list[tuple[datetime, int]]] = {}
    for sku_id, created_at, delta in rows:
        deltas.setdefault(sku_id, []).append((created_at, delta))
    result: dict[uuid.UUID, list[int]] = {}
    for sku_id, moves in deltas.items():
        levels = []
        for instant in instants:
            levels.append(sum(delta for at, delta in moves if at < instant))
        result[sku_id] = levels
    return result
