"""An offer's per-member limit: how many coupons of the offer one member can be issued.

Each coupon of an offer with a limit takes a slot 1 … limit of its member (`coupon.member_slot`,
unique per organisation, offer and member), the next one above the highest held: two issuers
racing for a member's last slot cannot both win, the unique index refuses the second. Every
coupon issued counts (used, expired or withdrawn ones too); coupons issued while the offer had
no limit hold no slot and do not count.

At a OneID merge the merged side's coupons follow the survivor and take the slots after the
survivor's own (`renumber`); those above the limit that are still unused are withdrawn with
the reason `member_limit` (`void_over_limit`), their issue budget given back.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Uuid, func, literal, select, update
from sqlalchemy.orm import Session, aliased

from newretail.core.database import NO_SYNC
from newretail.marketing.models import Coupon, CouponState, Offer

REASON = "member_limit"


def limit_of(session: Session, offer_id: uuid.UUID) -> int | None:
    """The offer's per-member limit (None: no limit, or no saved offer)."""
    offer = session.get(Offer, offer_id)
    if offer is None:
        return None
    limit = offer.spec.get("per_member_limit")
    return None if limit is None else int(limit)


def next_slot(
    organization_id: uuid.UUID, offer_id: uuid.UUID, member_id: ColumnElement[Any]
) -> ColumnElement[int]:
    """The member's next slot of the offer: one more than the highest held (1 when none)."""
    held = aliased(Coupon)
    highest = (
        select(func.coalesce(func.max(held.member_slot), 0))
        .where(
            held.organization_id == organization_id,
            held.offer_id == offer_id,
            held.member_id == member_id,
        )
        .scalar_subquery()
    )
    return highest + 1


def renumber(session: Session, coupon_ids: Sequence[uuid.UUID], member_id: uuid.UUID) -> None:
    """Coupons moving to `member_id` take its next slots of their offer, in their old slot
    order, and belong to it from now (a racing issuer of the same slot hits the unique index)."""
    slotted = session.execute(
        select(Coupon.id, Coupon.organization_id, Coupon.offer_id)
        .where(Coupon.id.in_(coupon_ids), Coupon.member_slot.is_not(None))
        .order_by(Coupon.offer_id, Coupon.member_slot)
    ).all()
    for coupon_id, organization_id, offer_id in slotted:
        slot = next_slot(organization_id, offer_id, literal(member_id, Uuid()))
        session.execute(
            update(Coupon)
            .where(Coupon.id == coupon_id)
            .values(member_id=member_id, member_slot=select(slot).scalar_subquery())
            .execution_options(**NO_SYNC)
        )


def over_limit(session: Session, member_id: uuid.UUID) -> list[tuple[uuid.UUID, str | None]]:
    """The member's unused coupons above their offer's limit: (coupon id, stage key)."""
    rows = session.execute(
        select(Coupon.id, Coupon.stage_key, Coupon.offer_id, Coupon.member_slot).where(
            Coupon.member_id == member_id,
            Coupon.member_slot.is_not(None),
            Coupon.state == CouponState.ISSUED,
        )
    ).all()
    limits = {offer_id: limit_of(session, offer_id) for offer_id in {r[2] for r in rows}}
    return [
        (coupon_id, stage_key)
        for coupon_id, stage_key, offer_id, slot in rows
        if (limit := limits[offer_id]) is not None and (slot or 0) > limit
    ]
