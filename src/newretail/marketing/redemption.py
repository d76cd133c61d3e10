"""Using a coupon: hold it for a till or checkout, redeem it in the sale's transaction, give
it back (release, refund), and an offline till's late redemption.

Every change is one guarded UPDATE (`WHERE state = 'issued' ...`): of any number of tills and
checkouts redeeming one coupon at once, the database lets exactly one row change; the others
find it redeemed and get `coupon_already_used`. A redemption is idempotent by its order
reference (a device's order id), so a till's resend finds its own redemption and succeeds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newretail.core import prepared
from newretail.core.database import NO_SYNC, utcnow
from newretail.marketing import budgets, redemption_postgres
from newretail.marketing.coupons import get, record
from newretail.marketing.errors import BudgetSpent, LedgerError, LedgerErrorCode
from newretail.marketing.models import Coupon, CouponChange, CouponState, RedemptionConflict


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
    record(session, coupon, CouponChange.RESERVED, actor, order_ref=reservation)
    return coupon


def release(session: Session, coupon_id: uuid.UUID, reservation: str, actor: str) -> Coupon:
    """Give a held coupon back (a basket abandoned, a payment failed); idempotent."""
    held = and_(Coupon.state == CouponState.RESERVED, Coupon.reservation == reservation)
    changed = _guarded(
        session, coupon_id, held, state=CouponState.ISSUED, reservation=None, reserved_until=None
    )
    coupon = get(session, coupon_id)
    if changed:
        record(session, coupon, CouponChange.RELEASED, actor, order_ref=reservation)
    return coupon


class Sale(TypedDict):
    """Which order used a coupon, at which store, for how much off."""

    order_ref: str
    store_id: uuid.UUID | None
    discount: Decimal


@dataclass(frozen=True)
class Redemption:
    """One order's use of one coupon."""

    order_ref: str  # a device's order id (tills resend it) or the order's id
    store_id: uuid.UUID | None
    discount: Decimal
    member_id: uuid.UUID | None
    reservation: str | None = None

    def sale(self) -> Sale:
        """The sale as the redeemed coupon, its ledger row and a late conflict record it."""
        return Sale(order_ref=self.order_ref, store_id=self.store_id, discount=self.discount)


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
    if session.connection().dialect.name == "postgresql":
        return _redeem_postgres(session, coupon_id, use, actor, now)
    with session.begin_nested():  # a refused budget undoes the coupon's change too
        return _redeem(session, coupon_id, use, actor, now)


def _redeem_postgres(
    session: Session, coupon_id: uuid.UUID, use: Redemption, actor: str, now: datetime
) -> Coupon:
    """The same rules as `_redeem` in one statement (`redemption_postgres`): a refusal
    changes nothing, so it needs no savepoint."""
    query, parameters = statement(session, coupon_id, use, actor, now, returning=True)
    redeemed = settle(
        session, coupon_id, use, now, redemption_postgres.redeem(session, query, parameters)
    )
    assert redeemed is not None  # the statement answered with its row
    return redeemed


def statement(
    session: Session,
    coupon_id: uuid.UUID,
    use: Redemption,
    actor: str,
    now: datetime,
    *,
    returning: bool = False,
) -> tuple[prepared.NumberedQuery, dict[str, Any]]:
    """PostgreSQL's one statement for the redemption, with its parameters (`returning`: it
    answers with the coupon's row as redeemed)."""
    return redemption_postgres.statement(
        session,
        coupon_id,
        **use.sale(),
        member_id=use.member_id,
        reservation=use.reservation or use.order_ref,
        actor=actor,
        now=now,
        returning=returning,
    )


def settle(
    session: Session,
    coupon_id: uuid.UUID,
    use: Redemption,
    now: datetime,
    outcome: redemption_postgres.Outcome,
) -> Coupon | None:
    """The statement's outcome: the coupon as redeemed (None: it did not answer with its
    row), the same order's earlier redemption (a resend), or the refusal raised."""
    if outcome.redeemed:
        values = outcome.values
        return None if values is None else redemption_postgres.loaded(session, values)
    if not outcome.found:
        raise LedgerError(LedgerErrorCode.COUPON_NOT_FOUND)
    if outcome.usable and not outcome.room:
        raise BudgetSpent(budget=str(outcome.refused_by))
    coupon = get(session, coupon_id)
    if coupon.state == CouponState.REDEEMED and coupon.order_ref == use.order_ref:
        return coupon  # the till sent the same sale again
    raise _refusal(coupon, use.member_id, now)


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
        **use.sale(),
        redeemed_at=now,
        reservation=None,
        reserved_until=None,
    )
    coupon = get(session, coupon_id)
    if not changed:
        if coupon.state == CouponState.REDEEMED and coupon.order_ref == use.order_ref:
            return coupon  # the till sent the same sale again
        raise _refusal(coupon, use.member_id, now)
    budgets.spend(
        session,
        coupon.stage_key,
        use.store_id,
        budgets.Amounts(redeemed=1, discounted=use.discount),
    )
    record(session, coupon, CouponChange.REDEEMED, actor, **use.sale())
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
        **use.sale(),
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
        budgets.give_back(
            session, coupon.stage_key, store_id, budgets.Amounts(redeemed=1, discounted=discount)
        )
        record(
            session, coupon, CouponChange.RESTORED, actor, order_ref=order_ref, store_id=store_id
        )
    return coupon
