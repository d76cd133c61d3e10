"""Operator commands for marketing: campaigns (list, change state), coupons of a stage issued
to a file of members with a progress bar, coupon lookup by code.

Marketing keeps its ledger in the operational store only, so these commands work beside a
running server (SQLite lets one writer at a time; each batch is one short transaction).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.cli import Json, OrgRef, domain_errors, emit, out, store_options, table
from newretail.core.csvimport import in_batches, progress_bar
from newretail.core.database import session_scope
from newretail.core.errors import InvalidInput
from newretail.marketing import campaigns, coupons, reads, schemas, stage_coupons
from newretail.marketing.models import Campaign
from newretail.tenancy.operator import operator, operator_session

marketing_app = typer.Typer(help="Campaigns, their coupons and budgets", no_args_is_help=True)
BATCH = 500
CampaignRef = Annotated[str, typer.Argument(help="Campaign name or id")]


def _campaign(session: Session, ref: str) -> Campaign:
    try:
        return campaigns.get_campaign(session, uuid.UUID(ref))
    except ValueError:
        found = session.scalar(select(Campaign).where(Campaign.name == ref))
    if found is None:
        raise InvalidInput(f"no campaign named {ref!r}", field="campaign")
    return found


def _print_campaigns(rows: list[dict[str, Any]]) -> None:
    table(
        "Campaigns",
        ["campaign", "state", "stages", "issued", "redeemed", "discount given"],
        [
            [
                r["name"],
                r["state"],
                "; ".join(f"{s['name']} {s['first_day']}…{s['last_day']}" for s in r["stages"]),
                sum(s["budgets"][0]["issued"] for s in r["stages"]),
                sum(s["budgets"][0]["redeemed"] for s in r["stages"]),
                sum(float(s["budgets"][0]["discounted"]) for s in r["stages"]),
            ]
            for r in rows
        ],
    )


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
    emit(rows, as_json, lambda: _print_campaigns(rows))


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
        moved = campaigns.change_state(session, principal, _campaign(session, campaign).id, change)
        row = reads.campaign_read(session, principal, moved).model_dump(mode="json")
    emit(row, as_json, lambda: out.print(f"{row['name']}: {row['state']}"))


@marketing_app.command("issue")
@domain_errors
@store_options
def issue(
    ctx: typer.Context,
    campaign: CampaignRef,
    org: OrgRef,
    stage: Annotated[str, typer.Option(help="Stage name")],
    offer: Annotated[str, typer.Option(help="Offer code")],
    members: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="A file of member ids, one a line")
    ],
    as_json: Json = False,
) -> None:
    """Issue the stage's offer to every member of the file (again: nothing more), in
    batches of 500 within the stage's budget."""
    member_ids: list[uuid.UUID] = []
    for number, line in enumerate(members.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                member_ids.append(uuid.UUID(line.strip()))
            except ValueError as exc:
                raise InvalidInput(f"line {number} is not a member id", field="members") from exc
    totals = {"issued": 0, "already_held": 0, "refused_budget": 0}
    with operator(ctx, org) as found, progress_bar("issue", len(member_ids), as_json) as advance:
        for batch in in_batches(member_ids, BATCH):
            with session_scope(found.container.sessions, found.organization_id) as session:
                chosen = _campaign(session, campaign)
                stage_id = next((s.id for s in chosen.stages if s.name == stage), None)
                if stage_id is None:
                    raise InvalidInput(f"the campaign has no stage {stage!r}", field="stage")
                request = schemas.IssueRequest(offer_code=offer, member_ids=batch)
                report = stage_coupons.issue_to_members(
                    session, found.principal, chosen.id, stage_id, request
                )
            for key, value in report.model_dump().items():
                totals[key] += value
            advance(len(batch))
    emit(totals, as_json, lambda: out.print(", ".join(f"{k} {v}" for k, v in totals.items())))


@marketing_app.command("coupon")
@domain_errors
@store_options
def coupon(ctx: typer.Context, code: str, org: OrgRef, as_json: Json = False) -> None:
    """A printed coupon by its code: offer, campaign, state, validity, the order that used it."""
    with operator_session(ctx, org) as (_container, session, _principal):
        row = reads.coupon_reads(session, [coupons.by_code(session, code)])[0]
    data = row.model_dump(mode="json")
    emit(data, as_json, lambda: table("Coupon", list(data), [list(data.values())]))
