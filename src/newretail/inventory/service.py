"""Stock use cases an operator or a cart calls: receipts, adjustments, transfers, a location's
low-stock threshold and online policy, and cart reservations (reserve, release, consume).

Every change of a stock row goes through the guarded updates of `inventory.levels`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newretail.catalog import service as catalog_service
from newretail.catalog.models import Sku
from newretail.core.database import NO_SYNC, utcnow
from newretail.core.errors import InvalidInput, NotFound
from newretail.inventory import schemas
from newretail.inventory.errors import OutOfStock
from newretail.inventory.fulfilment import candidate_locations, origin_of
from newretail.inventory.levels import (
    ensure_level,
    guarded_update,
    level_row,
    lock_level,
    put_back,
    record_movements,
    take,
)
from newretail.inventory.models import (
    ReservationStatus,
    StockLevel,
    StockLocation,
    StockMovement,
    StockReservation,
)
from newretail.inventory.reads import get_level
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Permission, Principal


# ---------------------------------------------------------------- stock changes
def _stock_location(session: Session, principal: Principal, location_id: uuid.UUID) -> Store:
    """A location of the caller's scope, where the caller may manage stock."""
    principal.require(Permission.MANAGE_STOCK)
    return tenancy_service.get_store(session, principal, location_id)


def _skus(session: Session, sku_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Sku]:
    wanted = set(sku_ids)
    found = {s.id: s for s in session.scalars(select(Sku).where(Sku.id.in_(wanted)))}
    if len(found) != len(wanted):
        raise InvalidInput("unknown SKU in this organisation", field="sku_id")
    return found


def _merged(
    session: Session, lines: Iterable[schemas.StockLineIn]
) -> tuple[list[tuple[uuid.UUID, int]], dict[uuid.UUID, Sku]]:
    """The lines' quantities by SKU, in SKU order, and their SKUs (each must exist)."""
    totals: dict[uuid.UUID, int] = {}
    for line in lines:
        totals[line.sku_id] = totals.get(line.sku_id, 0) + line.quantity
    return sorted(totals.items()), _skus(session, totals)


@dataclass
class _StockChange:
    """The ledger rows of one stock change, under one reference, by one caller."""

    principal: Principal
    reference: str
    note: str | None
    movements: list[dict[str, Any]] = field(default_factory=list)

    def add(self, sku_id: uuid.UUID, location_id: uuid.UUID, delta: int, reason: str) -> None:
        """One ledger row of the change."""
        self.movements.append(
            {
                "organization_id": self.principal.organization_id,
                "sku_id": sku_id,
                "location_id": location_id,
                "delta": delta,
                "reason": reason,
                "actor": self.principal.actor,
                "note": self.note,
                "reference": self.reference,
            }
        )

    def book(self, session: Session) -> schemas.StockChangeRead:
        """Append the rows to the ledger; the change as the API answers it."""
        record_movements(session, self.movements)
        session.flush()
        movements = session.scalars(
            select(StockMovement)
            .where(StockMovement.reference == self.reference)
            .order_by(StockMovement.sku_id, StockMovement.delta)
        ).all()
        return schemas.StockChangeRead(
            reference=self.reference,
            movements=[schemas.MovementRead.model_validate(m) for m in movements],
        )


def receive_stock(
    session: Session, principal: Principal, data: schemas.ReceiptCreate
) -> schemas.StockChangeRead:
    """Book received units on hand at a location."""
    _stock_location(session, principal, data.location_id)
    lines, _ = _merged(session, data.lines)
    change = _StockChange(principal, data.reference or f"receipt:{uuid.uuid4()}", data.note)
    for sku_id, quantity in lines:
        put_back(session, principal.organization_id, sku_id, data.location_id, quantity)
        change.add(sku_id, data.location_id, quantity, "receipt")
    return change.book(session)


def adjust_stock(
    session: Session, principal: Principal, data: schemas.AdjustmentCreate
) -> schemas.StockChangeRead:
    """Correct on-hand stock up or down (never below what is allocated or reserved)."""
    store = _stock_location(session, principal, data.location_id)
    sku = _skus(session, [data.sku_id])[data.sku_id]
    if data.delta > 0:
        put_back(session, principal.organization_id, sku.id, store.id, data.delta)
    elif not take(session, sku.id, store.id, -data.delta):
        raise OutOfStock(sku.code, -data.delta, store.code)
    change = _StockChange(principal, f"adjustment:{uuid.uuid4()}", data.note)
    change.add(sku.id, store.id, data.delta, "adjustment")
    return change.book(session)


def transfer_stock(
    session: Session, principal: Principal, data: schemas.TransferCreate
) -> schemas.StockChangeRead:
    """Move units between two locations (both in the caller's scope)."""
    source = _stock_location(session, principal, data.from_location_id)
    target = _stock_location(session, principal, data.to_location_id)
    lines, skus = _merged(session, data.lines)
    change = _StockChange(principal, f"transfer:{uuid.uuid4()}", data.note)
    for sku_id, quantity in lines:
        for location in sorted([source, target], key=lambda s: s.id):
            if location is source:
                if not take(session, sku_id, source.id, quantity):
                    raise OutOfStock(skus[sku_id].code, quantity, source.code)
            else:
                put_back(session, principal.organization_id, sku_id, target.id, quantity)
        change.add(sku_id, source.id, -quantity, "transfer_out")
        change.add(sku_id, target.id, quantity, "transfer_in")
    return change.book(session)


def set_threshold(
    session: Session,
    principal: Principal,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    data: schemas.ThresholdSet,
) -> schemas.StockLevelRead:
    """Set (or clear) the low-stock threshold of a SKU at a location."""
    _stock_location(session, principal, location_id)
    _skus(session, [sku_id])
    ensure_level(session, principal.organization_id, sku_id, location_id)
    session.execute(
        update(StockLevel)
        .where(level_row(sku_id, location_id))
        .values(low_stock_threshold=data.low_stock_threshold, updated_at=utcnow())
        .execution_options(**NO_SYNC)
    )
    return get_level(session, principal, location_id, sku_id)


def set_location_policy(
    session: Session, principal: Principal, location_id: uuid.UUID, data: schemas.LocationPolicySet
) -> StockLocation:
    """Allow or stop a store fulfilling online orders (ship from store, pick-up)."""
    _stock_location(session, principal, location_id)
    policy = session.scalar(select(StockLocation).where(StockLocation.location_id == location_id))
    if policy is None:
        policy = StockLocation(organization_id=principal.organization_id, location_id=location_id)
        session.add(policy)
    policy.fulfils_online = data.fulfils_online
    policy.updated_at = utcnow()
    session.flush()
    return policy


# ---------------------------------------------------------------- reservations
def reserve(
    session: Session, principal: Principal, data: schemas.ReservationCreate
) -> StockReservation:
    """Hold units for a cart until they expire, at the location the strategy picks."""
    principal.require(Permission.SELL)
    store = catalog_service._selling_store(session, principal, data.store_id)
    sku = _skus(session, [data.sku_id])[data.sku_id]
    origin = origin_of(data.latitude, data.longitude, store)
    for location_id in candidate_locations(
        session, sku.id, data.quantity, data.fulfilment_type, origin, data.pickup_store_id
    ):
        if guarded_update(
            session,
            sku.id,
            location_id,
            data.quantity,
            {"reserved": StockLevel.reserved + data.quantity},
        ):
            now = utcnow()
            reservation = StockReservation(
                organization_id=principal.organization_id,
                sku_id=sku.id,
                location_id=location_id,
                quantity=data.quantity,
                expires_at=now + timedelta(seconds=data.ttl_seconds),
                status=ReservationStatus.ACTIVE,
                cart_reference=data.cart_reference,
                actor=principal.actor,
            )
            session.add(reservation)
            session.flush()
            return reservation
    raise OutOfStock(sku.code, data.quantity)


def get_reservation(
    session: Session, principal: Principal, reservation_id: uuid.UUID
) -> StockReservation:
    """One reservation of the organisation."""
    principal.require(Permission.READ)
    reservation = session.get(StockReservation, reservation_id)
    if reservation is None:
        raise NotFound("reservation not found", field="reservation_id")
    return reservation


def release(session: Session, principal: Principal, reservation_id: uuid.UUID) -> StockReservation:
    """Give a cart's units back before they expire (idempotent)."""
    principal.require(Permission.SELL)
    reservation = get_reservation(session, principal, reservation_id)
    now = utcnow()
    lock_level(session, reservation.sku_id, reservation.location_id)
    quantity = session.scalar(
        update(StockReservation)
        .where(
            StockReservation.id == reservation_id,
            StockReservation.status == ReservationStatus.ACTIVE,
        )
        .values(status=ReservationStatus.RELEASED, updated_at=now)
        .returning(StockReservation.quantity)
        .execution_options(**NO_SYNC)
    )
    if quantity:
        session.execute(
            update(StockLevel)
            .where(level_row(reservation.sku_id, reservation.location_id))
            .values(reserved=StockLevel.reserved - quantity, updated_at=now)
            .execution_options(**NO_SYNC)
        )
    session.refresh(reservation)
    return reservation


def consume_reservation(
    session: Session, reservation_id: uuid.UUID, sku_id: uuid.UUID, quantity: int
) -> uuid.UUID | None:
    """Turn a live reservation into an allocation; its location, or None when it lapsed."""
    now = utcnow()
    held = session.execute(
        select(StockReservation.sku_id, StockReservation.location_id).where(
            StockReservation.id == reservation_id
        )
    ).first()
    if held is None:
        return None
    lock_level(session, held.sku_id, held.location_id)
    row = session.execute(
        update(StockReservation)
        .where(
            StockReservation.id == reservation_id,
            StockReservation.sku_id == sku_id,
            StockReservation.quantity == quantity,
            StockReservation.status == ReservationStatus.ACTIVE,
            StockReservation.expires_at > now,
        )
        .values(status=ReservationStatus.CONSUMED, updated_at=now)
        .returning(StockReservation.location_id)
        .execution_options(**NO_SYNC)
    ).first()
    if row is None:
        return None
    location_id: uuid.UUID = row[0]
    session.execute(
        update(StockLevel)
        .where(level_row(sku_id, location_id))
        .values(
            reserved=StockLevel.reserved - quantity,
            allocated=StockLevel.allocated + quantity,
            updated_at=now,
        )
        .execution_options(**NO_SYNC)
    )
    return location_id
