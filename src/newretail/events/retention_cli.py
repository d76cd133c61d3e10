"""`newretail events retention show|set|run`: how long events are kept, and applying it now.

`run` needs the warehouse: while a server holds the embedded DuckDB file, it asks the server.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import ValidationError

from newretail.core import error_text
from newretail.core.cli import Json, OrgRef, command, emit, out, state, table
from newretail.core.database import session_scope
from newretail.core.errors import InvalidInput
from newretail.core.local_server import request_json, running_server, server_client
from newretail.events import retention, schemas
from newretail.tenancy.operator import operator, operator_session

retention_app = typer.Typer(
    help="How long events and failed events are kept; apply it now", no_args_is_help=True
)


def _print_settings(data: dict[str, Any], as_json: bool) -> None:
    def human() -> None:
        default = data["default_days"]
        out.print(f"default: {'kept' if default is None else f'{default} days'}")
        for name, days in data["type_days"].items():
            out.print(f"  {name}: {days} days")
        set_here = "" if data["failed_days"] is not None else " (the server's default)"
        out.print(f"failed events: {data['failed_days_applied']} days{set_here}")
        if data["runs"]:
            _runs_table(data["runs"])

    emit(data, as_json, human)


def _runs_table(runs: list[dict[str, Any]]) -> None:
    table(
        "Retention runs (UTC)",
        ["started", "trigger", "by", "events deleted", "failed deleted"],
        [
            [
                str(r["started_at"])[:19],
                r["trigger"],
                r["actor"],
                ", ".join(f"{k} {v}" for k, v in r["events_deleted"].items()) or "0",
                r["failed_deleted"],
            ]
            for r in runs
        ],
    )


@command(retention_app, "show", with_store_options=False)
def show(ctx: typer.Context, org: OrgRef, as_json: Json = False) -> None:
    """The retention settings and the latest runs."""
    days = state(ctx).settings().failed_event_retention_days
    with operator_session(ctx, org) as (_, session, principal):
        found = retention.read_retention(session, principal, days)
    _print_settings(found.model_dump(mode="json"), as_json)


def _type_days(values: list[str]) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for value in values:
        name, _, days = value.partition("=")
        if not days.strip().isdigit():
            raise InvalidInput(f"{value!r} is not TYPE=DAYS (DAYS 0 removes it)", field="type")
        found[name.strip()] = int(days) or None
    return found


@command(retention_app, "set", with_store_options=False)
def set_retention(
    ctx: typer.Context,
    org: OrgRef,
    default_days: Annotated[
        int | None, typer.Option(help="Days for every type not overridden (0: keep events)")
    ] = None,
    type_days: Annotated[
        list[str] | None,
        typer.Option("--type", help="TYPE=DAYS, repeatable (DAYS 0 removes the override)"),
    ] = None,
    failed_days: Annotated[
        int | None, typer.Option(help="Days for failed events (0: the server's default)")
    ] = None,
    as_json: Json = False,
) -> None:
    """Change the retention settings (what is not named stays as it is)."""
    days = state(ctx).settings().failed_event_retention_days
    with operator_session(ctx, org, actor="events retention (CLI)") as (_, session, principal):
        current = retention.read_retention(session, principal, days)
        types: dict[str, int] = dict(current.type_days)
        for name, value in _type_days(type_days or []).items():
            types.pop(name, None)
            if value is not None:
                types[name] = value
        values = {
            "default_days": current.default_days if default_days is None else default_days or None,
            "type_days": types,
            "failed_days": current.failed_days if failed_days is None else failed_days or None,
        }
        try:
            data = schemas.RetentionUpdate.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InvalidInput(
                error_text.reason(first, "en"), field=error_text.field_path(first["loc"])
            ) from exc
        retention.update_retention(session, principal, data)
        found = retention.read_retention(session, principal, days)
    _print_settings(found.model_dump(mode="json"), as_json)


@command(retention_app, "run", with_store_options=False)
def run(ctx: typer.Context, org: OrgRef, as_json: Json = False) -> None:
    """Apply the retention now; through the running server when one holds the warehouse."""
    settings = state(ctx).settings()
    if running_server(settings) is not None:
        with server_client(settings, org) as client:
            answer = request_json(client, "POST", "/api/v1/events/retention/runs")
        data = schemas.RetentionRunRead.model_validate(answer).model_dump(mode="json")
    else:
        with (
            operator(ctx, org, actor="events retention (CLI)") as (container, org_id, owner),
            session_scope(container.sessions, org_id) as session,
        ):
            found = retention.run_retention(
                session, owner, container.warehouse, container.settings.failed_event_retention_days
            )
            data = schemas.RetentionRunRead.model_validate(found).model_dump(mode="json")
    emit(data, as_json, lambda: _runs_table([data]))
