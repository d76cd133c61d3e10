"""Operator commands for reach's decisions: `newretail reach rules list|add`, `newretail reach
settings show|set` (quiet hours, global cap) and `newretail reach decisions list` (the latest,
with their reasons); `--json` for scripts. `reach.cli` mounts them beside the webhooks'."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from newretail.core.cli import Json, OrgRef, command, emit, table
from newretail.core.database import ids_by_code
from newretail.core.i18n import DEFAULT_LOCALE, translator
from newretail.core.localtime import format_local_time
from newretail.marketing import campaigns
from newretail.reach import labels, trigger_schemas, triggers
from newretail.reach.decide import Channel, Reason
from newretail.tenancy.models import Store
from newretail.tenancy.operator import operator_session

rules_app = typer.Typer(help="Trigger rules on campaign stages", no_args_is_help=True)
settings_app = typer.Typer(help="Quiet hours and the global daily cap", no_args_is_help=True)
decisions_app = typer.Typer(help="Decisions on trigger events", no_args_is_help=True)
CampaignOption = Annotated[str, typer.Option("--campaign", help="Campaign name or id")]


def _store_ids(session: Session, codes: list[str]) -> list[uuid.UUID]:
    return ids_by_code(session, Store.code, Store.id, codes, "store", field="store")


@command(rules_app, "list")
def list_rules(
    ctx: typer.Context,
    org: OrgRef,
    campaign: Annotated[str | None, typer.Option(help="Campaign name or id")] = None,
    as_json: Json = False,
) -> None:
    """Trigger rules by name, with their campaign stage, events, channel and offer."""
    with operator_session(ctx, org) as (_container, session, _principal):
        campaign_id = None if campaign is None else campaigns.campaign_by_ref(session, campaign).id
        rows = [
            triggers.rule_read(session, r).model_dump(mode="json")
            for r in triggers.list_rules(session, campaign_id)
        ]

    def human() -> None:
        t = translator(DEFAULT_LOCALE)
        table(
            "Trigger rules",
            ["Name", "Campaign", "Stage", "Events", "Channel", "Offer", "Active"],
            [
                (
                    r["name"],
                    r["campaign_name"],
                    r["stage_name"] or r["stage_position"],
                    labels.event_types_label(t, r["event_types"]),
                    t(f"reach.channel.{r['channel']}"),
                    r["offer_name"],
                    "yes" if r["active"] else "no",
                )
                for r in rows
            ],
        )

    emit(rows, as_json, human)


@command(rules_app, "add")
def add_rule(
    ctx: typer.Context,
    org: OrgRef,
    name: Annotated[str, typer.Option(help="The rule's name")],
    campaign: CampaignOption,
    offer: Annotated[str, typer.Option(help="Code of one of the stage's offers")],
    channel: Annotated[Channel, typer.Option(help="Where the offer goes")],
    stage: Annotated[int, typer.Option(help="Stage position (1 = the first)")] = 1,
    event_type: Annotated[list[str] | None, typer.Option(help="Event type (repeat)")] = None,
    store: Annotated[list[str] | None, typer.Option(help="Store code (repeat)")] = None,
    city: Annotated[list[str] | None, typer.Option(help="City (repeat)")] = None,
    daily_cap: Annotated[int | None, typer.Option(help="Contacts per member per day")] = None,
    weekly_cap: Annotated[int | None, typer.Option(help="Contacts per member per week")] = None,
    reentry_minutes: Annotated[int, typer.Option(help="Re-entry window")] = 5,
    as_json: Json = False,
) -> None:
    """Add a trigger rule to a campaign stage."""
    with operator_session(ctx, org) as (_container, session, principal):
        body = trigger_schemas.TriggerRuleIn(
            name=name,
            campaign_id=campaigns.campaign_by_ref(session, campaign).id,
            stage_position=stage,
            event_types=event_type or [],
            store_ids=_store_ids(session, store or []),
            cities=city or [],
            channel=channel,
            offer_code=offer,
            daily_cap=daily_cap,
            weekly_cap=weekly_cap,
            reentry_minutes=reentry_minutes,
        )
        row = triggers.rule_read(session, triggers.create_rule(session, principal, body))
        data = row.model_dump(mode="json")
    emit(data, as_json, lambda: typer.echo(f"Added trigger rule {data['name']!r}"))


def _print_settings(data: dict[str, Any]) -> None:
    quiet = f"{data['quiet_start']}–{data['quiet_end']}" if data["quiet_start"] else "none"
    typer.echo(f"Quiet hours: {quiet}")
    typer.echo(f"Global daily cap: {data['global_daily_cap'] or 'none'}")


@command(settings_app, "show")
def show_settings(ctx: typer.Context, org: OrgRef, as_json: Json = False) -> None:
    """The quiet hours and the global daily cap."""
    with operator_session(ctx, org) as (_container, session, _principal):
        data = triggers.settings_of(session).model_dump(mode="json")
    emit(data, as_json, lambda: _print_settings(data))


@command(settings_app, "set")
def set_settings(
    ctx: typer.Context,
    org: OrgRef,
    quiet_start: Annotated[str | None, typer.Option(help="Quiet hours from HH:MM")] = None,
    quiet_end: Annotated[str | None, typer.Option(help="Quiet hours until HH:MM")] = None,
    global_daily_cap: Annotated[int | None, typer.Option(help="Contacts a day in all")] = None,
    as_json: Json = False,
) -> None:
    """Change the options given, keep the others."""
    given = {
        "quiet_start": quiet_start,
        "quiet_end": quiet_end,
        "global_daily_cap": global_daily_cap,
    }
    with operator_session(ctx, org) as (_container, session, principal):
        current = triggers.settings_of(session).model_dump()
        merged = current | {k: v for k, v in given.items() if v is not None}
        body = trigger_schemas.ReachSettingsIn.model_validate(merged)
        data = triggers.set_settings(session, principal, body).model_dump(mode="json")
    emit(data, as_json, lambda: _print_settings(data))


@command(decisions_app, "list")
def list_decisions(
    ctx: typer.Context,
    org: OrgRef,
    campaign: Annotated[str | None, typer.Option(help="Campaign name or id")] = None,
    reason: Annotated[Reason | None, typer.Option(help="Only this reason")] = None,
    limit: Annotated[int, typer.Option(min=1, max=triggers.MAX_DECISIONS)] = 50,
    as_json: Json = False,
) -> None:
    """The latest decisions, newest first, each with its one reason."""
    with operator_session(ctx, org) as (_container, session, _principal):
        campaign_id = None if campaign is None else campaigns.campaign_by_ref(session, campaign).id
        decided = triggers.list_decisions(
            session, campaign_id=campaign_id, reason=reason, limit=limit
        )
    rows = [d.model_dump(mode="json") for d in decided]
    t = translator(DEFAULT_LOCALE)
    shown = [
        (
            format_local_time(d.decided_at, d.time_zone, seconds=True),
            d.campaign_name,
            d.rule_name,
            d.store_name or "",
            str(d.member_id),
            t(f"reach.reason.{d.reason}"),
        )
        for d in decided
    ]
    emit(
        rows,
        as_json,
        lambda: table(
            "Decisions (local time of each store)",
            ["Decided", "Campaign", "Rule", "Store", "Member", "Reason"],
            shown,
        ),
    )
