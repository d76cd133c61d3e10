"""Console page of a campaign's trigger rules: the rules of each stage, the form that adds one
(events, property filter, stores or cities, channel, the stage's offer, caps), deactivate and
delete, and the latest decisions with their reasons (the live decision stream, read again
every 3 s while the page is shown)."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.console.forms import FormError, attempt
from newretail.console.shell import Form, page_locale, redirect, render
from newretail.core.i18n import translator
from newretail.marketing import campaigns
from newretail.marketing.models import Offer
from newretail.members.profile_graph import Member
from newretail.reach import labels, trigger_schemas, triggers
from newretail.reach.decide import Channel
from newretail.tenancy import web_stores
from newretail.tenancy.auth import ConsoleIdentity
from newretail.tenancy.dependencies import Identity, SessionDep, posted_by
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console/reach/campaigns", include_in_schema=False)
DECISIONS_SHOWN = 50


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


def _number(form: dict[str, str], name: str) -> int | None:
    value = form.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise FormError.keyed(name, "reach.triggers.whole_number") from exc


def rule_of(form: dict[str, str], campaign_id: uuid.UUID) -> trigger_schemas.TriggerRuleIn:
    """The form's fields as a rule: event types ticked and typed, one optional property
    filter, the stores ticked and the cities typed (comma separated)."""
    types = [t for t in trigger_schemas.TRIGGER_TYPES if form.get(f"type_{t}")]
    filters = []
    if form.get("filter_property", "").strip():
        values = _words(form.get("filter_values", ""))
        operator = form.get("filter_op", "equals")
        filters.append(
            {"property": form["filter_property"].strip(), "op": operator, "values": values}
            if operator == "in"
            else {
                "property": form["filter_property"].strip(),
                "op": "equals",
                "value": values[0] if values else None,
            }
        )
    data: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "campaign_id": campaign_id,
        "stage_position": _number(form, "stage_position") or 0,
        "event_types": types + _words(form.get("other_types", "")),
        "property_filters": filters,
        "store_ids": [k.removeprefix("store_") for k in form if k.startswith("store_")],
        "cities": _words(form.get("cities", "")),
        "channel": form.get("channel", ""),
        "offer_code": form.get("offer_code", ""),
        "daily_cap": _number(form, "daily_cap"),
        "weekly_cap": _number(form, "weekly_cap"),
        "reentry_minutes": _number(form, "reentry_minutes") or 0,
    }
    return trigger_schemas.TriggerRuleIn.model_validate(data)


def _page(
    request: Request,
    session: Session,
    identity: ConsoleIdentity,
    campaign_id: uuid.UUID,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    campaign = campaigns.get_campaign(session, campaign_id)
    offer_ids = {uuid.UUID(o) for s in campaign.stages for o in s.offer_ids}
    offers = session.execute(
        select(Offer.code, Offer.name).where(Offer.id.in_(offer_ids)).order_by(Offer.code)
    ).all()
    # the stores a rule may take: the signed-in user's selling ones (a warehouse meets no shopper)
    selling = web_stores.selling(web_stores.stores_by_code(session, identity.principal))
    stores = [(s.id, s.name) for s in selling]
    t = translator(page_locale(request, identity))
    return render(
        request,
        "reach/triggers.html",
        identity,
        status_code,
        section="marketing",
        event_type_label=partial(labels.event_type_label, t),
        event_types_label=partial(labels.event_types_label, t),
        campaign=campaign,
        rules=[triggers.rule_read(session, r) for r in triggers.list_rules(session, campaign_id)],
        **_latest(session, campaign_id),
        trigger_types=trigger_schemas.TRIGGER_TYPES,
        channels=list(Channel),
        offers=offers,
        stores=stores,
        store_names=dict(session.execute(select(Store.id, Store.name)).all()),
        form=form or {"reentry_minutes": "5"},
        errors=errors or {},
    )


def _latest(session: Session, campaign_id: uuid.UUID) -> dict[str, Any]:
    """The latest decisions of the campaign and their members' names."""
    decided = triggers.list_decisions(session, campaign_id=campaign_id, limit=DECISIONS_SHOWN)
    members = {d.member_id for d in decided}
    names = session.execute(select(Member.id, Member.name).where(Member.id.in_(members)))
    return {"decisions": decided, "member_names": dict(names.all())}


@router.get("/{campaign_id}/triggers/decisions")
def latest_decisions(
    request: Request, session: SessionDep, identity: Identity, campaign_id: uuid.UUID
) -> Response:
    """The latest decisions' table rows, which the page reads again every few seconds."""
    identity.principal.require(Permission.READ)
    campaigns.get_campaign(session, campaign_id)  # another organisation's: not found
    return render(request, "reach/decision_rows.html", identity, **_latest(session, campaign_id))


@router.get("/{campaign_id}/triggers")
def triggers_page(
    request: Request, session: SessionDep, identity: Identity, campaign_id: uuid.UUID
) -> Response:
    """A campaign's trigger rules, the form that adds one, and the latest decisions."""
    identity.principal.require(Permission.READ)
    return _page(request, session, identity, campaign_id)


@router.post("/{campaign_id}/triggers")
def add_rule(
    request: Request,
    session: SessionDep,
    identity: Identity,
    campaign_id: uuid.UUID,
    form: Form,
) -> Response:
    """Add a trigger rule to one of the campaign's stages."""
    principal = posted_by(identity, form, Permission.MANAGE_MARKETING)
    campaigns.get_campaign(session, campaign_id)  # another organisation's: not found
    with attempt(session, page_locale(request, identity)) as refused:
        triggers.create_rule(session, principal, rule_of(form, campaign_id))
    if refused.errors:
        return _page(
            request,
            session,
            identity,
            campaign_id,
            form=dict(form),
            errors=refused.errors,
            status_code=refused.status_code,
        )
    return redirect(f"/console/reach/campaigns/{campaign_id}/triggers?added=1")


@router.post("/{campaign_id}/triggers/{rule_id}/delete")
def delete_rule(
    session: SessionDep, identity: Identity, campaign_id: uuid.UUID, rule_id: uuid.UUID, form: Form
) -> Response:
    """Delete a rule with its decisions."""
    principal = posted_by(identity, form, Permission.MANAGE_MARKETING)
    triggers.delete_rule(session, principal, rule_id)
    return redirect(f"/console/reach/campaigns/{campaign_id}/triggers?deleted=1")
