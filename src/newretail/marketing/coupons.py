"""The coupon ledger: issue, reserve, redeem, release, restore, expire, void and move coupons.

Every state change is one guarded UPDATE (`WHERE state = 'issued' ...`): of any number of tills
and checkouts redeeming one coupon at once, the database lets exactly one row change; the
others find it redeemed and get `coupon_already_used`. A redemption is idempotent by its order
reference (a device's order id), so a till's resend finds its own redemption and succeeds.
Each change writes a ledger row and spends or gives back the stage's budgets in the caller's
transaction (the caller owns it: the sale's own transaction at the till and checkout).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.core.security import token_hash
from newretail.marketing import budgets
from newretail.marketing.errors import LedgerError, LedgerErrorCode
from newretail.marketing.models import (
    Coupon,
    CouponChange,
    CouponLedgerEntry,
    CouponState,
    RedemptionConflict,
)

NO_SYNC = {"synchronize_session": False}
# bearer codes: 16 characters of an alphabet without look-alikes (0/O, 1/I/L) = 80 random bits
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16


@dataclass(frozen=True)
class Issue:
    """What one issued coupon is: the offer, who holds it, when it is valid, which budget."""

    offer_id: uuid.UUID
    issue_key: str
    valid_from: datetime
    valid_until: datetime
    member_id: uuid.UUID | None = None
    stage_key: str | None = None
    store_id: uuid.UUID | None = None  # where it was issued (a store budget applies there)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_hash(code: str) -> str:
    """How a typed or scanned code is matched: spaces and dashes dropped, upper case, hashed."""
    return token_hash(code.replace("-", "").replace(" ", "").upper())


def _record(
    session: Session,
    coupon: Coupon,
    change: CouponChange,
    actor: str,
    *,
    order_ref: str | None = None,
    store_id: uuid.UUID | None = None,
    discount: Decimal | None = None,
) -> None:
    session.add(
        CouponLedgerEntry(
            organization_id=coupon.organization_id,
            coupon_id=coupon.id,
            change=change,
            member_id=coupon.member_id,
            order_ref=order_ref,
            store_id=store_id,
            discount=discount,
            actor=actor,
        )
    )


def _by_key(session: Session, issue_key: str) -> Coupon | None:
    return session.scalar(select(Coupon).where(Coupon.issue_key == issue_key))


def issue(
    session: Session,
    organization_id: uuid.UUID,
    request: Issue,
    actor: str,
    *,
    code: str | None = None,
) -> Coupon:
    """Issue one coupon, spending the stage's issue budgets; the same `issue_key` twice
    returns the coupon issued the first time (and spends nothing more)."""
    found = _by_key(session, request.issue_key)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            budgets.spend(session, request.stage_key, request.store_id, issued=1)
            coupon = Coupon(
                id=uuid.uuid4(),
                organization_id=organization_id,
                offer_id=request.offer_id,
                stage_key=request.stage_key,
                member_id=request.member_id,
                issue_key=request.issue_key,
                code_hash=None if code is None else code_hash(code),
                state=CouponState.ISSUED,
                valid_from=request.valid_from,
                valid_until=request.valid_until,
                updated_at=utcnow(),
            )
            session.add(coupon)
            session.flush()
            _record(session, coupon, CouponChange.ISSUED, actor, store_id=request.store_id)
            session.flush()
    except IntegrityError:
        # another issuer inserted the same key meanwhile: the savepoint undid our spend
        concurrent = _by_key(session, request.issue_key)
        if concurrent is None:
            raise
        return concurrent
    return coupon


def issue_codes(
    session: Session,
    organization_id: uuid.UUID,
    requests: Sequence[Issue],
    actor: str,
) -> list[str]:
    """Issue bearer coupons with unique random codes; the codes are returned once (for print or
    a partner) and only their hashes are kept."""
    codes: list[str] = []
    for request in requests:
        code = new_code()
        issue(session, organization_id, request, actor, code=code)
        codes.append(code)
    return codes


def by_code(session: Session, code: str) -> Coupon:
    coupon = session.scalar(select(Coupon).where(Coupon.code_hash == code_hash(code)))
    if coupon is None:
        raise LedgerError(LedgerErrorCode.COUPON_NOT_FOUND, field="code")
    return coupon


def get(session: Session, coupon_id: uuid.UUID) -> Coupon:
    coupon = session.get(Coupon, coupon_id, populate_existing=True)
    if coupon is None:
        raise LedgerError(LedgerErrorCode.COUPON_NOT_FOUND)
    return coupon


def _usable_by(member_id: uuid.UUID | None) -> ColumnElement[bool]:
    """A member's coupon is theirs alone; a bearer coupon (no member) is anyone's."""
    return or_(Coupon.member_id.is_(None), Coupon.member_id == member_id)


def _free_or_held_by(reservation: str | None, now: datetime) -> ColumnElement[bool]:
    """Issued, or reserved by this reservation, or reserved by one that has lapsed."""
    held = and_(
        Coupon.state == CouponState.RESERVED,
        or_(Coupon.reserved_until <= now, Coupon.reservation == reservation),
    )
    return or_(Coupon.state == CouponState.ISSUED, held)


def _refusal(coupon: Coupon, member_id: uuid.UUID | None, now: datetime) -> LedgerError:
    """Why a guarded change found no row to change (read after the UPDATE refused)."""
    if coupon.state == CouponState.REDEEMED:
        return LedgerError(LedgerErrorCode.COUPON_ALREADY_USED)
    if coupon.state == CouponState.VOIDED:
        return LedgerError(LedgerErrorCode.COUPON_VOIDED)
    if coupon.state == CouponState.EXPIRED or coupon.valid_until <= now:
        return LedgerError(LedgerErrorCode.COUPON_EXPIRED)
    if coupon.valid_from > now:
        return LedgerError(LedgerErrorCode.COUPON_NOT_VALID_YET)
    if coupon.member_id is not None and coupon.member_id != member_id:
        return LedgerError(LedgerErrorCode.COUPON_NOT_YOURS)
    return LedgerError(LedgerErrorCode.COUPON_RESERVED)


def _guarded(
    session: Session, coupon_id: uuid.UUID, where: ColumnElement[bool], **values: object
) -> bool:
    statement = (
        update(Coupon)
        .where(Coupon.id == coupon_id, where)
        .values(**values, updated_at=utcnow())
        .execution_options(**NO_SYNC)
    )
    return bool(session.execute(statement).rowcount == 1)  # type: ignore[attr-defined]


def _valid_at(now: datetime) -> ColumnElement[bool]:
    return and_(Coupon.valid_from <= now, Coupon.valid_until > now)


def reserve(
    session: Session,
    coupon_id: uuid.UUID,
    reservation: str,
    *,
    member_id: uuid.UUID | None,
    ttl: timedelta,
    actor: str,
    now: datetime | None = None,
) -> Coupon:
    """Hold the coupon for one till or checkout until `now + ttl` (again by the same
    reservation extends it); a lapsed hold is anyone's."""
    now = now or utcnow()
    where = and_(_free_or_held_by(reservation, now), _valid_at(now), _usable_by(member_id))
    changed = _guarded(
        session,
        coupon_id,
        where,
        state=CouponState.RESERVED,
        reservation=reservation,
        reserved_until=now + ttl,
    )
    coupon = get(session, coupon_id)
    if not changed:
        raise _refusal(coupon, member_id, now)
    _record(session, coupon, CouponChange.RESERVED, actor, order_ref=reservation)
    return coupon


def release(session: Session, coupon_id: uuid.UUID, reservation: str, actor: str) -> Coupon:
    """Give a held coupon back (a basket abandoned, a payment failed); idempotent."""
    held = and_(Coupon.state == CouponState.RESERVED, Coupon.reservation == reservation)
    changed = _guarded(
        session, coupon_id, held, state=CouponState.ISSUED, reservation=None, reserved_until=None
    )
    coupon = get(session, coupon_id)
    if changed:
        _record(session, coupon, CouponChange.RELEASED, actor, order_ref=reservation)
    return coupon


@dataclass(frozen=True)
class Redemption:
    """One order's use of one coupon."""

    order_ref: str  # a device's order id (tills resend it) or the order's id
    store_id: uuid.UUID | None
    discount: Decimal
    member_id: uuid.UUID | None
    reservation: str | None = None


def redeem(
    session: Session,
    coupon_id: uuid.UUID,
    use: Redemption,
    actor: str,
    *,
    now: datetime | None = None,
) -> Coupon:
    """Use the coupon for one order, in the sale's transaction; the same order again is a
    replay and changes nothing. Raises `coupon_already_used` (or another refusal) otherwise."""
    now = now or utcnow()
    with session.begin_nested():  # a refused budget undoes the coupon's change too
        return _redeem(session, coupon_id, use, actor, now)


def _redeem(
    session: Session, coupon_id: uuid.UUID, use: Redemption, actor: str, now: datetime
) -> Coupon:
    where = and_(
        _free_or_held_by(use.reservation or use.order_ref, now),
        _valid_at(now),
        _usable_by(use.member_id),
    )
    changed = _guarded(
        session,
        coupon_id,
        where,
        state=CouponState.REDEEMED,
        order_ref=use.order_ref,
        store_id=use.store_id,
        discount=use.discount,
        redeemed_at=now,
        reservation=None,
        reserved_until=None,
    )
    coupon = get(session, coupon_id)
    if not changed:
        if coupon.state == CouponState.REDEEMED and coupon.order_ref == use.order_ref:
            return coupon  # the till sent the same sale again
        raise _refusal(coupon, use.member_id, now)
    budgets.spend(session, coupon.stage_key, use.store_id, redeemed=1, discounted=use.discount)
    _record(
        session,
        coupon,
        CouponChange.REDEEMED,
        actor,
        order_ref=use.order_ref,
        store_id=use.store_id,
        discount=use.discount,
    )
    return coupon


def redeem_late(
    session: Session,
    coupon_id: uuid.UUID,
    use: Redemption,
    sold_at: datetime,
    actor: str,
) -> Coupon | RedemptionConflict:
    """An offline till's redemption, sent when it reconnects (the sale already happened).

    Valid at the moment of the sale → redeemed as usual (resends are replays). If the coupon
    was used by another order meanwhile, the conflict is recorded with both orders for review
    (once per order, however often the till resends) and the sale is not refused.
    """
    try:
        with session.begin_nested():
            return redeem(session, coupon_id, use, actor, now=sold_at)
    except LedgerError as refused:
        if refused.code != LedgerErrorCode.COUPON_ALREADY_USED:
            raise
    coupon = get(session, coupon_id)
    existing = session.scalar(
        select(RedemptionConflict).where(
            RedemptionConflict.coupon_id == coupon_id,
            RedemptionConflict.order_ref == use.order_ref,
        )
    )
    if existing is not None:
        return existing
    conflict = RedemptionConflict(
        organization_id=coupon.organization_id,
        coupon_id=coupon_id,
        order_ref=use.order_ref,
        store_id=use.store_id,
        discount=use.discount,
        sold_at=sold_at,
        used_by_order_ref=coupon.order_ref,
    )
    try:
        with session.begin_nested():
            session.add(conflict)
            session.flush()
    except IntegrityError:  # the same resend arrived twice at once
        found = session.scalar(
            select(RedemptionConflict).where(
                RedemptionConflict.coupon_id == coupon_id,
                RedemptionConflict.order_ref == use.order_ref,
            )
        )
        if found is None:
            raise
        return found
    return conflict


def restore(
    session: Session,
    coupon_id: uuid.UUID,
    order_ref: str,
    actor: str,
    *,
    now: datetime | None = None,
) -> Coupon:
    """A refund of the order that used the coupon gives it back when it is still valid
    (the redemption's budget is given back too); an expired one stays redeemed."""
    now = now or utcnow()
    coupon = get(session, coupon_id)
    redeemed_by = and_(Coupon.state == CouponState.REDEEMED, Coupon.order_ref == order_ref)
    store_id, discount = coupon.store_id, coupon.discount or Decimal("0")
    changed = _guarded(
        session,
        coupon_id,
        and_(redeemed_by, Coupon.valid_until > now),
        state=CouponState.ISSUED,
        order_ref=None,
        store_id=None,
        discount=None,
        redeemed_at=None,
    )
    coupon = get(session, coupon_id)
    if changed:
        budgets.give_back(session, coupon.stage_key, store_id, redeemed=1, discounted=discount)
        _record(
            session, coupon, CouponChange.RESTORED, actor, order_ref=order_ref, store_id=store_id
        )
    return coupon


def _ledger_rows(
    session: Session, coupon_ids: Sequence[uuid.UUID], change: CouponChange, actor: str
) -> None:
    rows = session.execute(
        select(Coupon.organization_id, Coupon.id, Coupon.member_id).where(Coupon.id.in_(coupon_ids))
    ).all()
    if rows:
        session.execute(
            insert(CouponLedgerEntry),
            [
                {
                    "id": uuid.uuid4(),
                    "created_at": utcnow(),
                    "organization_id": org,
                    "coupon_id": cid,
                    "change": change,
                    "member_id": member,
                    "actor": actor,
                }
                for org, cid, member in rows
            ],
        )


def expire_due(session: Session, actor: str, *, now: datetime | None = None) -> int:
    """The expiry job: unused coupons past their validity end; lapsed holds become free."""
    now = now or utcnow()
    session.execute(
        update(Coupon)
        .where(Coupon.state == CouponState.RESERVED, Coupon.reserved_until <= now)
        .values(state=CouponState.ISSUED, reservation=None, reserved_until=None, updated_at=now)
        .execution_options(**NO_SYNC)
    )
    due = list(
        session.scalars(
            select(Coupon.id).where(Coupon.state == CouponState.ISSUED, Coupon.valid_until <= now)
        )
    )
    if due:
        session.execute(
            update(Coupon)
            .where(Coupon.id.in_(due), Coupon.state == CouponState.ISSUED)
            .values(state=CouponState.EXPIRED, updated_at=now)
            .execution_options(**NO_SYNC)
        )
        _ledger_rows(session, due, CouponChange.EXPIRED, actor)
    return len(due)


def void_member(session: Session, member_id: uuid.UUID, actor: str) -> int:
    """An erased member's usable coupons are withdrawn (their issue budget given back)."""
    usable = (CouponState.ISSUED, CouponState.RESERVED)
    held = session.execute(
        select(Coupon.id, Coupon.stage_key).where(
            Coupon.member_id == member_id, Coupon.state.in_(usable)
        )
    ).all()
    ids = [coupon_id for coupon_id, _ in held]
    if ids:
        session.execute(
            update(Coupon)
            .where(Coupon.id.in_(ids))
            .values(
                state=CouponState.VOIDED, reservation=None, reserved_until=None, updated_at=utcnow()
            )
            .execution_options(**NO_SYNC)
        )
        _ledger_rows(session, ids, CouponChange.VOIDED, actor)
        for _, stage_key in held:
            budgets.give_back(session, stage_key, None, issued=1)
    return len(ids)


def move_member(
    session: Session, from_ids: Sequence[uuid.UUID], to_id: uuid.UUID, actor: str
) -> int:
    """A merge by OneID: the merged members' coupons go to the surviving member."""
    ids = list(session.scalars(select(Coupon.id).where(Coupon.member_id.in_(from_ids))))
    if ids:
        session.execute(
            update(Coupon)
            .where(Coupon.id.in_(ids))
            .values(member_id=to_id, updated_at=utcnow())
            .execution_options(**NO_SYNC)
        )
        _ledger_rows(session, ids, CouponChange.MOVED, actor)
    return len(ids)
