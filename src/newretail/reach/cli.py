"""Operator commands for reach's webhooks: `newretail reach endpoints list|add|enable|disable|
rotate`, `newretail reach deliveries list|resend|cancel` and `newretail reach inbox MEMBER`
(`--json` for scripts); the trigger rules, settings and decisions are `reach.trigger_cli`'s,
mounted here. A secret is printed once, when the endpoint is added or rotated.

They work beside a running server: the queue is in the operational store, and the server's
sender picks up what they change at its next run."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from newretail.core.cli import Json, OrgRef, command, emit, err, out, table
from newretail.core.i18n import DEFAULT_LOCALE, translator
from newretail.core.pagination import MAX_LIMIT
from newretail.reach import deliveries, endpoints, inbox, lift_cli, reads, schemas, trigger_cli
from newretail.reach.models import DeliveryState, EndpointPurpose, WebhookDelivery
from newretail.reach.secret_box import SecretBox
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.operator import operator_session
from newretail.tenancy.permissions import Principal

reach_app = typer.Typer(
    help="O2O reach: trigger rules, decisions, webhook endpoints and deliveries",
    no_args_is_help=True,
)
endpoints_app = typer.Typer(help="Webhook endpoints (receivers)", no_args_is_help=True)
deliveries_app = typer.Typer(help="Webhook deliveries (the outbound queue)", no_args_is_help=True)
reach_app.add_typer(endpoints_app, name="endpoints")
reach_app.add_typer(deliveries_app, name="deliveries")
reach_app.add_typer(trigger_cli.rules_app, name="rules")
reach_app.add_typer(trigger_cli.settings_app, name="settings")
reach_app.add_typer(trigger_cli.decisions_app, name="decisions")
reach_app.command("lift")(lift_cli.lift)

EndpointRef = Annotated[str, typer.Argument(help="Endpoint name or id")]


def _store_id(session: Session, ref: str | None) -> uuid.UUID | None:
    if not ref:
        return None
    try:
        return uuid.UUID(ref)
    except ValueError:
        return tenancy_service.store_by_code(session, ref).id


def _print_endpoints(rows: list[dict[str, Any]]) -> None:
    t = translator(DEFAULT_LOCALE)
    table(
        "Webhook endpoints",
        ["name", "purpose", "store", "url", "enabled", "secrets"],
        [
            (
                r["name"],
                t(f"reach.purpose.{r['purpose']}"),
                r["store_name"] or "(every store)",
                r["url"],
                "yes" if r["enabled"] else f"no ({r['disabled_reason']})",
                " ".join(s["prefix"] + "…" for s in r["secrets"]),
            )
            for r in rows
        ],
    )


def _print_secret(row: dict[str, Any]) -> None:
    out.print(f"{row['endpoint']['name']}: {row['endpoint']['url']}")
    out.print(f"signing secret: [bold]{row['secret']}[/bold]")
    err.print("the secret is shown this once: store it in the receiver now")


@command(endpoints_app, "list")
def list_endpoints(ctx: typer.Context, org: OrgRef, as_json: Json = False) -> None:
    """Every endpoint by name, its secrets by prefix."""
    with operator_session(ctx, org) as (_container, session, _principal):
        rows = [
            r.model_dump(mode="json")
            for r in reads.endpoint_reads(session, endpoints.list_endpoints(session))
        ]
    emit(rows, as_json, lambda: _print_endpoints(rows))


@command(endpoints_app, "add")
def add_endpoint(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name people recognise")],
    url: Annotated[str, typer.Argument(help="https:// URL of the receiver")],
    org: OrgRef,
    purpose: Annotated[EndpointPurpose, typer.Option(help="What it receives")],
    store: Annotated[
        str | None, typer.Option(help="Only this store's deliveries (code or id)")
    ] = None,
    as_json: Json = False,
) -> None:
    """Register a receiver and print its signing secret (this once)."""
    with operator_session(ctx, org) as (container, session, principal):
        data = schemas.EndpointCreate(
            name=name, url=url, purpose=purpose, store_id=_store_id(session, store)
        )
        box = SecretBox.from_settings(container.settings)
        endpoint, secret = endpoints.create_endpoint(session, principal, box, data)
        row = reads.with_secret(session, endpoint, secret).model_dump(mode="json")
    emit(row, as_json, lambda: _print_secret(row))


def _set_enabled(ctx: typer.Context, ref: str, org: str, enabled: bool, as_json: bool) -> None:
    with operator_session(ctx, org) as (_container, session, principal):
        endpoint = endpoints.endpoint_by_ref(session, ref)
        changed = endpoints.set_enabled(session, principal, endpoint.id, enabled)
        row = reads.endpoint_read(session, changed).model_dump(mode="json")
    state = "enabled" if row["enabled"] else "disabled"
    emit(row, as_json, lambda: out.print(f"{row['name']}: {state}"))


@command(endpoints_app, "enable")
def enable_endpoint(
    ctx: typer.Context, endpoint: EndpointRef, org: OrgRef, as_json: Json = False
) -> None:
    """Send to the endpoint again; what it held goes out at the server's next run."""
    _set_enabled(ctx, endpoint, org, True, as_json)


@command(endpoints_app, "disable")
def disable_endpoint(
    ctx: typer.Context, endpoint: EndpointRef, org: OrgRef, as_json: Json = False
) -> None:
    """Stop sending to the endpoint; its deliveries wait until it is enabled."""
    _set_enabled(ctx, endpoint, org, False, as_json)


@command(endpoints_app, "rotate")
def rotate_secret(
    ctx: typer.Context,
    endpoint: EndpointRef,
    org: OrgRef,
    keep_old_hours: Annotated[
        int, typer.Option(min=0, max=168, help="Hours the old secret keeps signing")
    ] = 24,
    as_json: Json = False,
) -> None:
    """A new signing secret, printed this once; the old one signs beside it for a while."""
    with operator_session(ctx, org) as (container, session, principal):
        box = SecretBox.from_settings(container.settings)
        found = endpoints.endpoint_by_ref(session, endpoint)
        rotated, secret = endpoints.rotate_secret(session, principal, box, found.id, keep_old_hours)
        row = reads.with_secret(session, rotated, secret).model_dump(mode="json")
    emit(row, as_json, lambda: _print_secret(row))


@command(deliveries_app, "list")
def list_deliveries(
    ctx: typer.Context,
    org: OrgRef,
    endpoint: Annotated[str | None, typer.Option(help="Endpoint name or id")] = None,
    state: Annotated[DeliveryState | None, typer.Option(help="Only this state")] = None,
    as_json: Json = False,
) -> None:
    """The newest 200 deliveries (times in UTC), of one endpoint or state if asked."""
    with operator_session(ctx, org) as (_container, session, _principal):
        endpoint_id = endpoints.endpoint_by_ref(session, endpoint).id if endpoint else None
        found = deliveries.list_deliveries(session, endpoint_id=endpoint_id, state=state)
        rows = [reads.delivery_read(d).model_dump(mode="json") for d in found]
    t = translator(DEFAULT_LOCALE)
    columns = ["webhook-id", "endpoint", "event", "state", "attempts", "last status", "next (UTC)"]
    emit(
        rows,
        as_json,
        lambda: table(
            "Webhook deliveries",
            columns,
            [
                (
                    r["message_id"],
                    r["endpoint_name"],
                    r["event_type"],
                    t(f"reach.delivery_state.{r['state']}"),
                    r["attempts"],
                    r["last_status"] or r["last_error"],
                    r["next_attempt_at"],
                )
                for r in rows
            ],
        ),
    )


def _change_delivery(
    ctx: typer.Context,
    reference: str,
    org: str,
    as_json: bool,
    change: Callable[[Session, Principal, uuid.UUID], WebhookDelivery],
) -> None:
    """Find the delivery by id or webhook-id, change it, and print what it is now."""
    with operator_session(ctx, org) as (_container, session, principal):
        found = deliveries.delivery_by_ref(session, reference)
        row = reads.delivery_read(change(session, principal, found.id)).model_dump(mode="json")
    emit(row, as_json, lambda: out.print(f"{row['message_id']}: {row['state']}"))


@command(deliveries_app, "resend")
def resend_delivery(
    ctx: typer.Context,
    delivery: Annotated[str, typer.Argument(help="Delivery id or its webhook-id (msg_…)")],
    org: OrgRef,
    as_json: Json = False,
) -> None:
    """Send a failed (dead) or cancelled delivery again, with the same webhook-id."""
    _change_delivery(ctx, delivery, org, as_json, deliveries.resend)


@command(deliveries_app, "cancel")
def cancel_delivery(
    ctx: typer.Context,
    delivery: Annotated[str, typer.Argument(help="Delivery id or its webhook-id (msg_…)")],
    org: OrgRef,
    as_json: Json = False,
) -> None:
    """Withdraw a pending delivery; it is not sent unless resent."""
    _change_delivery(ctx, delivery, org, as_json, deliveries.cancel)


@command(reach_app, "inbox")
def member_inbox(
    ctx: typer.Context,
    member: Annotated[uuid.UUID, typer.Argument(help="Member id")],
    org: OrgRef,
    lang: Annotated[str, typer.Option("--lang", help="Language of the texts: en or zh-CN")] = "en",
    as_json: Json = False,
) -> None:
    """A member's inbox, oldest first: the offers kept for them, with their texts."""
    rows: list[dict[str, Any]] = []
    with operator_session(ctx, org) as (_container, session, principal):
        cursor: str | None = None
        while True:
            found, cursor = inbox.list_messages(session, principal, member, MAX_LIMIT, cursor)
            rows += [m.model_dump(mode="json") for m in inbox.message_reads(session, found, lang)]
            if cursor is None:
                break
    t = translator(lang)
    emit(
        rows,
        as_json,
        lambda: table(
            "Inbox",
            ["sent (UTC)", "channel", "title", "store", "read (UTC)"],
            [
                (
                    r["sent_at"],
                    t(f"reach.channel.{r['channel']}"),
                    r["title"],
                    r["store"] or "",
                    r["read_at"] or "",
                )
                for r in rows
            ],
        ),
    )
