"""`newretail audience …`: build, estimate, refresh, read and export audiences.

With the embedded DuckDB warehouse, a running server holds the file (it admits one process):
estimate, refresh, insight and export then go through that server's API (`remote`), and
sync-members says that the server syncs by itself. Every count printed obeys the
organisation's minimum crowd size, as in the API.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.audiences import (
    crowd_settings,
    exports,
    from_templates,
    refreshing,
    remote,
    schemas,
    service,
)
from newretail.audiences import insight as audience_insight
from newretail.audiences import rules as r
from newretail.audiences.models import Audience
from newretail.audiences.sentences import Sentences, names_for
from newretail.core.cli import Json, OrgRef, command, emit, out, stderr_progress, table
from newretail.core.errors import NotFound
from newretail.core.i18n import translator
from newretail.members.models import IdentifierType
from newretail.tenancy.operator import operator_session

audience_app = typer.Typer(help="Audiences: rule-built member sets", no_args_is_help=True)

AudienceRef = Annotated[str, typer.Argument(help="Audience id or name")]
AsOf = Annotated[str, typer.Option("--as-of", help="Reference date (YYYY-MM-DD); default today")]
Rules = Annotated[
    str, typer.Option("--rules", help="The rule tree as JSON, or @file.json to read a file")
]


def _as_of(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of takes YYYY-MM-DD, not {value!r}") from exc


def _rules(value: str) -> dict[str, Any]:
    """The rule tree of --rules: JSON text, or @FILE of JSON."""
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    return r.rules_object(text)


def _find(session: Session, ref: str) -> uuid.UUID:
    try:
        return uuid.UUID(ref)
    except ValueError:
        found = session.scalars(select(Audience.id).where(Audience.name == ref)).first()
        if found is None:
            raise NotFound("audience not found", field="audience") from None
        return found


def _plain(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


def _size(value: int | None) -> str:
    return "hidden" if value is None else str(value)


def _show_audiences(rows: list[dict[str, Any]]) -> None:
    table(
        "Audiences",
        ["id", "name", "size", "as of", "refreshed", "every (h)"],
        [
            [
                a["id"],
                a["name"],
                "" if a["refreshed_at"] is None else _size(a["size"]),
                a["as_of"],
                a["refreshed_at"],
                a["refresh_hours"],
            ]
            for a in rows
        ],
    )


@command(audience_app, "list")
def list_audiences(ctx: typer.Context, org: OrgRef, as_json: Json = False) -> None:
    """Saved audiences and their latest sizes."""
    with operator_session(ctx, org) as (_, session, principal):
        data = _plain(service.list_audiences(session, principal))
    emit(data, as_json, lambda: _show_audiences(data))


@command(audience_app, "show")
def show(ctx: typer.Context, org: OrgRef, audience: AudienceRef, as_json: Json = False) -> None:
    """One audience with its rules (as sentences, with names; --json: the stored tree)."""
    with operator_session(ctx, org) as (_, session, principal):
        data = _plain(service.get_audience(session, principal, _find(session, audience)))
        node = r.parse_rules(data["rules"])
        said = Sentences(translator("en"), names_for(session, [node])).top_level(node)

    def human() -> None:
        _show_audiences([data])
        for number, sentence in enumerate(said, start=1):
            out.print(f"{number}. {sentence}", highlight=False)

    emit(data, as_json, human)


@command(audience_app, "create")
def create(
    ctx: typer.Context,
    org: OrgRef,
    name: Annotated[str, typer.Option("--name")],
    rules: Rules,
    refresh_hours: Annotated[int | None, typer.Option(min=1, max=2160)] = None,
    as_json: Json = False,
) -> None:
    """Save a rule tree as an audience."""
    body = schemas.AudienceCreate(name=name, rules=_rules(rules), refresh_hours=refresh_hours)
    with operator_session(ctx, org) as (_, session, principal):
        data = _plain(service.create_audience(session, principal, body))
    emit(data, as_json, lambda: out.print(f"Saved {data['name']} ({data['id']})"))


@command(audience_app, "templates")
def templates(ctx: typer.Context, org: OrgRef, as_json: Json = False) -> None:
    """The ready-made audiences."""
    with operator_session(ctx, org) as (_, session, principal):
        data = _plain(from_templates.list_templates(session, principal))
    emit(
        data,
        as_json,
        lambda: table(
            "Templates",
            ["key", "name", "parameters"],
            [[t["key"], t["name"], ", ".join(t["parameters"])] for t in data],
        ),
    )


@command(audience_app, "from-template")
def from_template(
    ctx: typer.Context,
    org: OrgRef,
    key: Annotated[str, typer.Argument(help="Template key (see `templates`)")],
    name: Annotated[str | None, typer.Option("--name")] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="Brand id")] = None,
    start: Annotated[str, typer.Option("--start", help="First day (YYYY-MM-DD)")] = "",
    end: Annotated[str, typer.Option("--end", help="Last day (YYYY-MM-DD)")] = "",
    days: Annotated[int | None, typer.Option("--days", min=1, max=3660)] = None,
    as_json: Json = False,
) -> None:
    """Save an audience from a template."""
    values: dict[str, Any] = {"name": name, "brand_id": brand, "days": days}
    values.update(start=start or None, end=end or None)
    body = schemas.TemplateApply.model_validate({k: v for k, v in values.items() if v})
    with operator_session(ctx, org) as (_, session, principal):
        data = _plain(from_templates.apply_template(session, principal, key, body))
    emit(data, as_json, lambda: out.print(f"Saved {data['name']} ({data['id']})"))


@command(audience_app, "estimate")
def estimate(
    ctx: typer.Context, org: OrgRef, rules: Rules, as_of: AsOf = "", as_json: Json = False
) -> None:
    """Count a rule tree's members now without saving them."""
    body = schemas.EstimateRequest(rules=_rules(rules), as_of=_as_of(as_of))
    if remote.server_running(ctx):
        data = remote.call(ctx, org, "POST", "/estimate", json=body.model_dump(mode="json"))
    else:
        with operator_session(ctx, org) as (container, session, principal):
            data = _plain(service.estimate(session, principal, container.warehouse, body))
    emit(data, as_json, lambda: out.print(f"{_size(data['size'])} members on {data['as_of']}"))


@command(audience_app, "refresh")
def refresh(
    ctx: typer.Context,
    org: OrgRef,
    audiences: Annotated[
        list[str] | None, typer.Argument(help="Audience ids or names; none: every audience")
    ] = None,
    as_of: AsOf = "",
    as_json: Json = False,
) -> None:
    """Store the members of audiences now (a progress bar per audience)."""
    day = _as_of(as_of)
    results: list[dict[str, Any]] = []
    progress = stderr_progress("[bold]refresh[/bold] {task.description}", hidden=as_json)
    if remote.server_running(ctx):
        with progress:
            keys = [remote.audience_id(ctx, org, ref) for ref in audiences or []]
            if not audiences:
                keys = [a["id"] for a in remote.call(ctx, org, "GET", "")]
            task = progress.add_task("", total=len(keys))
            params = {} if day is None else {"as_of": day.isoformat()}
            for key in keys:
                row = remote.call(ctx, org, "POST", f"/{key}/refresh", params=params)
                results.append(row)
                progress.update(task, advance=1, description=row["name"])
        emit(results, as_json, lambda: _show_audiences(results))
        return
    with progress, operator_session(ctx, org) as (container, session, principal):
        if audiences:
            ids = [_find(session, ref) for ref in audiences]
        else:
            ids = list(session.scalars(select(Audience.id).order_by(Audience.name)))
        task = progress.add_task("", total=len(ids))
        for audience_id in ids:
            row = refreshing.refresh_audience(
                session, principal, container.warehouse, audience_id, day
            )
            results.append(_plain(row))
            progress.update(task, advance=1, description=row["name"])
    emit(results, as_json, lambda: _show_audiences(results))


@command(audience_app, "sizes")
def sizes(ctx: typer.Context, org: OrgRef, audience: AudienceRef, as_json: Json = False) -> None:
    """The size at each refresh (below the privacy floor: hidden)."""
    with operator_session(ctx, org) as (_, session, principal):
        data = _plain(refreshing.size_history(session, principal, _find(session, audience)))
    emit(
        data,
        as_json,
        lambda: table(
            "Sizes",
            ["refreshed", "as of", "size", "joined", "left", "trigger"],
            [
                [
                    s["refreshed_at"],
                    s["as_of"],
                    _size(s["size"]),
                    s["joined"],
                    s["left"],
                    s["trigger"],
                ]
                for s in data
            ],
        ),
    )


@command(audience_app, "insight")
def insight(
    ctx: typer.Context,
    org: OrgRef,
    audience: AudienceRef,
    brand: Annotated[
        str | None, typer.Option("--brand", help="Brand of the AIPL stage (id, code or name)")
    ] = None,
    as_json: Json = False,
) -> None:
    """Members by city, gender, age band, tier, preferred channel and AIPL stage."""
    if remote.server_running(ctx):
        key = remote.audience_id(ctx, org, audience)
        params = {} if brand is None else {"brand_id": brand}
        data = remote.call(ctx, org, "GET", f"/{key}/insight", params=params)
    else:
        with operator_session(ctx, org) as (container, session, principal):
            data = _plain(
                audience_insight.insight(
                    session, principal, container.warehouse, _find(session, audience), brand
                )
            )

    def human() -> None:
        if not data["refreshed"]:
            out.print("Not refreshed yet: run `newretail audience refresh` first.")
            return
        if data["suppressed"]:
            out.print(f"Below the minimum crowd size ({data['min_crowd_size']}): no insight.")
            return
        for name, dimension in data["dimensions"].items():
            rows = [[c["value"], c["members"]] for c in dimension["cells"]]
            hidden = dimension["suppressed"]
            if hidden["cells"]:
                label = f"(hidden values: {hidden['cells']})"
                rows.append([label, _size(hidden["members"])])
            table(name, ["value", "members"], rows)

    emit(data, as_json, human)


@command(audience_app, "export")
def export(
    ctx: typer.Context,
    org: OrgRef,
    audience: AudienceRef,
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write")],
    file_format: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    identifier_types: Annotated[
        list[IdentifierType] | None, typer.Option("--type", help="Identifier types (repeat)")
    ] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="Consent needed on this channel")
    ] = None,
    as_json: Json = False,
) -> None:
    """Write the hashed identifiers of the audience's consenting members (audit-logged)."""
    body = schemas.ExportRequest.model_validate(
        {
            "format": file_format,
            "identifier_types": identifier_types,
            "consent_channel": channel,
        }
    )
    if remote.server_running(ctx):
        key = remote.audience_id(ctx, org, audience)
        content, summary = remote.export(ctx, org, key, body.model_dump(mode="json"))
    else:
        with operator_session(ctx, org) as (container, session, principal):
            result = exports.export_audience(
                session, principal, container.warehouse, _find(session, audience), body
            )
        content, summary = result.content, _plain(result.summary)
    output.write_bytes(content)
    data = {**summary, "file": str(output)}
    emit(
        data,
        as_json,
        lambda: out.print(
            f"Wrote {output}: {_size(data['exported_members'])} members exported, "
            f"{_size(data['excluded_members'])} without marketing consent left out"
        ),
    )


@command(audience_app, "sync-members")
def sync_members(ctx: typer.Context, org: OrgRef, as_json: Json = False) -> None:
    """Copy the members' attributes to the warehouse's member dimension now."""
    if remote.server_running(ctx):
        raise remote.member_sync_refused()
    with operator_session(ctx, org) as (container, session, principal):
        data = refreshing.sync_members(session, principal, container.warehouse)
    emit(data, as_json, lambda: out.print(f"member_dim: {_size(data['rows'])} rows"))


@command(audience_app, "settings")
def settings(
    ctx: typer.Context,
    org: OrgRef,
    min_crowd_size: Annotated[
        int | None, typer.Option("--min-crowd-size", min=1, help="Set the privacy floor")
    ] = None,
    as_json: Json = False,
) -> None:
    """Show (or set) the minimum crowd size below which no count is shown."""
    with operator_session(ctx, org) as (_, session, principal):
        if min_crowd_size is None:
            data = crowd_settings.get_settings(session, principal)
        else:
            data = crowd_settings.update_settings(
                session, principal, schemas.SettingsUpdate(min_crowd_size=min_crowd_size)
            )
    emit(data, as_json, lambda: out.print(f"minimum crowd size: {data['min_crowd_size']}"))
