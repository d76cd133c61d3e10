"""REST API of marketing: offers, campaigns (plan, approve, pause, resume, end, audit),
coupons of a stage issued to members, coupon lookup by code or member."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from newretail.core.errors import InvalidInput
from newretail.marketing import (
    campaigns,
    claim_routes,
    coupons,
    issue_routes,
    offer_library,
    previews,
    reads,
    schemas,
    stage_coupons,
)
from newretail.marketing.offer_specs import OfferSpec
from newretail.tenancy.dependencies import CurrentPrincipal, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/api/v1/marketing", tags=["marketing"])


def _offer_read(offer: object) -> schemas.OfferRead:
    return schemas.OfferRead.model_validate(offer, from_attributes=True)


@router.get("/offers", response_model=list[schemas.OfferRead])
def list_offers(session: SessionDep, principal: CurrentPrincipal) -> object:
    """Every saved offer, by code."""
    principal.require(Permission.READ)
    return [_offer_read(o) for o in offer_library.list_offers(session)]


@router.post("/offers", response_model=schemas.OfferRead, status_code=201)
def create_offer(session: SessionDep, principal: CurrentPrincipal, body: OfferSpec) -> object:
    """Save an offer template (docs/marketing.md: benefits, scope, channels, stacking)."""
    return _offer_read(offer_library.create_offer(session, principal, body))


@router.get("/offers/{code}", response_model=schemas.OfferRead)
def read_offer(session: SessionDep, principal: CurrentPrincipal, code: str) -> object:
    principal.require(Permission.READ)
    return _offer_read(offer_library.get_offer(session, code))


@router.put("/offers/{code}", response_model=schemas.OfferRead)
def replace_offer(
    session: SessionDep, principal: CurrentPrincipal, code: str, body: OfferSpec
) -> object:
    """Replace an offer template (coupons already issued keep their validity)."""
    return _offer_read(offer_library.replace_offer(session, principal, code, body))


@router.get("/campaigns", response_model=list[schemas.CampaignRead])
def list_campaigns(session: SessionDep, principal: CurrentPrincipal) -> object:
    """Every campaign, newest first, with its state as of now and its budgets' burn."""
    principal.require(Permission.READ)
    return [reads.campaign_read(session, principal, c) for c in campaigns.list_campaigns(session)]


@router.post("/campaigns", response_model=schemas.CampaignRead, status_code=201)
def create_campaign(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.CampaignIn
) -> object:
    """Plan a campaign (a draft until an administrator approves it)."""
    campaign = campaigns.create_campaign(session, principal, body)
    return reads.campaign_read(session, principal, campaign)


@router.get("/campaigns/{campaign_id}", response_model=schemas.CampaignRead)
def read_campaign(
    session: SessionDep, principal: CurrentPrincipal, campaign_id: uuid.UUID
) -> object:
    principal.require(Permission.READ)
    return reads.campaign_read(session, principal, campaigns.get_campaign(session, campaign_id))


@router.put("/campaigns/{campaign_id}", response_model=schemas.CampaignRead)
def replan_campaign(
    session: SessionDep,
    principal: CurrentPrincipal,
    campaign_id: uuid.UUID,
    body: schemas.CampaignIn,
) -> object:
    """Replace a draft's plan."""
    campaign = campaigns.replan_campaign(session, principal, campaign_id, body)
    return reads.campaign_read(session, principal, campaign)


@router.post("/campaigns/{campaign_id}/state", response_model=schemas.CampaignRead)
def change_campaign(
    session: SessionDep,
    principal: CurrentPrincipal,
    campaign_id: uuid.UUID,
    body: schemas.StateChange,
) -> object:
    """`approved` (an administrator), `withdrawn` (back to draft before it starts), `paused`,
    `resumed` or `ended`."""
    change = schemas.CampaignChange(body.change)
    campaign = campaigns.change_state(session, principal, campaign_id, change)
    return reads.campaign_read(session, principal, campaign)


@router.get("/campaigns/{campaign_id}/audit", response_model=list[schemas.AuditRead])
def campaign_audit(
    session: SessionDep, principal: CurrentPrincipal, campaign_id: uuid.UUID
) -> object:
    """Every change of the campaign, oldest first: who, when, and the plan after it."""
    principal.require(Permission.READ)
    return [
        schemas.AuditRead(change=a.change, actor=a.actor, at=a.created_at, detail=a.detail)
        for a in campaigns.audit_of(session, campaign_id)
    ]


@router.post(
    "/campaigns/{campaign_id}/stages/{stage_id}/coupons", response_model=schemas.IssueReport
)
def issue_coupons(
    session: SessionDep,
    principal: CurrentPrincipal,
    campaign_id: uuid.UUID,
    stage_id: uuid.UUID,
    body: schemas.IssueRequest,
) -> object:
    """Issue one coupon of the stage's offer to each member (idempotent per stage, offer and
    member; members beyond the stage's budget are counted in `refused_budget`)."""
    return stage_coupons.issue_to_members(session, principal, campaign_id, stage_id, body)


router.include_router(claim_routes.router)
router.include_router(issue_routes.router)


@router.get("/coupons", response_model=list[schemas.CouponRead])
def find_coupons(
    session: SessionDep,
    principal: CurrentPrincipal,
    code: Annotated[str | None, Query(max_length=64)] = None,
    member_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
) -> object:
    """A coupon by its printed code, a member's coupons (newest first), or the coupons an
    order used (at a till or a checkout; the largest discount first)."""
    principal.require(Permission.READ)
    if code:
        return reads.coupon_reads(session, [coupons.by_code(session, code)])
    if order_id is not None:
        return reads.order_coupons(session, str(order_id))
    if member_id is None:
        raise InvalidInput("give a code, a member_id or an order_id", field="code")
    return reads.member_coupons(session, member_id)


@router.post("/offers/preview", response_model=previews.PreviewRead)
def preview_offer(
    session: SessionDep, principal: CurrentPrincipal, body: previews.PreviewIn
) -> object:
    """Price a sample basket (SKUs and quantities at a channel type's catalogue prices) under
    an offer spec as typed, through the one pricing path; nothing is saved."""
    return previews.preview_offer(session, principal, body)
