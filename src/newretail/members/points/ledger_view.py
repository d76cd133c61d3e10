"""The ledger as people and the API read it: entries with their running balance, and the
unlocks and expiries that came due but are not written yet, as pending rows.

The running balance is the sum of the deltas up to each row (so entries that moved with an
identity merge add up too), and after the pending rows it is the balance rule's figure
(`points.balance`). The maintenance jobs write the pending rows later with the same ids,
kinds, deltas and times, in the same order: the view reads the same before and after.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.core.errors import InvalidInput
from newretail.core.pagination import paginate
from newretail.members import schemas
from newretail.members.errors import MemberNotFound
from newretail.members.models import LedgerKind, LotState, Member, PointsLedgerEntry, PointsLot
from newretail.members.points.balance import LIVE_STATES, aware, lot_unlocked
from newretail.members.points.ledger import SYSTEM_ACTOR, settling_entry_id
from newretail.tenancy.permissions import Permission, Principal


def _written(entry: PointsLedgerEntry) -> schemas.LedgerChange:
    return schemas.LedgerChange.model_validate(entry)


def pending_changes(lots: Sequence[PointsLot], now: datetime) -> list[schemas.LedgerChange]:
    """The unlocks, then the expiries, that came due by `now` and are not written yet.

    The same order as the maintenance jobs write them: unlocks (lots in id order), then
    expiries (lots in id order).
    """
    live = sorted(
        (lot for lot in lots if lot.state in LIVE_STATES and lot.remaining > 0),
        key=lambda lot: lot.id,
    )
    unlocked: set[uuid.UUID] = set()
    changes: list[schemas.LedgerChange] = []
    for lot in live:
        if lot.state == LotState.LOCKED and lot_unlocked(lot.state, lot.unlock_at, now):
            assert lot.unlock_at is not None
            unlocked.add(lot.id)
            changes.append(_pending(LedgerKind.UNLOCK, lot, lot.remaining, -lot.remaining, now))
    for lot in live:
        if aware(lot.expires_at) <= now:
            was_locked = lot.state == LotState.LOCKED and lot.id not in unlocked
            delta = -lot.remaining
            changes.append(
                _pending(
                    LedgerKind.EXPIRE,
                    lot,
                    0 if was_locked else delta,
                    delta if was_locked else 0,
                    now,
                )
            )
    return changes


def _pending(
    kind: LedgerKind, lot: PointsLot, available: int, locked: int, now: datetime
) -> schemas.LedgerChange:
    at = lot.unlock_at if kind == LedgerKind.UNLOCK else lot.expires_at
    assert at is not None
    return schemas.LedgerChange(
        id=settling_entry_id(kind, lot.id),
        kind=str(kind),
        available_delta=available,
        locked_delta=locked,
        occurred_at=aware(at),
        order_id=lot.order_id,
        refund_id=None,
        reason=None,
        actor=SYSTEM_ACTOR,
        created_at=now,
        pending=True,
    )


def _running(
    changes: Iterable[schemas.LedgerChange], available: int, locked: int
) -> list[schemas.LedgerEntryRead]:
    rows = []
    for change in changes:
        available += change.available_delta
        locked += change.locked_delta
        rows.append(
            schemas.LedgerEntryRead(
                **change.model_dump(), available_after=available, locked_after=locked
            )
        )
    return rows


def _member_lots(session: Session, member_id: uuid.UUID) -> list[PointsLot]:
    return list(
        session.scalars(
            select(PointsLot).where(
                PointsLot.member_id == member_id,
                PointsLot.state.in_([str(s) for s in LIVE_STATES]),
                PointsLot.remaining > 0,
            )
        )
    )


def _require_member(session: Session, principal: Principal, member_id: uuid.UUID) -> None:
    principal.require(Permission.READ)
    if session.get(Member, member_id) is None:
        raise MemberNotFound(field="member_id")


def ledger(
    session: Session,
    principal: Principal,
    member_id: uuid.UUID,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> tuple[list[schemas.LedgerEntryRead], str | None]:
    """The ledger oldest first in keyset pages; the last page ends with the pending rows."""
    _require_member(session, principal, member_id)
    now = now or utcnow()
    statement = select(PointsLedgerEntry).where(PointsLedgerEntry.member_id == member_id)
    entries, next_cursor = paginate(session, statement, PointsLedgerEntry, limit, cursor)
    available = locked = 0
    if entries:
        first = entries[0]
        before = session.execute(
            select(
                func.coalesce(func.sum(PointsLedgerEntry.available_delta), 0),
                func.coalesce(func.sum(PointsLedgerEntry.locked_delta), 0),
            ).where(
                PointsLedgerEntry.member_id == member_id,
                or_(
                    PointsLedgerEntry.created_at < first.created_at,
                    and_(
                        PointsLedgerEntry.created_at == first.created_at,
                        PointsLedgerEntry.id < first.id,
                    ),
                ),
            )
        ).one()
        available, locked = int(before[0]), int(before[1])
    changes = [_written(entry) for entry in entries]
    if next_cursor is None:
        changes += pending_changes(_member_lots(session, member_id), now)
    return _running(changes, available, locked), next_cursor


def ledger_rows(
    session: Session, principal: Principal, member_id: uuid.UUID, now: datetime | None = None
) -> list[schemas.LedgerEntryRead]:
    """The whole ledger view, oldest first, ending with the pending rows."""
    _require_member(session, principal, member_id)
    now = now or utcnow()
    entries = session.scalars(
        select(PointsLedgerEntry)
        .where(PointsLedgerEntry.member_id == member_id)
        .order_by(PointsLedgerEntry.created_at, PointsLedgerEntry.id)
    )
    changes = [_written(entry) for entry in entries]
    changes += pending_changes(_member_lots(session, member_id), now)
    return _running(changes, 0, 0)


def ledger_page(
    session: Session,
    principal: Principal,
    member_id: uuid.UUID,
    page: int,
    per_page: int,
    now: datetime | None = None,
) -> tuple[list[schemas.LedgerEntryRead], int]:
    """One numbered page of the ledger view, newest first, and the number of rows."""
    if page < 1:
        raise InvalidInput("must be a whole number from 1", field="query.page")
    rows = ledger_rows(session, principal, member_id, now)[::-1]
    start = (page - 1) * per_page
    return rows[start : start + per_page], len(rows)
