"""Console pages of marketing: campaigns with their stage timeline and budget burn, the
state changes (approve, pause, resume, end, withdraw), the audit, offers and coupon lookup."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from newretail.console.shell import Form, check_csrf, page_locale, redirect, render
from newretail.core.database import utcnow
from newretail.core.errors import InvalidInput, NewRetailError
from newretail.core.i18n import translator
from newretail.marketing import (
    burn_chart,
    campaigns,
    choices,
    coupons,
    offer_library,
    reads,
    schemas,
    web_campaigns,
    web_coupons,
    web_offers,
)
from newretail.marketing.benefit_words import benefit_words
from newretail.marketing.directory import DirectoryDep
from newretail.marketing.models import CampaignState
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console", include_in_schema=False)
# the forms first: /marketing/campaigns/new before /marketing/campaigns/{campaign_id}
router.include_router(web_offers.router)
router.include_router(web_campaigns.router)
router.include_router(web_coupons.router)


@router.get("/marketing")
def marketing_page(
    request: Request, session: SessionDep, identity: Identity, code: str = ""
) -> Response:
    principal = identity.principal
    principal.require(Permission.READ)
    found: list[schemas.CouponRead] = []
    lookup_error = ""
    t = translator(page_locale(request, identity))
    specs = [(o, offer_library.spec_of(o)) for o in offer_library.list_offers(session)]
    if code.strip():
        try:
            found = reads.coupon_reads(session, [coupons.by_code(session, code)])
        except NewRetailError:
            lookup_error = "marketing.coupon_not_found"
    return render(
        request,
        "marketing/page.html",
        identity,
        section="marketing",
        campaigns=[
            reads.campaign_read(session, principal, c) for c in campaigns.list_campaigns(session)
        ],
        offers=[(o, spec, benefit_words(t, spec.benefit)) for o, spec in specs],
        code=code,
        found=found,
        lookup_error=lookup_error,
    )


@router.get("/marketing/campaigns/{campaign_id}")
def campaign_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    directory: DirectoryDep,
    campaign_id: uuid.UUID,
) -> Response:
    principal = identity.principal
    principal.require(Permission.READ)
    found = campaigns.get_campaign(session, campaign_id)
    campaign = reads.campaign_read(session, principal, found)
    t = translator(page_locale(request, identity))
    burn = burn_chart.stage_charts(session, found, campaign.time_zone, utcnow(), t)
    allowed = campaigns.allowed_changes(principal, CampaignState(campaign.state))
    audiences = {a.id: a.name for a in directory.audiences(session, principal)}
    return render(
        request,
        "marketing/campaign.html",
        identity,
        section="marketing",
        campaign=campaign,
        audit=campaigns.audit_of(session, campaign_id),
        actions=allowed,
        offer_names={o.value: o.label for o in choices.offers(session)},
        audience_names=audiences,
        burn_downs=burn,
    )


@router.post("/marketing/campaigns/{campaign_id}/state")
def change_state(
    session: SessionDep, identity: Identity, campaign_id: uuid.UUID, form: Form
) -> Response:
    check_csrf(identity, form)
    campaigns.get_campaign(session, campaign_id)  # another organisation's: not found
    try:
        change = schemas.CampaignChange(form.get("change", ""))
    except ValueError as exc:
        raise InvalidInput("choose a state change", field="change") from exc
    campaigns.change_state(session, identity.principal, campaign_id, change)
    return redirect(f"/console/marketing/campaigns/{campaign_id}?changed={change}")
