"""Tiers: definitions, spend per order and refund, upgrade at once, downgrade at review.

The rule: a member holds the highest tier whose `min_spend` their rolling 12-month spend
(the 365 days up to now) reaches. Crossing a higher threshold upgrades at once and sets the
next review one year later; so does a merge (`upgrade_after_merge`). A member never drops
a tier between reviews; `review_tiers(now)` re-evaluates every member whose review date has
come (the tier may then go down, stay or go up) and sets the next review one year later.
Tiers are per member, the same in every store.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newretail.core.database import (
    apply_changes,
    flush_or_raise,
    get_or_raise,
    insert_once,
    partial_changes,
    utcnow,
)
from newretail.events import outbox
from newretail.members import schemas
from newretail.members.errors import (
    InvalidSpend,
    MemberNotFound,
    RequiredValue,
    TierNameTaken,
    TierNotFound,
)
from newretail.members.models import Member, MemberSpend, MemberTier
from newretail.tenancy.permissions import Permission, Principal

ZERO = Decimal("0")
SPEND_WINDOW = timedelta(days=365)
REVIEW_PERIOD = timedelta(days=365)


def all_tiers(session: Session) -> Sequence[MemberTier]:
    """The organisation's tiers, lowest threshold first."""
    return session.scalars(select(MemberTier).order_by(MemberTier.min_spend, MemberTier.name)).all()


def qualifying_tier(session: Session, spend: Decimal) -> MemberTier | None:
    """The highest tier the spend reaches (None when no tier is defined or reached).

    A negative net spend (refunds of orders older than the window) counts as zero.
    """
    return session.scalar(
        select(MemberTier)
        .where(MemberTier.min_spend <= max(spend, ZERO))
        .order_by(MemberTier.min_spend.desc())
        .limit(1)
    )


def rolling_spend(session: Session, member_id: uuid.UUID, at: datetime) -> Decimal:
    """Net spend (orders minus refunds) in the 365 days up to `at`."""
    total = session.scalar(
        select(func.coalesce(func.sum(MemberSpend.amount), 0)).where(
            MemberSpend.member_id == member_id,
            MemberSpend.occurred_at > at - SPEND_WINDOW,
            MemberSpend.occurred_at <= at,
        )
    )
    return Decimal(total or 0)


def _min_spend(session: Session, tier_id: uuid.UUID | None) -> Decimal | None:
    if tier_id is None:
        return None
    tier = session.get(MemberTier, tier_id)
    return tier.min_spend if tier else None


def _change_tier(
    session: Session, member: Member, tier: MemberTier | None, at: datetime, reason: str
) -> None:
    previous = member.tier_id
    member.tier_id = tier.id if tier else None
    member.tier_review_at = at + REVIEW_PERIOD
    if previous != member.tier_id:
        outbox.enqueue(
            session,
            member.organization_id,
            "tier_changed",
            occurred_at=at,
            member_id=member.id,
            properties={
                "from_tier_id": str(previous) if previous else None,
                "to_tier_id": str(member.tier_id) if member.tier_id else None,
                "reason": reason,
            },
        )


def record_spend(
    session: Session,
    organization_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    amount: Decimal,
    occurred_at: datetime,
    order_id: uuid.UUID | None = None,
    refund_id: uuid.UUID | None = None,
) -> Member:
    """Add a paid order's amount (or subtract a refund's) once; upgrade at once if reached."""
    if (order_id is None) == (refund_id is None):
        raise InvalidSpend(field="order_id", reason="reference")
    if amount < 0:
        raise InvalidSpend(field="amount", reason="amount")
    member = get_or_raise(session, Member, member_id, lambda: MemberNotFound(field="member_id"))
    reference = f"order:{order_id}" if order_id else f"refund:{refund_id}"

    def recorded() -> MemberSpend | None:
        return session.scalar(select(MemberSpend).where(MemberSpend.reference == reference))

    if recorded() is not None:
        return member
    spend = MemberSpend(
        organization_id=organization_id,
        member_id=member_id,
        reference=reference,
        amount=amount if order_id else -amount,
        occurred_at=occurred_at,
    )
    if insert_once(session, spend, recorded) is not spend:
        return member  # recorded concurrently
    target = qualifying_tier(session, rolling_spend(session, member_id, occurred_at))
    current = _min_spend(session, member.tier_id)
    if target is not None and (current is None or target.min_spend > current):
        _change_tier(session, member, target, occurred_at, "upgrade")
    session.flush()
    return member


def upgrade_after_merge(
    session: Session, survivor_id: uuid.UUID, merged: Collection[uuid.UUID], at: datetime
) -> None:
    """After a merge the member holds at least the best tier of the merged profiles, or
    the tier their combined rolling spend reaches (an upgrade; going down waits for the
    review, as always)."""
    survivor = session.get(Member, survivor_id)
    if survivor is None:
        return
    best = qualifying_tier(session, rolling_spend(session, survivor_id, at))
    for member_id in merged:  # a few profiles; by primary key
        member = session.get(Member, member_id)
        held = session.get(MemberTier, member.tier_id) if member and member.tier_id else None
        if held is not None and (best is None or held.min_spend > best.min_spend):
            best = held
    current = _min_spend(session, survivor.tier_id)
    if best is not None and (current is None or best.min_spend > current):
        _change_tier(session, survivor, best, at, "merge")
    session.flush()


def review_tiers(session: Session, now: datetime | None = None) -> int:
    """Re-evaluate members whose review date has come (the only time a tier goes down)."""
    now = now or utcnow()
    due = session.scalars(
        select(Member).where(Member.tier_review_at <= now).order_by(Member.id)
    ).all()
    if not due:
        return 0
    spends: dict[uuid.UUID, Decimal] = {
        member_id: total
        for member_id, total in session.execute(
            select(MemberSpend.member_id, func.sum(MemberSpend.amount))
            .where(
                MemberSpend.member_id.in_([m.id for m in due]),
                MemberSpend.occurred_at > now - SPEND_WINDOW,
                MemberSpend.occurred_at <= now,
            )
            .group_by(MemberSpend.member_id)
        )
    }
    changed = 0
    for member in due:
        target = qualifying_tier(session, Decimal(spends.get(member.id) or 0))
        if (target.id if target else None) != member.tier_id:
            changed += 1
        _change_tier(session, member, target, now, "review")
    session.flush()
    return changed


# ---------------------------------------------------------------- definitions
def get_tier(session: Session, principal: Principal, tier_id: uuid.UUID) -> MemberTier:
    """The tier with this id; 404 outside the organisation."""
    principal.require(Permission.READ)
    return get_or_raise(session, MemberTier, tier_id, lambda: TierNotFound(field="tier_id"))


def _flush_name(session: Session, name: str | None) -> None:
    flush_or_raise(session, lambda: TierNameTaken(field="name", name=name))


def create_tier(session: Session, principal: Principal, data: schemas.TierCreate) -> MemberTier:
    """Define a tier by its minimum rolling-12-month spend."""
    principal.require(Permission.MANAGE_MEMBERS)
    tier = MemberTier(
        organization_id=principal.organization_id, name=data.name, min_spend=data.min_spend
    )
    session.add(tier)
    _flush_name(session, data.name)
    return tier


def update_tier(
    session: Session, principal: Principal, tier_id: uuid.UUID, data: schemas.TierUpdate
) -> MemberTier:
    """Rename a tier or move its threshold (members follow at their next spend or review)."""
    principal.require(Permission.MANAGE_MEMBERS)
    tier = get_tier(session, principal, tier_id)
    apply_changes(tier, partial_changes(data, not_null=None, refused=RequiredValue))
    _flush_name(session, data.name)
    return tier


def delete_tier(session: Session, principal: Principal, tier_id: uuid.UUID) -> None:
    """Delete a tier; its members hold no tier until their next spend or review."""
    principal.require(Permission.MANAGE_MEMBERS)
    session.delete(get_tier(session, principal, tier_id))
    session.flush()
