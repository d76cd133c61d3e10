"""What the marketing API and console show: campaigns with their state as of now and their
budgets' burn, coupons with the names of their offer, campaign and stage."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.core.reads import read_of
from newretail.marketing import campaigns, schemas
from newretail.marketing.models import (
    Budget,
    Campaign,
    CampaignStage,
    Coupon,
    CouponLedgerEntry,
    CouponState,
    Offer,
)
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Principal


def _budgets(session: Session, stage_keys: Sequence[str]) -> dict[str, list[schemas.BudgetRead]]:
    rows = session.execute(
        select(Budget, Store.name)
        .outerjoin(Store, Store.id == Budget.store_id)
        .where(Budget.stage_key.in_(stage_keys))
        .order_by(Budget.stage_key, Budget.store_id.is_not(None), Store.name)
    ).all()
    found: dict[str, list[schemas.BudgetRead]] = {}
    for budget, store_name in rows:
        found.setdefault(budget.stage_key, []).append(
            read_of(schemas.BudgetRead, budget, store_name=store_name)
        )
    return found


def campaign_read(
    session: Session, principal: Principal, campaign: Campaign, now: datetime | None = None
) -> schemas.CampaignRead:
    zone_name = tenancy_service.organisation_zone(session, principal.organization_id)
    offer_ids = {uuid.UUID(o) for stage in campaign.stages for o in stage.offer_ids}
    codes = dict(session.execute(select(Offer.id, Offer.code).where(Offer.id.in_(offer_ids))).all())
    burn = _budgets(session, [stage.stage_key for stage in campaign.stages])
    return read_of(
        schemas.CampaignRead,
        campaign,
        state=campaigns.state_at(campaign, zone_name, now or utcnow()),
        time_zone=zone_name,
        stages=[
            read_of(
                schemas.StageRead,
                stage,
                audience_ids=[uuid.UUID(a) for a in stage.audience_ids],
                offer_codes=[codes[uuid.UUID(o)] for o in stage.offer_ids],
                budgets=burn.get(stage.stage_key, []),
            )
            for stage in campaign.stages
        ],
    )


def coupon_reads(session: Session, found: Sequence[Coupon]) -> list[schemas.CouponRead]:
    """Coupons with their offer's code and name and their campaign's and stage's names."""
    offers = {
        o.id: o
        for o in session.scalars(select(Offer).where(Offer.id.in_({c.offer_id for c in found})))
    }
    campaign_ids = {uuid.UUID(c.stage_key.split(":")[0]) for c in found if c.stage_key}
    stages = {
        stage.stage_key: (name, stage.name)
        for stage, name in session.execute(
            select(CampaignStage, Campaign.name)
            .join(Campaign, Campaign.id == CampaignStage.campaign_id)
            .where(Campaign.id.in_(campaign_ids))
        ).all()
    }
    result = []
    for coupon in found:
        offer = offers.get(coupon.offer_id)
        campaign_name, stage_name = stages.get(coupon.stage_key or "", (None, None))
        result.append(
            read_of(
                schemas.CouponRead,
                coupon,
                offer_code=offer.code if offer else None,
                offer_name=offer.name if offer else None,
                campaign_name=campaign_name,
                stage_name=stage_name,
            )
        )
    return result


def member_coupons(session: Session, member_id: uuid.UUID) -> list[schemas.CouponRead]:
    held = session.scalars(
        select(Coupon).where(Coupon.member_id == member_id).order_by(Coupon.created_at.desc())
    ).all()
    return coupon_reads(session, held)


def member_coupon_history(session: Session, member_id: uuid.UUID) -> list[schemas.CouponChangeRead]:
    """Every change of the coupons the member holds, oldest first (issues, redemptions,
    returns, voids), with where and for which order."""
    held = select(Coupon.id).where(Coupon.member_id == member_id)
    entries = session.scalars(
        select(CouponLedgerEntry)
        .where(CouponLedgerEntry.coupon_id.in_(held))
        .order_by(CouponLedgerEntry.created_at, CouponLedgerEntry.id)
    ).all()
    return [schemas.CouponChangeRead.model_validate(e) for e in entries]


def order_coupons(session: Session, order_ref: str) -> list[schemas.CouponRead]:
    """The coupons an order (its id, or a till's order id) used and still holds, the largest
    discount first."""
    used = session.scalars(
        select(Coupon)
        .where(Coupon.order_ref == order_ref, Coupon.state == CouponState.REDEEMED)
        .order_by(Coupon.discount.desc(), Coupon.id)
    ).all()
    return coupon_reads(session, used)
