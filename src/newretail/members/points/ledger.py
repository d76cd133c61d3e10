"""The points ledger's primitives: locking, lots, entries, unlocking and expiring a lot.

Every change of a member's points is one ledger entry and one `points_changed` outbox event,
written here. Concurrency: every change first locks the member row (`SELECT … FOR UPDATE`),
then the member's lots ordered by id, so two changes of one member run one after the other
and can never overspend. On SQLite, writers are serialised by `BEGIN IMMEDIATE`.

Invariants (`check_invariants`): for every member, the stored available = Σ remaining of
available lots, locked = Σ remaining of locked lots, and both equal the sums of the ledger's
deltas.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.events import outbox
from newretail.members.errors import InsufficientPoints, MemberNotFound
from newretail.members.identifiers import member_settings
from newretail.members.models import LedgerKind, LotState, Member, PointsLedgerEntry, PointsLot
from newretail.members.points.balance import LIVE_STATES, aware, lot_unlocked
from newretail.members.points.settings import expiry_for
from newretail.tenancy import service as tenancy_service

SYSTEM_ACTOR = "system"
_SETTLED = uuid.UUID("6f1c8a52-3a0e-4a4b-9b0e-2d5c1f0e7a11")  # namespace of settling entries


def settling_entry_id(kind: LedgerKind, lot_id: uuid.UUID) -> uuid.UUID:
    """The id of a lot's unlock or expiry entry: the same before (pending) and once written."""
    return uuid.uuid5(_SETTLED, f"{kind}:{lot_id}")


def lock_member(session: Session, member_id: uuid.UUID) -> Member:
    """Lock the member row (every points change of a member starts here)."""
    member = session.scalar(
        select(Member)
        .where(Member.id == member_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if member is None:
        raise MemberNotFound(field="member_id")
    return member


def lock_lots(session: Session, member_id: uuid.UUID, *states: LotState) -> list[PointsLot]:
    """The member's lots in the given states that hold points, locked in id order."""
    return list(
        session.scalars(
            select(PointsLot)
            .where(
                PointsLot.member_id == member_id,
                PointsLot.state.in_([str(s) for s in states]),
                PointsLot.remaining > 0,
            )
            .order_by(PointsLot.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def write_entry(
    session: Session,
    member: Member,
    kind: LedgerKind,
    *,
    available_delta: int = 0,
    locked_delta: int = 0,
    occurred_at: datetime,
    actor: str,
    order_id: uuid.UUID | None = None,
    refund_id: uuid.UUID | None = None,
    lot_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    reason: str | None = None,
    entry_id: uuid.UUID | None = None,
) -> PointsLedgerEntry:
    """Apply deltas to the (locked) member's balances and write the entry and its event."""
    member.points_available += available_delta
    member.points_locked += locked_delta
    if member.points_available < 0 or member.points_locked < 0:
        raise InsufficientPoints(field="points", reason="below_zero")
    entry = PointsLedgerEntry(
        id=entry_id or uuid.uuid4(),
        organization_id=member.organization_id,
        member_id=member.id,
        kind=kind,
        available_delta=available_delta,
        locked_delta=locked_delta,
        available_after=member.points_available,
        locked_after=member.points_locked,
        occurred_at=occurred_at,
        order_id=order_id,
        refund_id=refund_id,
        lot_id=lot_id,
        idempotency_key=idempotency_key,
        reason=reason,
        actor=actor,
    )
    session.add(entry)
    outbox.enqueue(
        session,
        member.organization_id,
        "points_changed",
        occurred_at=occurred_at,
        member_id=member.id,
        properties={
            "kind": str(kind),
            "available_delta": available_delta,
            "locked_delta": locked_delta,
            "available": member.points_available,
            "locked": member.points_locked,
            "order_id": str(order_id) if order_id else None,
            "refund_id": str(refund_id) if refund_id else None,
        },
    )
    return entry


@dataclass
class Taken:
    """Points taken from lots, by the state they were in."""

    available: int = 0
    locked: int = 0

    @property
    def total(self) -> int:
        return self.available + self.locked


def take(lots: Iterable[PointsLot], points: int) -> Taken:
    """Take up to `points` from the lots in the given order; close emptied lots."""
    taken = Taken()
    need = points
    for lot in lots:
        if need <= 0:
            break
        part = min(lot.remaining, need)
        if part <= 0:
            continue
        if lot.state == LotState.LOCKED:
            taken.locked += part
        else:
            taken.available += part
        lot.remaining -= part
        if lot.remaining == 0:
            lot.state = LotState.CLOSED
        need -= part
    return taken


def soonest_expiry_first(lots: Iterable[PointsLot]) -> list[PointsLot]:
    """The order points are spent in: soonest expiry, then oldest earned."""
    return sorted(lots, key=lambda lot: (lot.expires_at, lot.earned_at, lot.id))


def new_lot(
    session: Session,
    member: Member,
    points: int,
    *,
    earned_at: datetime,
    unlock_at: datetime | None,
    order_id: uuid.UUID | None,
) -> PointsLot:
    """A lot of newly earned or granted points, expiring under the organisation's rule."""
    settings = member_settings(session, member.organization_id)
    time_zone = tenancy_service.organisation_zone(session, member.organization_id)
    lot = PointsLot(
        id=uuid.uuid4(),
        organization_id=member.organization_id,
        member_id=member.id,
        order_id=order_id,
        points=points,
        remaining=points,
        state=LotState.LOCKED if unlock_at is not None else LotState.AVAILABLE,
        earned_at=earned_at,
        unlock_at=unlock_at,
        expires_at=expiry_for(settings, earned_at, time_zone),
    )
    session.add(lot)
    return lot


def settle_member(session: Session, member: Member, now: datetime) -> None:
    """Write the (locked) member's due unlocks and expiries before using their points."""
    for lot in lock_lots(session, member.id, *LIVE_STATES):
        unlock_lot(session, member, lot, now)
        expire_lot(session, member, lot, now)


def _settle(
    session: Session,
    member: Member,
    lot: PointsLot,
    kind: LedgerKind,
    available_delta: int,
    locked_delta: int,
    occurred_at: datetime,
) -> None:
    """Write a lot's unlock or expiry entry: by the system, keyed and identified by the lot."""
    write_entry(
        session,
        member,
        kind,
        available_delta=available_delta,
        locked_delta=locked_delta,
        occurred_at=occurred_at,
        actor=SYSTEM_ACTOR,
        order_id=lot.order_id,
        lot_id=lot.id,
        idempotency_key=f"{kind}:{lot.id}",
        entry_id=settling_entry_id(kind, lot.id),
    )


def unlock_lot(session: Session, member: Member, lot: PointsLot, now: datetime) -> bool:
    """Make a locked lot available once the return window has ended."""
    if lot.state != LotState.LOCKED or not lot_unlocked(lot.state, lot.unlock_at, now):
        return False
    assert lot.unlock_at is not None
    lot.state = LotState.AVAILABLE
    _settle(session, member, lot, LedgerKind.UNLOCK, lot.remaining, -lot.remaining, lot.unlock_at)
    return True


def expire_lot(session: Session, member: Member, lot: PointsLot, now: datetime) -> bool:
    """Close a live lot whose expiry has come, taking its remaining points."""
    if lot.state not in LIVE_STATES or lot.remaining <= 0 or aware(lot.expires_at) > now:
        return False
    taken = take([lot], lot.remaining)  # closes the lot
    _settle(
        session, member, lot, LedgerKind.EXPIRE, -taken.available, -taken.locked, lot.expires_at
    )
    return True


def check_invariants(session: Session, member_id: uuid.UUID) -> list[str]:
    """Violations of the ledger invariants for one member (an empty list when sound)."""
    member = session.scalar(
        select(Member).where(Member.id == member_id).execution_options(populate_existing=True)
    )
    if member is None:
        return ["member not found"]
    lots = session.scalars(select(PointsLot).where(PointsLot.member_id == member_id)).all()
    entries = session.scalars(
        select(PointsLedgerEntry).where(PointsLedgerEntry.member_id == member_id)
    ).all()
    problems = []
    lot_available = sum(lot.remaining for lot in lots if lot.state == LotState.AVAILABLE)
    lot_locked = sum(lot.remaining for lot in lots if lot.state == LotState.LOCKED)
    if member.points_available != lot_available:
        problems.append(f"available {member.points_available} != lots {lot_available}")
    if member.points_locked != lot_locked:
        problems.append(f"locked {member.points_locked} != lots {lot_locked}")
    if member.points_available != sum(e.available_delta for e in entries):
        problems.append("available differs from the ledger's sum")
    if member.points_locked != sum(e.locked_delta for e in entries):
        problems.append("locked differs from the ledger's sum")
    if member.points_available < 0 or member.points_locked < 0:
        problems.append("negative balance")
    for lot in lots:
        if not 0 <= lot.remaining <= lot.points:
            problems.append(f"lot {lot.id} remaining {lot.remaining} of {lot.points}")
        if lot.state == LotState.CLOSED and lot.remaining != 0:
            problems.append(f"closed lot {lot.id} still holds {lot.remaining}")
    return problems
