"""Stock use cases: receipts, adjustments, transfers, reservations and the sale primitives.

Concurrency: every change of a stock row is one guarded atomic UPDATE
(`… WHERE on_hand - allocated - reserved >= :q`), never a read followed by a write. Rows a
transaction changes are visited in a fixed order (SKU id, then location id). When the guard
fails, expired reservations of that row are swept (each exactly once, by a status-guarded
UPDATE … RETURNING) and the guarded update is tried again, so expired carts never block a
sale. SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL re-checks the guard on the
newest row version after waiting for a row lock.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newretail.catalog import service as catalog_service
from newretail.catalog.models import Sku
from newretail.core.database import utcnow
from newretail.core.errors import InvalidInput, NotFound
from newretail.inventory import schemas
from newretail.inventory.errors import OutOfStock
from newretail.inventory.models import (
    ReservationStatus,
    StockLevel,
    StockLocation,
    StockMovement,
    StockReservation,
)
from newretail.inventory.reads import get_level, unexpired_reserved
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Store
from newretail.tenancy.permissions import Permission, Principal

NO_SYNC = {"synchronize_session": False}


# ---------------------------------------------------------------- primitives
def _level_row(sku_id: uuid.UUID, location_id: uuid.UUID) -> ColumnElement[bool]:
    return and_(StockLevel.sku_id == sku_id, StockLevel.location_id == location_id)


def ensure_level(
    session: Session, organization_id: uuid.UUID, sku_id: uuid.UUID, location_id: uuid.UUID
) -> None:
    """Create the (SKU, location) stock row if missing (safe under concurrency)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(StockLevel)
        .values(
            id=uuid.uuid4(),
            organization_id=organization_id,
            sku_id=sku_id,
            location_id=location_id,
            on_hand=0,
            allocated=0,
            reserved=0,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["sku_id", "location_id"])
    )


def lock_level(session: Session, sku_id: uuid.UUID, location_id: uuid.UUID) -> None:
    """Take the stock row's lock before touching its reservations (PostgreSQL; SQLite already
    serialises writers), so every transaction locks the row first, then reservations."""
    session.execute(select(StockLevel.id).where(_level_row(sku_id, location_id)).with_for_update())


def sweep_expired(
    session: Session, sku_id: uuid.UUID, location_id: uuid.UUID, now: datetime | None = None
) -> int:
    """Expire the row's overdue reservations; returns the units given back."""
    now = now or utcnow()
    lock_level(session, sku_id, location_id)
    quantities = session.scalars(
        update(StockReservation)
        .where(
            StockReservation.sku_id == sku_id,
            StockReservation.location_id == location_id,
            StockReservation.status == ReservationStatus.ACTIVE,
            StockReservation.expires_at <= now,
        )
        .values(status=ReservationStatus.EXPIRED, updated_at=now)
        .returning(StockReservation.quantity)
        .execution_options(**NO_SYNC)
    ).all()
    total = sum(quantities)
    if total:
        session.execute(
            update(StockLevel)
            .where(_level_row(sku_id, location_id))
            .values(reserved=StockLevel.reserved - total)
            .execution_options(**NO_SYNC)
        )
    return total


def _guarded(
    session: Session,
    sku_id: uuid.UUID,
    location_id: uuid.UUID,
    need: int,
    values: dict[str, Any],
) -> bool:
    """One guarded UPDATE needing `need` available units; sweeps expiries and retries once."""
    statement = (
        update(StockLevel)
        .where(
            _level_row(sku_id, location_id),
            StockLevel.on_hand - StockLevel.allocated - StockLevel.reserved >= need,
        )
        .values(**values, updated_at=utcnow())
        .execution_options(**NO_SYNC)
    )
    if session.execute(statement).rowcount == 1:  # type: ignore[attr-defined]
        return True
    if sweep_expired(session, sku_id, location_id) == 0:
        return False
    return bool(session.execute(statement).rowcount == 1)  # type: ignore[attr-defined]


def take(session: Session, sku_id: uuid.UUID, location_id: uuid.UUID, quantity: int) -> bool:
    """Remove sold units from on-hand at once (POS, vending); False when not available."""
    return _guarded(
        session, sku_id, location_id, quantity, {"on_hand": StockLevel.on_hand - quantity}
    )


def sell_in_hand(
    session: Session,
    organization_id: uuid.UUID,
    sku_id: uuid.UUID,
    location_id: uuid.UUID,
    quantity: int,
) -> None:
    """Remove units a POS sale handed over from on-hand, whatever the system stock says (the
    goods were in hand): on-hand may go below zero, which `discrepancies` lists. One upsert,
    so a SKU never received at the store gets its row; when the row is overdrawn, its
    expired reservations are swept (`settle_overdrawn`)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    now = utcnow()
    statement = dialect.insert(StockLevel).values(
        id=uuid.uuid4(),
        organization_id=organization_id,
        sku_id=sku_id,
        location_id=location_id,
        on_hand=-quantity,
        allocated=0,
        reserved=0,
        created_at=now,
        updated_at=now,
    )
    available = session.execute(
        statement.on_conflict_do_update(
            index_elements=["sku_id", "location_id"],
            set_={"on_hand": StockLevel.on_hand - quantity, "updated_at": now},
        ).returning(StockLevel.on_hand - StockLevel.allocated - StockLevel.reserved)
    ).scalar_one()
    if available < 0:
        settle_overdrawn(session, sku_id, location_id)


def settle_overdrawn(session: Session, sku_id: uuid.UUID, location_id: uuid.UUID) -> None:
    """A row a POS sale overdrew: its lapsed reservations no longer hold units (swept), so
    the discrepancy listed is only what the system really misses."""
    sweep_expired(session, sku_id, location_id)


def allocate(session: Session, sku_id: uuid.UUID, location_id: uuid.UUID, quantity: int) -> bool:
    """Commit units to an order awaiting fulfilment; False when not available."""
    return _guarded(
        session, sku_id, location_id, quantity, {"allocated": StockLevel.allocated + quantity}
    )


def _checked(session: Session, statement: Any, what: str) -> None:
    if session.execute(statement.execution_options(**NO_SYNC)).rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidInput(f"stock row does not allow this {what}", field="sku_id")


def deallocate(session: Session, sku_id: uuid.UUID, location_id: uuid.UUID, quantity: int) -> None:
    """Give back allocated units of a cancelled order."""
    _checked(
        session,
        update(StockLevel)
        .where(_level_row(sku_id, location_id), StockLevel.allocated >= quantity)
        .values(allocated=StockLevel.allocated - quantity, updated_at=utcnow()),
        "deallocation",
    )


def ship_allocated(
    session: Session, sku_id: uuid.UUID, location_id: uuid.UUID, quantity: int
) -> None:
    """Allocated units leave the location (fulfilment)."""
    _checked(
        session,
        update(StockLevel)
        .where(_level_row(sku_id, location_id), StockLevel.allocated >= quantity)
        .values(
            allocated=StockLevel.allocated - quantity,
            on_hand=StockLevel.on_hand - quantity,
            updated_at=utcnow(),
        ),
        "fulfilment",
    )


def put_back(
    session: Session,
    organization_id: uuid.UUID,
    sku_id: uuid.UUID,
    location_id: uuid.UUID,
    quantity: int,
) -> None:
    """Units come back on hand (receipt, refund, transfer in)."""
    ensure_level(session, organization_id, sku_id, location_id)
    session.execute(
        update(StockLevel)
        .where(_level_row(sku_id, location_id))
        .values(on_hand=StockLevel.on_hand + quantity, updated_at=utcnow())
        .execution_options(**NO_SYNC)
    )


def record_movements(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Append ledger rows (dicts with organization_id, sku_id, location_id, delta, reason…)."""
    if not rows:
        return
    now = utcnow()
    session.execute(
        insert(StockMovement),
        [
            {"id": uuid.uuid4(), "created_at": now, "note": None, "reference": None, **row}
            for row in rows
        ],
    )


# ---------------------------------------------------------------- stock changes
def _location(session: Session, principal: Principal, location_id: uuid.UUID) -> Store:
    return tenancy_service.get_store(session, principal, location_id)


def _skus(session: Session, sku_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Sku]:
    wanted = set(sku_ids)
    found = {s.id: s for s in session.scalars(select(Sku).where(Sku.id.in_(wanted)))}
    if len(found) != len(wanted):
        raise InvalidInput("unknown SKU in this organisation", field="sku_id")
    return found


def _merged(lines: Iterable[schemas.StockLineIn]) -> list[tuple[uuid.UUID, int]]:
    totals: dict[uuid.UUID, int] = {}
    for line in lines:
        totals[line.sku_id] = totals.get(line.sku_id, 0) + line.quantity
    return sorted(totals.items())


def _change_read(session: Session, reference: str) -> schemas.StockChangeRead:
    session.flush()
    movements = session.scalars(
        select(StockMovement)
        .where(StockMovement.reference == reference)
        .order_by(StockMovement.sku_id, StockMovement.delta)
    ).all()
    return schemas.StockChangeRead(
        reference=reference,
        movements=[schemas.MovementRead.model_validate(m) for m in movements],
    )


def receive_stock(
    session: Session, principal: Principal, data: schemas.ReceiptCreate
) -> schemas.StockChangeRead:
    """Book received units on hand at a location."""
    principal.require(Permission.MANAGE_STOCK)
    _location(session, principal, data.location_id)
    lines = _merged(data.lines)
    _skus(session, [sku for sku, _ in lines])
    reference = data.reference or f"receipt:{uuid.uuid4()}"
    for sku_id, quantity in lines:
        put_back(session, principal.organization_id, sku_id, data.location_id, quantity)
    record_movements(
        session,
        [
            {
                "organization_id": principal.organization_id,
                "sku_id": sku_id,
                "location_id": data.location_id,
                "delta": quantity,
                "reason": "receipt",
                "actor": principal.actor,
                "note": data.note,
                "reference": reference,
            }
            for sku_id, quantity in lines
        ],
    )
    return _change_read(session, reference)


def adjust_stock(
    session: Session, principal: Principal, data: schemas.AdjustmentCreate
) -> schemas.StockChangeRead:
    """Correct on-hand stock up or down (never below what is allocated or reserved)."""
    principal.require(Permission.MANAGE_STOCK)
    store = _location(session, principal, data.location_id)
    sku = _skus(session, [data.sku_id])[data.sku_id]
    if data.delta > 0:
        put_back(session, principal.organization_id, sku.id, store.id, data.delta)
    elif not take(session, sku.id, store.id, -data.delta):
        raise OutOfStock(sku.code, -data.delta, store.code)
    reference = f"adjustment:{uuid.uuid4()}"
    record_movements(
        session,
        [
            {
                "organization_id": principal.organization_id,
                "sku_id": sku.id,
                "location_id": store.id,
                "delta": data.delta,
                "reason": "adjustment",
                "actor": principal.actor,
                "note": data.note,
                "reference": reference,
            }
        ],
    )
    return _change_read(session, reference)


def transfer_stock(
    session: Session, principal: Principal, data: schemas.TransferCreate
) -> schemas.StockChangeRead:
    """Move units between two locations (both in the caller's scope)."""
    principal.require(Permission.MANAGE_STOCK)
    source = _location(session, principal, data.from_location_id)
    target = _location(session, principal, data.to_location_id)
    lines = _merged(data.lines)
    skus = _skus(session, [sku for sku, _ in lines])
    reference = f"transfer:{uuid.uuid4()}"
    movements: list[dict[str, Any]] = []
    for sku_id, quantity in lines:
        for location in sorted([source, target], key=lambda s: s.id):
            if location is source:
                if not take(session, sku_id, source.id, quantity):
                    raise OutOfStock(skus[sku_id].code, quantity, source.code)
            else:
                put_back(session, principal.organization_id, sku_id, target.id, quantity)
        for location, delta, reason in (
            (source, -quantity, "transfer_out"),
            (target, quantity, "transfer_in"),
        ):
            movements.append(
                {
                    "organization_id": principal.organization_id,
                    "sku_id": sku_id,
                    "location_id": location.id,
                    "delta": delta,
                    "reason": reason,
                    "actor": principal.actor,
                    "note": data.note,
                    "reference": reference,
                }
            )
    record_movements(session, movements)
    return _change_read(session, reference)


def set_threshold(
    session: Session,
    principal: Principal,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    data: schemas.ThresholdSet,
) -> schemas.StockLevelRead:
    """Set (or clear) the low-stock threshold of a SKU at a location."""
    principal.require(Permission.MANAGE_STOCK)
    _location(session, principal, location_id)
    _skus(session, [sku_id])
    ensure_level(session, principal.organization_id, sku_id, location_id)
    session.execute(
        update(StockLevel)
        .where(_level_row(sku_id, location_id))
        .values(low_stock_threshold=data.low_stock_threshold, updated_at=utcnow())
        .execution_options(**NO_SYNC)
    )
    return get_level(session, principal, location_id, sku_id)


def set_location_policy(
    session: Session, principal: Principal, location_id: uuid.UUID, data: schemas.LocationPolicySet
) -> StockLocation:
    """Allow or stop a store fulfilling online orders (ship from store, pick-up)."""
    principal.require(Permission.MANAGE_STOCK)
    _location(session, principal, location_id)
    policy = session.scalar(select(StockLocation).where(StockLocation.location_id == location_id))
    if policy is None:
        policy = StockLocation(organization_id=principal.organization_id, location_id=location_id)
        session.add(policy)
    policy.fulfils_online = data.fulfils_online
    policy.updated_at = utcnow()
    session.flush()
    return policy


# ---------------------------------------------------------------- fulfilment strategy
def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def candidate_locations(
    session: Session,
    sku_id: uuid.UUID,
    quantity: int,
    fulfilment_type: str,
    origin: tuple[float, float] | None,
    pickup_store_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Locations to try, best first (docs/commerce.md, "Choosing the stock location").

    - pickup_in_store: the pickup store only;
    - ship_from_store: stores that fulfil online orders, nearest to the origin first;
    - ship: those stores nearest first, then warehouses nearest first.
    Only rows that show enough available units now are listed; the guarded update decides.
    """
    if fulfilment_type == "pickup_in_store":
        if pickup_store_id is None:
            raise InvalidInput("pick-up needs a pickup_store_id", field="pickup_store_id")
        return [pickup_store_id]
    reserved = unexpired_reserved(utcnow())
    rows = session.execute(
        select(Store.id, Store.channel_type, Store.latitude, Store.longitude, Store.code)
        .join(StockLevel, StockLevel.location_id == Store.id)
        .outerjoin(StockLocation, StockLocation.location_id == Store.id)
        .where(
            StockLevel.sku_id == sku_id,
            StockLevel.on_hand - StockLevel.allocated - reserved >= quantity,
            Store.status == "active",
            (Store.channel_type == ChannelType.WAREHOUSE)
            | (StockLocation.fulfils_online.is_(True)),
        )
    ).all()

    def rank(row: Any) -> tuple[int, float, str]:
        is_warehouse = row.channel_type == ChannelType.WAREHOUSE
        if origin is None or row.latitude is None or row.longitude is None:
            far = math.inf
        else:
            far = distance_km(origin[0], origin[1], row.latitude, row.longitude)
        return (1 if is_warehouse else 0, far, row.code)

    ranked = sorted(rows, key=rank)
    if fulfilment_type == "ship_from_store":
        ranked = [r for r in ranked if r.channel_type != ChannelType.WAREHOUSE]
    return [r.id for r in ranked]


# ---------------------------------------------------------------- reservations
def reserve(
    session: Session, principal: Principal, data: schemas.ReservationCreate
) -> StockReservation:
    """Hold units for a cart until they expire, at the location the strategy picks."""
    principal.require(Permission.SELL)
    store = catalog_service._selling_store(session, principal, data.store_id)
    sku = _skus(session, [data.sku_id])[data.sku_id]
    origin = _origin(data.latitude, data.longitude, store)
    for location_id in candidate_locations(
        session, sku.id, data.quantity, data.fulfilment_type, origin, data.pickup_store_id
    ):
        if _guarded(
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


def _origin(
    latitude: float | None, longitude: float | None, store: Store
) -> tuple[float, float] | None:
    if latitude is not None and longitude is not None:
        return (latitude, longitude)
    if store.latitude is not None and store.longitude is not None:
        return (store.latitude, store.longitude)
    return None


def get_reservation(
    session: Session, principal: Principal, reservation_id: uuid.UUID
) -> StockReservation:
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
            .where(_level_row(reservation.sku_id, reservation.location_id))
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
        .where(_level_row(sku_id, location_id))
        .values(
            reserved=StockLevel.reserved - quantity,
            allocated=StockLevel.allocated + quantity,
            updated_at=now,
        )
        .execution_options(**NO_SYNC)
    )
    return location_id
