"""Console pages of campaign plans: the planner (new, or a draft's plan changed) with its
stages, the one-click Double 11 plan and the stage timeline drawn as it is edited. A plan is
saved as a draft; the campaign's page then offers approval and the other state changes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from newretail.console.forms import attempt
from newretail.console.shell import page_locale, redirect
from newretail.core.i18n import translator
from newretail.core.localtime import today
from newretail.marketing import campaign_form, campaigns, choices, reads
from newretail.marketing.directory import DirectoryDep
from newretail.marketing.form_values import FormValues, MultiForm, form_page, refusals
from newretail.marketing.models import CampaignState
from newretail.marketing.schemas import MAX_STAGES, StageKind
from newretail.tenancy.auth import ConsoleIdentity
from newretail.tenancy.dependencies import Identity, SessionDep, posted_by
from newretail.tenancy.models import ChannelType
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/marketing")
BLANK_STAGES = 3  # stage rows a new plan shows (the Double 11 plan fills three)
REACHES = ("everywhere", "online", "offline", "channel_types", "stores")


def _page(
    request: Request,
    session: Session,
    identity: ConsoleIdentity,
    directory: DirectoryDep,
    form: FormValues,
    campaign_id: uuid.UUID | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    locked: bool = False,
) -> Response:
    zone_name = identity.organization.time_zone
    t = translator(page_locale(request, identity))
    plan = campaign_form.double_11_plan(today(zone_name))
    for stage in plan:
        stage["name"] = t(f"marketing.plan.stage.{stage['kind']}")
    rows = campaign_form.stage_rows(form)
    shown = min(MAX_STAGES, max(BLANK_STAGES, (rows[-1] + 1) if rows else 0))
    return form_page(
        request,
        "marketing/campaign_form.html",
        identity,
        form,
        errors,
        status_code,
        campaign_id=campaign_id,
        stage_rows=range(shown),
        max_stages=MAX_STAGES,
        store_rows=range(campaign_form.STORE_ROWS),
        kinds=list(StageKind),
        reaches=REACHES,
        channel_types=[c for c in ChannelType if c is not ChannelType.WAREHOUSE],
        brands=choices.brands(session),
        stores=choices.stores(session),
        offers=choices.offers(session),
        audiences=[
            choices.Choice(str(a.id), a.name)
            for a in directory.audiences(session, identity.principal)
        ],
        double_11=plan,
        locked=locked,
    )


def _save(
    request: Request,
    session: Session,
    identity: ConsoleIdentity,
    directory: DirectoryDep,
    form: FormValues,
    campaign_id: uuid.UUID | None,
) -> Response:
    principal = posted_by(identity, form.flat(), Permission.MANAGE_MARKETING)
    locale = page_locale(request, identity)
    field_of = campaign_form.field_of(campaign_form.stage_rows(form))

    def errors(exc: Exception, locale: str) -> dict[str, str]:
        return refusals(exc, locale, field_of, {"store_budgets": "_form", "offer_codes": "_form"})

    with attempt(session, locale, errors) as refusal:
        plan = campaign_form.plan_from_form(form)
        if campaign_id is None:
            campaign = campaigns.create_campaign(session, principal, plan)
        else:
            campaign = campaigns.replan_campaign(session, principal, campaign_id, plan)
    if refusal.errors:
        status = refusal.status_code
        return _page(
            request, session, identity, directory, form, campaign_id, refusal.errors, status
        )
    return redirect(f"/console/marketing/campaigns/{campaign.id}?changed=planned")


@router.get("/campaigns/new")
def new_campaign_page(
    request: Request, session: SessionDep, identity: Identity, directory: DirectoryDep
) -> Response:
    """A blank plan (the Double 11 button fills in three stages)."""
    identity.principal.require(Permission.MANAGE_MARKETING)
    return _page(request, session, identity, directory, FormValues({"holdout_percent": ["10"]}))


@router.post("/campaigns/new")
def plan_campaign(
    request: Request,
    session: SessionDep,
    identity: Identity,
    directory: DirectoryDep,
    form: MultiForm,
) -> Response:
    return _save(request, session, identity, directory, form, None)


@router.get("/campaigns/{campaign_id}/plan")
def replan_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    directory: DirectoryDep,
    campaign_id: uuid.UUID,
) -> Response:
    """A campaign's plan in the planner (only a draft's can be saved)."""
    principal = identity.principal
    principal.require(Permission.MANAGE_MARKETING)
    campaign = campaigns.get_campaign(session, campaign_id)
    form = campaign_form.form_of(reads.campaign_read(session, principal, campaign))
    locked = campaign.state != CampaignState.DRAFT  # shown; saving it is refused
    return _page(request, session, identity, directory, form, campaign_id, locked=locked)


@router.post("/campaigns/{campaign_id}/plan")
def replan_campaign(
    request: Request,
    session: SessionDep,
    identity: Identity,
    directory: DirectoryDep,
    campaign_id: uuid.UUID,
    form: MultiForm,
) -> Response:
    identity.principal.require(Permission.MANAGE_MARKETING)
    campaigns.get_campaign(session, campaign_id)  # another organisation's: not found
    return _save(request, session, identity, directory, form, campaign_id)
