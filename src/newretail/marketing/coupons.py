"""The coupon ledger: issue coupons (to members, idempotently by key, or as bearer codes), find
them, and the jobs that expire, void and move them; using them is `marketing.redemption`.

Each change writes a ledger row and spends or gives back the stage's budgets in the caller's
transaction (the caller owns it: the sale's own transaction at the till and checkout).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Uuid, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newretail.core.database import NO_SYNC, utcnow
from newretail.core.security import token_hash
from newretail.events import outbox
from newretail.marketing import budgets, coupon_facts, member_limits
from newretail.marketing.errors import LedgerError, LedgerErrorCode
from newretail.marketing.models import Coupon, CouponChange, CouponLedgerEntry, CouponState

# bearer codes: 16 characters of an alphabet without look-alikes (0/O, 1/I/L) = 80 random bits
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16
SLOT_ATTEMPTS = 5  # tries at a member's next slot while other issuers take slots


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

    def coupon_columns(self, organization_id: uuid.UUID, now: datetime) -> dict[str, Any]:
        """The columns of the coupon this issues: a new id, issued, valid as asked."""
        return {
            "id": uuid.uuid4(),
            "organization_id": organization_id,
            "offer_id": self.offer_id,
            "stage_key": self.stage_key,
            "member_id": self.member_id,
            "issue_key": self.issue_key,
            "state": CouponState.ISSUED.value,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "updated_at": now,
        }


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalised_code(code: str) -> str:
    """A code as typed or scanned, as it is matched: spaces and dashes dropped, upper case."""
    return code.replace("-", "").replace(" ", "").upper()


def code_hash(code: str) -> str:
    """How a coupon's bearer code is matched: normalised, hashed."""
    return token_hash(normalised_code(code))


def record(
    session: Session,
    coupon: Coupon,
    change: CouponChange,
    actor: str,
    *,
    order_ref: str | None = None,
    store_id: uuid.UUID | None = None,
    discount: Decimal | None = None,
    names: dict[str, str] | None = None,
) -> None:
    """A ledger row of the change and, in the same transaction, its fact in the outbox (with
    `names`, the coupon's `coupon_facts.names_of` read already)."""
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
    _fact(
        session,
        coupon.organization_id,
        coupon.id,
        coupon.offer_id,
        coupon.stage_key,
        coupon.member_id,
        change,
        order_ref=order_ref,
        store_id=store_id,
        discount=discount,
        names=names,
    )


def _fact(
    session: Session,
    organization_id: uuid.UUID,
    coupon_id: uuid.UUID,
    offer_id: uuid.UUID,
    stage_key: str | None,
    member_id: uuid.UUID | None,
    change: CouponChange,
    *,
    order_ref: str | None = None,
    store_id: uuid.UUID | None = None,
    discount: Decimal | None = None,
    reason: str | None = None,
    names: dict[str, str] | None = None,
) -> None:
    """`coupon_<change>` for the warehouse (the Data Bank, audiences "claimed a coupon and did
    not redeem", diagnosis); a move at a merge is OneID's fact, not a coupon's."""
    if change is CouponChange.MOVED:
        return
    if names is None:
        names = coupon_facts.names_of(session, offer_id, stage_key)
    outbox.enqueue(
        session,
        organization_id,
        f"coupon_{change}",
        store_id=store_id,
        member_id=member_id,
        amount=discount,
        properties=coupon_facts.properties(
            str(coupon_id), names, order_ref=order_ref, reason=reason
        ),
    )


def find_by_key(session: Session, issue_key: str) -> Coupon | None:
    return session.scalar(select(Coupon).where(Coupon.issue_key == issue_key))


def find_by_keys(session: Session, issue_keys: Iterable[str]) -> dict[str, Coupon]:
    """The coupons issued under these keys, by key (one statement)."""
    wanted = set(issue_keys)
    if not wanted:
        return {}
    found = session.scalars(select(Coupon).where(Coupon.issue_key.in_(wanted)))
    return {coupon.issue_key: coupon for coupon in found}


def issue(
    session: Session,
    organization_id: uuid.UUID,
    request: Issue,
    actor: str,
    *,
    code: str | None = None,
) -> Coupon:
    """Issue one coupon, spending the stage's issue budgets and, for a member, a slot of the
    offer's per-member limit; the same `issue_key` twice returns the coupon issued the first
    time (and spends nothing more)."""
    return issue_or_find(session, organization_id, request, actor, code=code)[0]


def issue_or_find(
    session: Session,
    organization_id: uuid.UUID,
    request: Issue,
    actor: str,
    *,
    code: str | None = None,
) -> tuple[Coupon, bool]:
    """`issue`, saying whether the coupon is new (False: the key's coupon existed)."""
    found = find_by_key(session, request.issue_key)
    if found is not None:
        return found, False
    limit = None if request.member_id is None else member_limits.limit_of(session, request.offer_id)
    for _attempt in range(SLOT_ATTEMPTS):
        try:
            with session.begin_nested():
                return _insert(session, organization_id, request, actor, code, limit), True
        except IntegrityError:
            # another issuer inserted the same key (the savepoint undid our spend) or took the
            # member's slot meanwhile: the key's coupon, or the next slot
            concurrent = find_by_key(session, request.issue_key)
            if concurrent is not None:
                return concurrent, False
            if limit is None:
                raise
    raise LedgerError(LedgerErrorCode.MEMBER_LIMIT, field="member_id")


def _insert(
    session: Session,
    organization_id: uuid.UUID,
    request: Issue,
    actor: str,
    code: str | None,
    limit: int | None,
) -> Coupon:
    # the budget first: its row lock orders the stage's issuers, so the slot read next is
    # the one the last of them left
    budgets.spend(session, request.stage_key, request.store_id, budgets.Amounts(issued=1))
    slot = None
    if limit is not None and request.member_id is not None:
        member = literal(request.member_id, Uuid())
        slot = session.scalar(
            select(member_limits.next_slot(organization_id, request.offer_id, member))
        )
        if slot is None or slot > limit:
            raise LedgerError(LedgerErrorCode.MEMBER_LIMIT, field="member_id")
    coupon = Coupon(
        **request.coupon_columns(organization_id, utcnow()),
        code_hash=None if code is None else code_hash(code),
        member_slot=slot,
    )
    session.add(coupon)
    session.flush()
    record(session, coupon, CouponChange.ISSUED, actor, store_id=request.store_id)
    session.flush()
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


def _ledger_rows(
    session: Session,
    coupon_ids: Sequence[uuid.UUID],
    change: CouponChange,
    actor: str,
    reason: str | None = None,
) -> None:
    rows = session.execute(
        select(
            Coupon.organization_id, Coupon.id, Coupon.member_id, Coupon.offer_id, Coupon.stage_key
        ).where(Coupon.id.in_(coupon_ids))
    ).all()
    for org, cid, member, offer_id, stage_key in rows:
        _fact(session, org, cid, offer_id, stage_key, member, change, reason=reason)
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
                    "reason": reason,
                }
                for org, cid, member, _offer, _stage in rows
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
            budgets.give_back(session, stage_key, None, budgets.Amounts(issued=1))
    return len(ids)


def move_member(
    session: Session, from_ids: Sequence[uuid.UUID], to_id: uuid.UUID, actor: str
) -> list[uuid.UUID]:
    """A merge by OneID: the merged members' coupons go to the surviving member (after its
    own in each offer's per-member slots; unused ones above the limit are withdrawn); returns
    the ids moved (an undo moves exactly those back with `move_coupons`)."""
    ids = list(session.scalars(select(Coupon.id).where(Coupon.member_id.in_(from_ids))))
    move_coupons(session, ids, to_id, actor)
    void_over_limit(session, to_id, actor)
    return ids


def move_coupons(
    session: Session, coupon_ids: Sequence[uuid.UUID], to_id: uuid.UUID, actor: str
) -> None:
    """These coupons belong to `to_id` now (a ledger row each), after its own in each offer's
    per-member slots."""
    for start in range(0, len(coupon_ids), 500):
        chunk = list(coupon_ids[start : start + 500])
        member_limits.renumber(session, chunk, to_id)
        session.execute(
            update(Coupon)
            .where(Coupon.id.in_(chunk))
            .values(member_id=to_id, updated_at=utcnow())
            .execution_options(**NO_SYNC)
        )
        _ledger_rows(session, chunk, CouponChange.MOVED, actor)


def void_over_limit(session: Session, member_id: uuid.UUID, actor: str) -> list[uuid.UUID]:
    """Withdraw the member's unused coupons above their offer's per-member limit (after a
    merge), reason `member_limit`, giving back their issue budget; returns their ids."""
    found = member_limits.over_limit(session, member_id)
    ids = [coupon_id for coupon_id, _ in found]
    if ids:
        session.execute(
            update(Coupon)
            .where(Coupon.id.in_(ids), Coupon.state == CouponState.ISSUED)
            .values(state=CouponState.VOIDED, updated_at=utcnow())
            .execution_options(**NO_SYNC)
        )
        _ledger_rows(session, ids, CouponChange.VOIDED, actor, member_limits.REASON)
        for _, stage_key in found:
            budgets.give_back(session, stage_key, None, budgets.Amounts(issued=1))
    return ids
