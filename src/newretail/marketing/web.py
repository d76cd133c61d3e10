"""Console pages of marketing: campaigns with their stage timeline and budget burn, the
state changes (approve, pause, resume, end, withdraw), the audit, offers and coupon lookup."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from newretail.console.forms import attempt
from newretail.console.shell import Form, check_csrf, page_locale, redirect, render
from newretail.core.database import utcnow
from newretail.core.errors import InvalidInput, NewRetailError
from newretail.core.i18n import translator
from newretail.marketing import (
    audience_issues,
    burn_chart,
    campaigns,
    choices,
    coupons,
    offer_library,
    reads,
    schemas,
    web_campaigns,
    web_coupons,
    web_issues,
    web_offers,
)
from newretail.marketing.audience_issues import AudienceMembersDep
from newretail.marketing.benefit_words import benefit_words
from newretail.marketing.directory import Directory, DirectoryDep
from newretail.marketing.models import CampaignState
from newretail.tenancy.auth import ConsoleIdentity
from newretail.tenancy.dependencies import ContainerDep, Identity, SessionDep, posted_by
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
    container: ContainerDep,
    campaign_id: uuid.UUID,
    issue: str = "",
) -> Response:
    identity.principal.require(Permission.READ)
    job = web_issues.job_of(container.warehouse, identity.principal, issue)
    return _campaign_page(request, session, identity, directory, campaign_id, job=job)


def _campaign_page(
    request: Request,
    session: Session,
    identity: ConsoleIdentity,
    directory: Directory,
    campaign_id: uuid.UUID,
    *,
    job: dict[str, Any] | None = None,
    issue_stage: uuid.UUID | None = None,
    issue_form: dict[str, str] | None = None,
    issue_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    principal = identity.principal
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
        status_code,
        section="marketing",
        campaign=campaign,
        audit=campaigns.audit_of(session, campaign_id),
        actions=allowed,
        offer_names={o.value: o.label for o in choices.offers(session)},
        audience_names=audiences,
        burn_downs=burn,
        job=job,
        issue_stage=issue_stage,
        issue_form=issue_form or {},
        issue_errors=issue_errors or {},
    )


@router.post("/marketing/campaigns/{campaign_id}/stages/{stage_id}/issue")
def issue_to_audience(
    request: Request,
    session: SessionDep,
    identity: Identity,
    directory: DirectoryDep,
    container: ContainerDep,
    members_of: AudienceMembersDep,
    campaign_id: uuid.UUID,
    stage_id: uuid.UUID,
    form: Form,
) -> Response:
    """Start the bulk issue of a stage's offer to an audience (the API's job); back on the
    campaign's page, which shows its progress."""
    principal = posted_by(identity, form, Permission.MANAGE_MARKETING)
    campaigns.get_campaign(session, campaign_id)  # another organisation's: not found
    locale = page_locale(request, identity)
    with attempt(session, locale, web_issues.refusal) as refused:
        body = web_issues.request_of(form)
        job = audience_issues.start(
            session, principal, container, members_of, campaign_id, stage_id, body
        )
    if refused.errors:
        return _campaign_page(
            request,
            session,
            identity,
            directory,
            campaign_id,
            issue_stage=stage_id,
            issue_form=dict(form),
            issue_errors=refused.errors,
            status_code=refused.status_code,
        )
    return redirect(f"/console/marketing/campaigns/{campaign_id}?issue={job.id}")


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
