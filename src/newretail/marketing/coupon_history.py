"""What the console's coupon lookup shows of each coupon beyond `reads.coupon_reads`: the store
it was used at and its ledger, every change in order with the store's name."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.marketing import choices
from newretail.marketing.models import Coupon, CouponLedgerEntry


@dataclass(frozen=True)
class LedgerLine:
    change: str
    at: datetime
    store_name: str | None
    order_ref: str | None
    discount: Decimal | None
    actor: str


@dataclass(frozen=True)
class CouponHistory:
    store_name: str | None  # where it was used (or is held)
    ledger: list[LedgerLine]


def histories(session: Session, coupon_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, CouponHistory]:
    """Each coupon's store and ledger, oldest change first."""
    stores = dict(
        session.execute(select(Coupon.id, Coupon.store_id).where(Coupon.id.in_(coupon_ids))).all()
    )
    entries = session.scalars(
        select(CouponLedgerEntry)
        .where(CouponLedgerEntry.coupon_id.in_(coupon_ids))
        .order_by(CouponLedgerEntry.coupon_id, CouponLedgerEntry.created_at, CouponLedgerEntry.id)
    ).all()
    names = choices.store_names(
        session, {s for s in stores.values() if s} | {e.store_id for e in entries if e.store_id}
    )
    found = {
        coupon_id: CouponHistory(names.get(store_id) if store_id else None, [])
        for coupon_id, store_id in stores.items()
    }
    for entry in entries:
        found[entry.coupon_id].ledger.append(
            LedgerLine(
                change=entry.change,
                at=entry.created_at,
                store_name=names.get(entry.store_id) if entry.store_id else None,
                order_ref=entry.order_ref,
                discount=entry.discount,
                actor=entry.actor,
            )
        )
    return found
