"""Guarded updates of stock rows, the primitives every sale, order, refund and stock change
goes through, and the stock ledger's append.

Concurrency: every change of a stock row is one guarded atomic UPDATE
(`… WHERE on_hand - allocated - reserved >= :q`), never a read followed by a write. Rows a
transaction changes are visited in a fixed order (SKU id, then location id). When the guard
fails, expired reservations of that row are swept (each exactly once, by a status-guarded
UPDATE … RETURNING) and the guarded update is tried again, so expired carts never block a
sale. SQLite serialises writers with BEGIN IMMEDIATE; PostgreSQL re-checks the guard on the
newest row version after waiting for a row lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newretail.core.database import NO_SYNC, utcnow
from newretail.core.errors import InvalidInput
from newretail.inventory.models import (
    ReservationStatus,
    StockLevel,
    StockMovement,
    StockReservation,
)


def level_row(sku_id: uuid.UUID, location_id: uuid.UUID) -> ColumnElement[bool]:
    """The WHERE clause of one (SKU, location) stock row."""
    return and_(StockLevel.sku_id == sku_id, StockLevel.location_id == location_id)


def _insert_level(
    session: Session,
    organization_id: uuid.UUID,
    sku_id: uuid.UUID,
    location_id: uuid.UUID,
    **values: Any,
) -> postgresql.Insert | sqlite.Insert:
    """The INSERT of a new (SKU, location) stock row, nothing allocated or reserved, in the
    session's dialect so that the caller can add its ON CONFLICT clause."""
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = postgresql.insert(StockLevel) if postgres else sqlite.insert(StockLevel)
    return statement.values(
        id=uuid.uuid4(),
        organization_id=organization_id,
        sku_id=sku_id,
        location_id=location_id,
        allocated=0,
        reserved=0,
        **values,
    )


def ensure_level(
    session: Session, organization_id: uuid.UUID, sku_id: uuid.UUID, location_id: uuid.UUID
) -> None:
    """Create the (SKU, location) stock row if missing (safe under concurrency)."""
    statement = _insert_level(
        session, organization_id, sku_id, location_id, on_hand=0, created_at=utcnow()
    )
    session.execute(statement.on_conflict_do_nothing(index_elements=["sku_id", "location_id"]))


def lock_level(session: Session, sku_id: uuid.UUID, location_id: uuid.UUID) -> None:
    """Take the stock row's lock before touching its reservations (PostgreSQL; SQLite already
    serialises writers), so every transaction locks the row first, then reservations."""
    session.execute(select(StockLevel.id).where(level_row(sku_id, location_id)).with_for_update())


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
            .where(level_row(sku_id, location_id))
            .values(reserved=StockLevel.reserved - total)
            .execution_options(**NO_SYNC)
        )
    return total


def guarded_update(
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
            level_row(sku_id, location_id),
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
    return guarded_update(
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
    now = utcnow()
    statement = _insert_level(
        session,
        organization_id,
        sku_id,
        location_id,
        on_hand=-quantity,
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
    return guarded_update(
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
        .where(level_row(sku_id, location_id), StockLevel.allocated >= quantity)
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
        .where(level_row(sku_id, location_id), StockLevel.allocated >= quantity)
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
        .where(level_row(sku_id, location_id))
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
