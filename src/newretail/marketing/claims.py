"""Public claim codes: a campaign stage's offer behind a code people type (DOUBLE11).

A member who claims gets the stage's coupon of that offer, one per member and stage (the same
issue key as the stage's bulk issue, so a member who was issued it already gets that coupon
back); at most `claim_limit` claims in all, counted by a guarded UPDATE
(`claimed + 1 <= claim_limit`) in the claim's savepoint with the issue itself, so a refused
issue (budget spent, per-member limit) counts no claim. Each new claim writes a
`coupon_claim` fact (the Data Bank counts it as Interest) beside the coupon's `coupon_issued`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from newretail.core.database import NO_SYNC, add_unique, get_or_not_found
from newretail.core.errors import NotFound
from newretail.events import outbox
from newretail.marketing import campaigns, coupons, schemas, stage_coupons
from newretail.marketing.errors import LedgerError, LedgerErrorCode
from newretail.marketing.models import ClaimCode, Coupon, Offer
from newretail.tenancy.permissions import Permission, Principal

CLAIM_FACT = "coupon_claim"


def create_claim_code(
    session: Session,
    principal: Principal,
    campaign_id: uuid.UUID,
    stage_id: uuid.UUID,
    body: schemas.ClaimCodeIn,
) -> ClaimCode:
    """Put a stage's offer behind a public code with an optional limit of claims in all."""
    principal.require(Permission.MANAGE_MARKETING)
    campaign, stage, offer = campaigns.stage_offer(session, campaign_id, stage_id, body.offer_code)
    code = coupons.normalised_code(body.code)
    row = ClaimCode(
        organization_id=principal.organization_id,
        code=code,
        campaign_id=campaign.id,
        stage_key=stage.stage_key,
        offer_id=offer.id,
        claim_limit=body.claim_limit,
        claimed=0,
    )
    return add_unique(session, row, "code", f"the claim code {code} exists")


def list_claim_codes(session: Session) -> Sequence[ClaimCode]:
    return session.scalars(select(ClaimCode).order_by(ClaimCode.code)).all()


def claim_code_read(session: Session, row: ClaimCode) -> schemas.ClaimCodeRead:
    """A claim code with the names of its campaign, stage and offer."""
    campaign = campaigns.get_campaign(session, row.campaign_id)
    stage = next((s for s in campaign.stages if s.stage_key == row.stage_key), None)
    offer = session.get(Offer, row.offer_id)
    return schemas.ClaimCodeRead(
        code=row.code,
        campaign_name=campaign.name,
        stage_name=None if stage is None else stage.name,
        offer_code=None if offer is None else offer.code,
        claim_limit=row.claim_limit,
        claimed=row.claimed,
        created_at=row.created_at,
    )


@dataclass(frozen=True)
class Claimed:
    """The member's coupon of the code, and whether this claim issued it."""

    coupon: Coupon
    new: bool


class _AlreadyHeld(Exception):
    def __init__(self, coupon: Coupon) -> None:
        self.coupon = coupon


def _count_claim(session: Session, claim_code_id: uuid.UUID) -> bool:
    """One more claim if the limit allows it (a guarded UPDATE); False when it is reached."""
    statement = (
        update(ClaimCode)
        .where(
            ClaimCode.id == claim_code_id,
            or_(ClaimCode.claim_limit.is_(None), ClaimCode.claimed + 1 <= ClaimCode.claim_limit),
        )
        .values(claimed=ClaimCode.claimed + 1)
        .execution_options(**NO_SYNC)
    )
    return bool(session.execute(statement).rowcount == 1)  # type: ignore[attr-defined]


def claim(
    session: Session,
    principal: Principal,
    code: str,
    member_id: uuid.UUID,
    *,
    store_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Claimed:
    """A member claims a public code at a shop or till: the stage's coupon, once per member
    (again: the same coupon, no claim counted); refused with `claim_limit` when the code's
    claims are used up, `budget_spent` or `member_limit` as any issue."""
    principal.require(Permission.SELL)
    stage_coupons.check_store(session, principal, store_id)
    row = session.scalar(select(ClaimCode).where(ClaimCode.code == coupons.normalised_code(code)))
    if row is None:
        raise NotFound("no such claim code", field="code")
    campaign = campaigns.get_campaign(session, row.campaign_id)
    stage = next((s for s in campaign.stages if s.stage_key == row.stage_key), None)
    if stage is None:
        raise NotFound("the claim code's stage is no longer planned", field="code")
    offer = get_or_not_found(session, Offer, row.offer_id, "offer", field="code")
    plan = stage_coupons.plan_of(
        session, principal, campaign, stage, offer, store_id=store_id, now=now
    )
    request = coupons.Issue(
        offer_id=offer.id,
        issue_key=plan.issue_key(member_id),
        valid_from=plan.valid_from,
        valid_until=plan.valid_until,
        member_id=member_id,
        stage_key=plan.stage_key,
        store_id=store_id,
    )
    held = coupons.find_by_key(session, request.issue_key)
    if held is not None:
        return Claimed(held, new=False)
    try:
        with session.begin_nested():
            if not _count_claim(session, row.id):
                raise LedgerError(LedgerErrorCode.CLAIM_LIMIT, field="code", claim_code=row.code)
            coupon, new = coupons.issue_or_find(
                session, principal.organization_id, request, principal.actor
            )
            if not new:
                raise _AlreadyHeld(coupon)  # a concurrent claim of the member: count nothing
            outbox.enqueue(
                session,
                principal.organization_id,
                CLAIM_FACT,
                store_id=store_id,
                member_id=member_id,
                properties={
                    "coupon_id": str(coupon.id),
                    "template_id": str(offer.id),
                    "code": row.code,
                    **plan.names,
                },
            )
            session.flush()
    except _AlreadyHeld as already:
        return Claimed(already.coupon, new=False)
    except LedgerError:
        # the member's concurrent claim may have taken the last claim or budget: theirs
        concurrent = coupons.find_by_key(session, request.issue_key)
        if concurrent is None:
            raise
        return Claimed(concurrent, new=False)
    return Claimed(coupon, new=True)
