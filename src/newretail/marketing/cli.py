"""Operator commands for marketing: campaigns (list, change state), coupons of a stage issued
to a file of members (set-based batches, a progress bar), public claim codes and claims,
coupon lookup by code.

Marketing keeps its ledger in the operational store only, so these commands work beside a
running server (SQLite lets one writer at a time; each batch is one short transaction).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from sqlalchemy.orm import Session

from newretail.core.cli import Json, OrgRef, domain_errors, emit, out, store_options, table
from newretail.core.csvimport import progress_bar
from newretail.core.database import session_scope
from newretail.core.errors import Conflict, InvalidInput
from newretail.core.local_server import request_json, server_client
from newretail.core.settings import Settings
from newretail.marketing import (
    bulk_issue,
    campaigns,
    claims,
    cli_text,
    coupons,
    reads,
    schemas,
    stage_coupons,
)
from newretail.marketing.models import Campaign
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.operator import operator, operator_session

marketing_app = typer.Typer(help="Campaigns, their coupons and budgets", no_args_is_help=True)
POLL_SECONDS = 0.5
CampaignRef = Annotated[str, typer.Argument(help="Campaign name or id")]
StageName = Annotated[str, typer.Option(help="Stage name")]
OfferCode = Annotated[str, typer.Option(help="Offer code")]


def _campaign_stage(session: Session, ref: str, name: str) -> tuple[Campaign, uuid.UUID]:
    """The campaign by name or id, and the id of its stage of that name."""
    campaign = campaigns.campaign_by_ref(session, ref)
    found = next((s.id for s in campaign.stages if s.name == name), None)
    if found is None:
        raise InvalidInput(f"the campaign has no stage {name!r}", field="stage")
    return campaign, found


@marketing_app.command("campaigns")
@domain_errors
@store_options
def list_campaigns(ctx: typer.Context, org: OrgRef, as_json: Json = False) -> None:
    """Every campaign, newest first, with its state as of now and its budgets' burn."""
    with operator_session(ctx, org) as (_container, session, principal):
        rows = [
            reads.campaign_read(session, principal, c).model_dump(mode="json")
            for c in campaigns.list_campaigns(session)
        ]
    emit(rows, as_json, lambda: cli_text.print_campaigns(rows))


@marketing_app.command("state")
@domain_errors
@store_options
def change_state(
    ctx: typer.Context,
    campaign: CampaignRef,
    change: Annotated[
        schemas.CampaignChange, typer.Argument(help="approved, withdrawn, paused, resumed, ended")
    ],
    org: OrgRef,
    as_json: Json = False,
) -> None:
    """Approve, withdraw, pause, resume or end a campaign (audited as the operator)."""
    with operator_session(ctx, org) as (_container, session, principal):
        moved = campaigns.change_state(
            session, principal, campaigns.campaign_by_ref(session, campaign).id, change
        )
        row = reads.campaign_read(session, principal, moved).model_dump(mode="json")
    emit(row, as_json, lambda: out.print(f"{row['name']}: {row['state']}"))


@marketing_app.command("issue")
@domain_errors
@store_options
def issue(
    ctx: typer.Context,
    campaign: CampaignRef,
    org: OrgRef,
    stage: StageName,
    offer: OfferCode,
    members: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="A file of member ids, one a line"),
    ] = None,
    audience: Annotated[
        str | None,
        typer.Option(help="An audience (name or id): through the running server, which holds it"),
    ] = None,
    as_json: Json = False,
) -> None:
    """Issue the stage's offer to every member of the file or of the audience (again: nothing
    more), set-based in batches of 20,000 members within the stage's budget and the offer's
    per-member limit, with a progress bar."""
    if (members is None) == (audience is None):
        raise InvalidInput("give --members or --audience", field="members")
    with operator(ctx, org) as found:
        sessions, organization_id = found.container.sessions, found.organization_id
        with session_scope(sessions, organization_id) as session:
            chosen, stage_id = _campaign_stage(session, campaign, stage)
            if members is not None:
                plan = stage_coupons.stage_plan(
                    session, found.principal, chosen.id, stage_id, offer
                )
        if members is None:
            path = f"/api/v1/marketing/campaigns/{chosen.id}/stages/{stage_id}/bulk-issues"
            settings = found.container.settings
            totals = _issue_through_server(settings, org, path, offer, str(audience), as_json)
        else:
            member_ids = _member_ids(members)
            report = bulk_issue.BulkReport()
            with progress_bar("issue", len(member_ids), as_json) as advance:
                done = 0
                for progress in bulk_issue.in_batches(
                    lambda: session_scope(sessions, organization_id), plan, member_ids
                ):
                    advance(progress.done - done)
                    done, report = progress.done, progress.report
            totals = stage_coupons.report_of(report).model_dump()
    emit(totals, as_json, lambda: out.print(_report_line(totals)))


def _member_ids(members: Path) -> list[uuid.UUID]:
    member_ids: list[uuid.UUID] = []
    for number, line in enumerate(members.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                member_ids.append(uuid.UUID(line.strip()))
            except ValueError as exc:
                raise InvalidInput(f"line {number} is not a member id", field="members") from exc
    return member_ids


def _issue_through_server(
    settings: Settings, org: str, url: str, offer: str, audience: str, quiet: bool
) -> dict[str, Any]:
    """Start the bulk issue in the running server (the audiences' warehouse is its) and follow
    its progress."""
    with server_client(settings, org) as client:
        audience_id = _audience_id(client, audience)
        body = {"offer_code": offer, "audience_id": audience_id}
        job = request_json(client, "POST", url, json=body)
        with progress_bar("issue", int(job["total"]), quiet) as advance:
            done = 0
            while True:
                advance(int(job["done"]) - done)
                done = int(job["done"])
                if job["status"] != "running":
                    break
                time.sleep(POLL_SECONDS)
                job = request_json(client, "GET", f"/api/v1/marketing/bulk-issues/{job['id']}")
    if job["status"] == "failed":
        raise Conflict(f"the bulk issue failed: {job['error']}", field="audience")
    keys = (
        "issued",
        "already_held",
        "no_consent",
        "held_out",
        "refused_budget",
        "refused_member_limit",
        "refused",
    )
    return {key: job[key] for key in keys}


def _audience_id(client: httpx.Client, ref: str) -> str:
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        listed = request_json(client, "GET", "/api/v1/audiences")
    found = [a["id"] for a in listed if a["name"] == ref]
    if not found:
        raise InvalidInput(f"no audience named {ref!r}", field="audience")
    return str(found[0])


def _report_line(totals: dict[str, Any]) -> str:
    counts = {k: v for k, v in totals.items() if k != "refused"}
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())


@marketing_app.command("claim-code")
@domain_errors
@store_options
def claim_code(
    ctx: typer.Context,
    campaign: CampaignRef,
    org: OrgRef,
    stage: StageName,
    offer: OfferCode,
    code: Annotated[str, typer.Option(help="The public code people type, e.g. DOUBLE11")],
    limit: Annotated[int | None, typer.Option(help="Claims in all (default: no limit)")] = None,
    as_json: Json = False,
) -> None:
    """Put an offer of the stage behind a public code, claimed at most --limit times."""
    with operator_session(ctx, org) as (_container, session, principal):
        chosen, stage_id = _campaign_stage(session, campaign, stage)
        body = schemas.ClaimCodeIn(code=code, offer_code=offer, claim_limit=limit)
        row = claims.create_claim_code(session, principal, chosen.id, stage_id, body)
        data = claims.claim_code_read(session, row).model_dump(mode="json")
    emit(data, as_json, lambda: table("Claim code", list(data), [list(data.values())]))


@marketing_app.command("claim")
@domain_errors
@store_options
def claim(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The public code, e.g. DOUBLE11")],
    org: OrgRef,
    member: Annotated[uuid.UUID, typer.Option(help="The member who claims")],
    as_json: Json = False,
) -> None:
    """A member claims a public code: the coupon issued now, or the one they hold."""
    with operator_session(ctx, org) as (_container, session, principal):
        claimed = claims.claim(session, principal, code, member)
        row = reads.coupon_reads(session, [claimed.coupon])[0].model_dump(mode="json")
        zone_name = tenancy_service.organisation_zone(session, principal.organization_id)
    data = {"new": claimed.new, "coupon": row}
    title = "Claimed coupon" if claimed.new else "Coupon held already"
    emit(data, as_json, lambda: cli_text.print_coupon(title, row, zone_name))


@marketing_app.command("coupon")
@domain_errors
@store_options
def coupon(ctx: typer.Context, code: str, org: OrgRef, as_json: Json = False) -> None:
    """A printed coupon by its code: offer, campaign, state, validity, the order that used it."""
    with operator_session(ctx, org) as (_container, session, principal):
        row = reads.coupon_reads(session, [coupons.by_code(session, code)])[0]
        zone_name = tenancy_service.organisation_zone(session, principal.organization_id)
    data = row.model_dump(mode="json")
    emit(data, as_json, lambda: cli_text.print_coupon("Coupon", data, zone_name))
