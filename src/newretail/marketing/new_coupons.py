"""Issuing many new coupons at once, for the realtime reach decisions: keys nobody holds yet,
offers without a per-member limit, each stage's budgets spent once by its total, then the
coupons, their ledger rows and their facts by one bulk insert each (the facts shaped by
`coupon_facts`, as `coupons.record` writes them)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.events.models import OutboxMessage
from newretail.marketing import budgets, coupon_facts
from newretail.marketing.coupons import Issue
from newretail.marketing.models import Coupon, CouponChange, CouponLedgerEntry


def issue_new(
    session: Session, organization_id: uuid.UUID, requests: Sequence[Issue], actor: str
) -> list[Coupon]:
    """Issue a coupon for each request whose key nobody holds (the caller read them: a key
    issued meanwhile fails the insert on its unique constraint), for offers without a
    per-member limit: each stage's budgets spent once by the total (`budgets.spend_many`),
    then the coupons, their ledger rows and their facts by one bulk insert each. The coupons
    come back as detached rows to read (ids, validity), not to change."""
    if not requests:
        return []
    spent: dict[budgets.StageAt, int] = {}
    for request in requests:
        if request.stage_key is not None:
            at = (request.stage_key, request.store_id)
            spent[at] = spent.get(at, 0) + 1
    budgets.spend_many(session, spent)
    now = utcnow()
    rows = [
        {**request.coupon_columns(organization_id, now), "created_at": now} for request in requests
    ]
    named: dict[tuple[uuid.UUID, str | None], dict[str, str]] = {}
    for request in requests:
        kind = (request.offer_id, request.stage_key)
        if kind not in named:
            named[kind] = coupon_facts.names_of(session, *kind)
    ledger = [
        {
            "id": uuid.uuid4(),
            "created_at": now,
            "organization_id": organization_id,
            "coupon_id": row["id"],
            "change": CouponChange.ISSUED.value,
            "member_id": request.member_id,
            "store_id": request.store_id,
            "actor": actor,
        }
        for row, request in zip(rows, requests, strict=True)
    ]
    facts = [
        {
            "id": uuid.uuid4(),
            "created_at": now,
            "organization_id": organization_id,
            "event_type": f"coupon_{CouponChange.ISSUED}",
            "occurred_at": now,
            "store_id": request.store_id,
            "member_id": request.member_id,
            "properties": coupon_facts.properties(
                str(row["id"]), named[(request.offer_id, request.stage_key)]
            ),
        }
        for row, request in zip(rows, requests, strict=True)
    ]
    session.execute(insert(cast(Table, Coupon.__table__)), rows)  # Core inserts: no ORM bookkeeping
    session.execute(insert(cast(Table, CouponLedgerEntry.__table__)), ledger)
    session.execute(insert(cast(Table, OutboxMessage.__table__)), facts)
    return [Coupon(**row) for row in rows]
