"""The points ledger: earn rules, awards per paid order, reversal per refund, redemption,
manual adjustment, unlocking after the return window and expiry.

Points live in lots (one per award or positive adjustment). A lot is `locked` until the
organisation's return window has passed, then `available`; it expires at `expires_at`
(N days after earning, or the end of the calendar year of earning in the organisation's
time zone). Redemption takes the soonest-expiring available lots first.

Invariants (checked by `check_invariants`): for every member,
available = Σ remaining of available lots, locked = Σ remaining of locked lots, and both
equal the sums of the ledger's deltas. Every change is one ledger entry and one
`points_changed` outbox event.

Concurrency: every change first locks the member row (`SELECT … FOR UPDATE`), then the
member's lots ordered by id, so two redemptions of one member run one after the other and
can never overspend. On SQLite, writers are serialised by `BEGIN IMMEDIATE`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.core.errors import Conflict, InvalidInput, NotFound
from newretail.core.pagination import paginate
from newretail.events import outbox
from newretail.members import schemas
from newretail.members.errors import InsufficientPoints
from newretail.members.identifiers import member_settings
from newretail.members.models import (
    EarnRule,
    ExpiryMode,
    LedgerKind,
    LotState,
    Member,
    MemberSettings,
    PointsAward,
    PointsLedgerEntry,
    PointsLot,
    PointsReversal,
)
from newretail.tenancy.models import Brand, Organization
from newretail.tenancy.permissions import Permission, Principal

SYSTEM_ACTOR = "system"
LIVE_STATES = (LotState.LOCKED, LotState.AVAILABLE)


class AwardLine(Protocol):
    """What points need to know of a paid order line."""

    @property
    def line_id(self) -> object: ...
    @property
    def product_id(self) -> object: ...
    @property
    def category(self) -> str | None: ...
    @property
    def amount(self) -> Decimal: ...


class RefundLine(Protocol):
    @property
    def line_id(self) -> object: ...
    @property
    def amount(self) -> Decimal: ...


# ---------------------------------------------------------------- helpers
def _lock_member(session: Session, member_id: uuid.UUID) -> Member:
    """Lock the member row (every points change of a member starts here)."""
    member = session.scalar(
        select(Member)
        .where(Member.id == member_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if member is None:
        raise NotFound("member not found", field="member_id")
    return member


def _lock_lots(session: Session, member_id: uuid.UUID, *states: LotState) -> list[PointsLot]:
    """The member's live lots in the given states, locked in id order."""
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


def expiry_for(settings: MemberSettings, earned_at: datetime, time_zone: str) -> datetime:
    """When points earned at `earned_at` expire under the organisation's rule."""
    if settings.expiry_mode == ExpiryMode.DAYS:
        return earned_at + timedelta(days=settings.expiry_days)
    zone = ZoneInfo(time_zone)
    local = earned_at.astimezone(zone)
    return datetime(local.year + 1, 1, 1, tzinfo=zone).astimezone(UTC)


def _org_time_zone(session: Session, organization_id: uuid.UUID) -> str:
    org = session.get(Organization, organization_id)
    return org.time_zone if org else "Asia/Shanghai"


def _entry(
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
) -> PointsLedgerEntry:
    """Apply deltas to the (locked) member's balances and write the entry and its event."""
    member.points_available += available_delta
    member.points_locked += locked_delta
    if member.points_available < 0 or member.points_locked < 0:
        raise InsufficientPoints("the balance would go below zero", field="points")
    entry = PointsLedgerEntry(
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
class _Taken:
    available: int = 0
    locked: int = 0

    @property
    def total(self) -> int:
        return self.available + self.locked


def _take(lots: Iterable[PointsLot], points: int) -> _Taken:
    """Take up to `points` from the lots in the given order; close emptied lots."""
    taken = _Taken()
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


def _fifo(lots: Iterable[PointsLot]) -> list[PointsLot]:
    return sorted(lots, key=lambda lot: (lot.expires_at, lot.earned_at, lot.id))


def _new_lot(
    session: Session,
    member: Member,
    points: int,
    *,
    earned_at: datetime,
    unlock_at: datetime | None,
    order_id: uuid.UUID | None,
) -> PointsLot:
    settings = member_settings(session, member.organization_id)
    time_zone = _org_time_zone(session, member.organization_id)
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


def _settle_member(session: Session, member: Member, now: datetime) -> None:
    """Unlock and expire the (locked) member's due lots before using their points."""
    for lot in _lock_lots(session, member.id, LotState.LOCKED, LotState.AVAILABLE):
        _settle_lot(session, member, lot, now)


def _settle_lot(session: Session, member: Member, lot: PointsLot, now: datetime) -> int:
    return int(_unlock_lot(session, member, lot, now)) + int(_expire_lot(session, member, lot, now))


def _unlock_lot(session: Session, member: Member, lot: PointsLot, now: datetime) -> bool:
    """Make a locked lot available once the return window has ended."""
    if lot.state != LotState.LOCKED or lot.unlock_at is None or lot.unlock_at > now:
        return False
    lot.state = LotState.AVAILABLE
    _entry(
        session,
        member,
        LedgerKind.UNLOCK,
        available_delta=lot.remaining,
        locked_delta=-lot.remaining,
        occurred_at=lot.unlock_at,
        actor=SYSTEM_ACTOR,
        order_id=lot.order_id,
        lot_id=lot.id,
        idempotency_key=f"unlock:{lot.id}",
    )
    return True


def _expire_lot(session: Session, member: Member, lot: PointsLot, now: datetime) -> bool:
    """Close a live lot whose expiry has come, taking its remaining points."""
    if lot.state not in LIVE_STATES or lot.remaining <= 0 or lot.expires_at > now:
        return False
    was_locked = lot.state == LotState.LOCKED
    points = lot.remaining
    lot.remaining = 0
    lot.state = LotState.CLOSED
    _entry(
        session,
        member,
        LedgerKind.EXPIRE,
        available_delta=0 if was_locked else -points,
        locked_delta=-points if was_locked else 0,
        occurred_at=lot.expires_at,
        actor=SYSTEM_ACTOR,
        order_id=lot.order_id,
        lot_id=lot.id,
        idempotency_key=f"expire:{lot.id}",
    )
    return True


# ---------------------------------------------------------------- earning
def _multiplier(rule: EarnRule, line: AwardLine) -> Decimal:
    product = str(line.product_id) if line.product_id is not None else None
    if product is not None and product in rule.product_multipliers:
        return Decimal(str(rule.product_multipliers[product]))
    if line.category is not None and line.category in rule.category_multipliers:
        return Decimal(str(rule.category_multipliers[line.category]))
    return Decimal(1)


def line_points(rule: EarnRule | None, line: AwardLine) -> int:
    """Whole points a line earns: amount * points per unit * multiplier, rounded down."""
    if rule is None or not rule.active:
        return 0
    raw = Decimal(line.amount) * rule.points_per_unit * _multiplier(rule, line)
    return int(raw.to_integral_value(rounding=ROUND_FLOOR))


def award_order_points(
    session: Session,
    organization_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    order_id: uuid.UUID,
    brand_id: uuid.UUID | None,
    paid_at: datetime,
    lines: Sequence[AwardLine],
    actor: str = SYSTEM_ACTOR,
) -> PointsAward:
    """Award a paid order's points once (locked until the return window ends)."""
    existing = session.scalar(select(PointsAward).where(PointsAward.order_id == order_id))
    if existing is not None:
        return existing
    member = _lock_member(session, member_id)
    existing = session.scalar(select(PointsAward).where(PointsAward.order_id == order_id))
    if existing is not None:
        return existing
    rule = (
        session.scalar(select(EarnRule).where(EarnRule.brand_id == brand_id)) if brand_id else None
    )
    award_lines = [
        {
            "line_id": str(line.line_id),
            "product_id": None if line.product_id is None else str(line.product_id),
            "category": line.category,
            "amount": str(line.amount),
            "points": line_points(rule, line),
            "refunded": "0",
            "reversed": 0,
        }
        for line in lines
    ]
    if len({line["line_id"] for line in award_lines}) != len(award_lines):
        raise InvalidInput("line ids must be unique", field="lines")
    total = sum(int(str(line["points"])) for line in award_lines)
    award = PointsAward(
        organization_id=organization_id,
        member_id=member_id,
        order_id=order_id,
        brand_id=brand_id,
        points=total,
        lines=award_lines,
        paid_at=paid_at,
    )
    try:
        with session.begin_nested():
            session.add(award)
            session.flush()
    except IntegrityError:  # awarded concurrently
        found = session.scalar(select(PointsAward).where(PointsAward.order_id == order_id))
        if found is None:
            raise
        return found
    if total > 0:
        settings = member_settings(session, organization_id)
        window = timedelta(days=settings.return_window_days)
        lot = _new_lot(
            session,
            member,
            total,
            earned_at=paid_at,
            unlock_at=paid_at + window if settings.return_window_days > 0 else None,
            order_id=order_id,
        )
        award.lot_id = lot.id
        _entry(
            session,
            member,
            LedgerKind.EARN,
            available_delta=0 if lot.state == LotState.LOCKED else total,
            locked_delta=total if lot.state == LotState.LOCKED else 0,
            occurred_at=paid_at,
            actor=actor,
            order_id=order_id,
            lot_id=lot.id,
            idempotency_key=f"earn:{order_id}",
        )
    session.flush()
    return award


def reverse_order_points(
    session: Session,
    organization_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    order_id: uuid.UUID,
    refund_id: uuid.UUID,
    refunded_lines: Sequence[RefundLine],
    occurred_at: datetime | None = None,
    actor: str = SYSTEM_ACTOR,
) -> PointsReversal | None:
    """Take back the points of refunded lines, in proportion to the refunded amount, once.

    The order's own lot pays first; then other available points (soonest expiry first);
    what the member no longer holds is recorded as the reversal's shortfall.
    Returns None when the order earned no points.
    """
    occurred_at = occurred_at or utcnow()
    existing = session.scalar(select(PointsReversal).where(PointsReversal.refund_id == refund_id))
    if existing is not None:
        return existing
    member = _lock_member(session, member_id)
    existing = session.scalar(select(PointsReversal).where(PointsReversal.refund_id == refund_id))
    if existing is not None:
        return existing
    award = session.scalar(select(PointsAward).where(PointsAward.order_id == order_id))
    if award is None:
        return None
    if award.member_id != member_id:
        raise InvalidInput("the order earned points for another member", field="member_id")
    lines = [dict(line) for line in award.lines]
    by_id = {str(line["line_id"]): line for line in lines}
    points = 0
    for refunded in refunded_lines:
        line = by_id.get(str(refunded.line_id))
        if line is None:
            raise InvalidInput(f"no line {refunded.line_id} in the order", field="refunded_lines")
        amount = Decimal(str(line["amount"]))
        earned, reversed_before = int(str(line["points"])), int(str(line["reversed"]))
        refunded_total = min(amount, Decimal(str(line["refunded"])) + Decimal(refunded.amount))
        if refunded_total >= amount:
            target = earned
        else:
            target = int((earned * refunded_total / amount).to_integral_value(ROUND_FLOOR))
        line["refunded"] = str(refunded_total)
        line["reversed"] = target
        points += target - reversed_before
    reversal = PointsReversal(
        organization_id=organization_id,
        member_id=member_id,
        order_id=order_id,
        refund_id=refund_id,
        points=points,
        shortfall=0,
    )
    try:
        with session.begin_nested():
            session.add(reversal)
            session.flush()
    except IntegrityError:
        found = session.scalar(select(PointsReversal).where(PointsReversal.refund_id == refund_id))
        if found is None:
            raise
        return found
    award.lines = lines
    if points > 0:
        _settle_member(session, member, occurred_at)
        live = _lock_lots(session, member_id, *LIVE_STATES)
        own = [lot for lot in live if lot.id == award.lot_id]
        others = _fifo(lot for lot in live if lot.id != award.lot_id and lot.state == "available")
        taken = _take([*own, *others], points)
        reversal.shortfall = points - taken.total
        if taken.total:
            _entry(
                session,
                member,
                LedgerKind.REVERSE,
                available_delta=-taken.available,
                locked_delta=-taken.locked,
                occurred_at=occurred_at,
                actor=actor,
                order_id=order_id,
                refund_id=refund_id,
                idempotency_key=f"reverse:{refund_id}",
                reason=f"shortfall {reversal.shortfall}" if reversal.shortfall else None,
            )
    session.flush()
    return reversal


# ---------------------------------------------------------------- spending
def redeem_points(
    session: Session,
    organization_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    points: int,
    actor: str = SYSTEM_ACTOR,
    reference: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    kind: LedgerKind = LedgerKind.REDEEM,
) -> PointsLedgerEntry:
    """Spend available points, soonest-expiring first; `insufficient_points` when short."""
    if points <= 0:
        raise InvalidInput("must be positive", field="points")
    now = now or utcnow()
    key = f"{kind}:{reference}" if reference else None
    if key is not None:
        done = session.scalar(
            select(PointsLedgerEntry).where(PointsLedgerEntry.idempotency_key == key)
        )
        if done is not None:
            return done
    member = _lock_member(session, member_id)
    _settle_member(session, member, now)
    lots = _lock_lots(session, member_id, LotState.AVAILABLE)
    available = sum(lot.remaining for lot in lots)
    if available < points or member.points_available < points:
        raise InsufficientPoints(
            f"{member.points_available} points available, {points} asked", field="points"
        )
    taken = _take(_fifo(lots), points)
    entry = _entry(
        session,
        member,
        kind,
        available_delta=-taken.available,
        occurred_at=now,
        actor=actor,
        idempotency_key=key,
        reason=reason,
    )
    session.flush()
    return entry


def grant_points(
    session: Session,
    organization_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    points: int,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> PointsLedgerEntry:
    """Add available points at once (a manual adjustment), expiring under the usual rule."""
    if points <= 0:
        raise InvalidInput("must be positive", field="points")
    now = now or utcnow()
    member = _lock_member(session, member_id)
    lot = _new_lot(session, member, points, earned_at=now, unlock_at=None, order_id=None)
    entry = _entry(
        session,
        member,
        LedgerKind.ADJUST,
        available_delta=points,
        occurred_at=now,
        actor=actor,
        lot_id=lot.id,
        reason=reason,
    )
    session.flush()
    return entry


def adjust_points(
    session: Session, principal: Principal, member_id: uuid.UUID, data: schemas.PointsAdjust
) -> PointsLedgerEntry:
    """A manual adjustment: positive adds available points, negative removes them (FIFO)."""
    principal.require(Permission.MANAGE_MEMBERS)
    if data.points == 0:
        raise InvalidInput("must not be zero", field="points")
    if data.points > 0:
        return grant_points(
            session,
            principal.organization_id,
            member_id,
            points=data.points,
            actor=principal.actor,
            reason=data.reason,
        )
    return redeem_points(
        session,
        principal.organization_id,
        member_id,
        points=-data.points,
        actor=principal.actor,
        reason=data.reason,
        kind=LedgerKind.ADJUST,
    )


def redeem_for(
    session: Session, principal: Principal, member_id: uuid.UUID, data: schemas.PointsRedeem
) -> PointsLedgerEntry:
    """Redeem points on behalf of a member (counter staff or the members team)."""
    if not (principal.can(Permission.MANAGE_MEMBERS) or principal.can(Permission.SELL)):
        principal.require(Permission.MANAGE_MEMBERS)
    return redeem_points(
        session,
        principal.organization_id,
        member_id,
        points=data.points,
        actor=principal.actor,
        reference=data.reference,
        reason=data.reason,
    )


# ---------------------------------------------------------------- batch jobs
def _due_members(session: Session, *conditions: object) -> list[uuid.UUID]:
    statement = (
        select(PointsLot.member_id).where(*conditions).distinct().order_by(PointsLot.member_id)  # type: ignore[arg-type]
    )
    return list(session.scalars(statement))


def release_locked_points(session: Session, now: datetime | None = None) -> int:
    """Unlock every lot whose return window has ended; returns the number of lots."""
    now = now or utcnow()
    count = 0
    for member_id in _due_members(
        session,
        PointsLot.state == LotState.LOCKED,
        PointsLot.unlock_at <= now,
        PointsLot.remaining > 0,
    ):
        member = _lock_member(session, member_id)
        for lot in _lock_lots(session, member_id, LotState.LOCKED):
            count += _unlock_lot(session, member, lot, now)
    session.flush()
    return count


def expire_points(session: Session, now: datetime | None = None) -> int:
    """Expire every live lot whose expiry has come; returns the number of lots."""
    now = now or utcnow()
    count = 0
    for member_id in _due_members(
        session,
        PointsLot.state.in_([str(s) for s in LIVE_STATES]),
        PointsLot.expires_at <= now,
        PointsLot.remaining > 0,
    ):
        member = _lock_member(session, member_id)
        for lot in _lock_lots(session, member_id, *LIVE_STATES):
            count += _expire_lot(session, member, lot, now)
    session.flush()
    return count


# ---------------------------------------------------------------- reading
def points_balance(
    session: Session, principal: Principal, member_id: uuid.UUID, now: datetime | None = None
) -> schemas.PointsBalance:
    """Available and locked points, and the next expiry, as of now.

    Lots past their return window count as available and lots past their expiry not at
    all, also before the maintenance job has written those changes to the ledger (a
    redemption settles them first, so the balance shows what it can spend).
    """
    principal.require(Permission.READ)
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("member not found", field="member_id")
    now = now or utcnow()
    live = PointsLot.state.in_([str(s) for s in LIVE_STATES])
    available, locked = member.points_available, member.points_locked
    due = session.execute(
        select(PointsLot.state, PointsLot.remaining, PointsLot.expires_at).where(
            PointsLot.member_id == member_id,
            live,
            PointsLot.remaining > 0,
            or_(
                PointsLot.expires_at <= now,
                and_(PointsLot.state == str(LotState.LOCKED), PointsLot.unlock_at <= now),
            ),
        )
    )
    for state, remaining, expires_at in due:
        if state == LotState.LOCKED:
            locked -= remaining
        else:
            available -= remaining
        if _aware(expires_at) > now:  # unlocked, not expired
            available += remaining
    next_expiry = session.scalar(
        select(func.min(PointsLot.expires_at)).where(
            PointsLot.member_id == member_id,
            live,
            PointsLot.remaining > 0,
            PointsLot.expires_at > now,
        )
    )
    expiring = 0
    if next_expiry is not None:
        expiring = int(
            session.scalar(
                select(func.coalesce(func.sum(PointsLot.remaining), 0)).where(
                    PointsLot.member_id == member_id,
                    PointsLot.state.in_([str(s) for s in LIVE_STATES]),
                    PointsLot.expires_at == next_expiry,
                )
            )
            or 0
        )
        next_expiry = _aware(next_expiry)
    return schemas.PointsBalance(
        member_id=member_id,
        available=available,
        locked=locked,
        next_expiry_at=next_expiry,
        next_expiry_points=expiring,
    )


def _aware(value: datetime) -> datetime:
    """A timestamp read back without its zone (an aggregate on SQLite) is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def ledger(
    session: Session, principal: Principal, member_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[PointsLedgerEntry], str | None]:
    """The member's ledger entries, oldest first (keyset pages)."""
    principal.require(Permission.READ)
    if session.get(Member, member_id) is None:
        raise NotFound("member not found", field="member_id")
    statement = select(PointsLedgerEntry).where(PointsLedgerEntry.member_id == member_id)
    return paginate(session, statement, PointsLedgerEntry, limit, cursor)


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


# ---------------------------------------------------------------- earn rules and settings
def list_earn_rules(session: Session, principal: Principal) -> Sequence[EarnRule]:
    principal.require(Permission.READ)
    return session.scalars(select(EarnRule).order_by(EarnRule.created_at, EarnRule.id)).all()


def get_earn_rule(session: Session, principal: Principal, rule_id: uuid.UUID) -> EarnRule:
    principal.require(Permission.READ)
    rule = session.get(EarnRule, rule_id)
    if rule is None:
        raise NotFound("earn rule not found", field="rule_id")
    return rule


def _multipliers(values: dict[str, Decimal]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}


def create_earn_rule(
    session: Session, principal: Principal, data: schemas.EarnRuleCreate
) -> EarnRule:
    """Define how a brand's orders earn points (one rule per brand)."""
    principal.require(Permission.MANAGE_MEMBERS)
    if session.get(Brand, data.brand_id) is None:
        raise InvalidInput("no such brand in this organisation", field="brand_id")
    rule = EarnRule(
        organization_id=principal.organization_id,
        brand_id=data.brand_id,
        points_per_unit=data.points_per_unit,
        product_multipliers=_multipliers(data.product_multipliers),
        category_multipliers=_multipliers(data.category_multipliers),
        active=data.active,
    )
    session.add(rule)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict("this brand already has an earn rule", field="brand_id") from exc
    return rule


def update_earn_rule(
    session: Session, principal: Principal, rule_id: uuid.UUID, data: schemas.EarnRuleUpdate
) -> EarnRule:
    """Change an earn rule (orders awarded before keep their points)."""
    principal.require(Permission.MANAGE_MEMBERS)
    rule = get_earn_rule(session, principal, rule_id)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidInput("must not be null", field=name)
        if name.endswith("_multipliers"):
            value = _multipliers(value)
        setattr(rule, name, value)
    rule.updated_at = utcnow()
    session.flush()
    return rule


def delete_earn_rule(session: Session, principal: Principal, rule_id: uuid.UUID) -> None:
    """Delete an earn rule; the brand's orders earn nothing until a new rule exists."""
    principal.require(Permission.MANAGE_MEMBERS)
    session.delete(get_earn_rule(session, principal, rule_id))
    session.flush()


def get_settings(session: Session, principal: Principal) -> MemberSettings:
    principal.require(Permission.READ)
    return member_settings(session, principal.organization_id)


def update_settings(
    session: Session, principal: Principal, data: schemas.SettingsUpdate
) -> MemberSettings:
    """Change the return window and the expiry rule (for points earned from now on)."""
    principal.require(Permission.MANAGE_MEMBERS)
    settings = member_settings(session, principal.organization_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            raise InvalidInput("must not be null", field=name)
        setattr(settings, name, value)
    settings.updated_at = utcnow()
    session.flush()
    return settings
