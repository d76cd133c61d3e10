"""Operator commands for members: CSV import and showing one member."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from newretail.core.cli import domain_errors, emit, err, out, store_options, table
from newretail.core.database import scope_session, session_scope
from newretail.core.errors import NotFound
from newretail.members import importer, points, schemas, service
from newretail.members.models import IdentifierType
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.cli import ready_container
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind

member_app = typer.Typer(help="Members: import, look up", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]
OrgRef = Annotated[str, typer.Option("--org", help="Organisation slug or id")]


@member_app.command("import")
@domain_errors
@store_options
def member_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    org: OrgRef,
    batch_size: Annotated[int, typer.Option(min=1, max=10000, help="Rows per commit")] = 500,
    as_json: Json = False,
) -> None:
    """Import members from CSV; valid rows are committed in batches, the rest reported."""
    container = ready_container(ctx)
    report = importer.ImportReport()
    try:
        with session_scope(container.sessions) as session:
            organization = tenancy_service.find_organization(scope_session(session, None), org)
            organization_id = organization.id
        principal = Principal.for_role(
            PrincipalKind.USER, organization_id, Role.OWNER, actor="operator (CLI import)"
        )
        total = importer.count_rows(file)
        progress = Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=as_json,
        )
        with progress, file.open(encoding="utf-8-sig", newline="") as handle:
            task = progress.add_task("import", total=total)
            batch: list[tuple[int, dict[str, str]]] = []
            rows = importer.read_rows(handle)
            while True:
                row = next(rows, None)
                if row is not None:
                    batch.append(row)
                if batch and (row is None or len(batch) >= batch_size):
                    with session_scope(container.sessions, organization_id) as session:
                        done = importer.import_rows(session, principal, batch)
                    report.accepted += done.accepted
                    report.matched += done.matched
                    report.rejected.extend(done.rejected)
                    progress.advance(task, len(batch))
                    batch = []
                if row is None:
                    break
    finally:
        container.close()
    data = report.as_dict()

    def human() -> None:
        out.print(
            f"Accepted {report.accepted} members ({report.matched} existing ones updated); "
            f"rejected {len(report.rejected)} rows."
        )
        if report.rejected:
            table(
                "Rejected rows",
                ["row", "field", "reason"],
                [[r.row, r.field, r.reason] for r in report.rejected],
            )

    emit(data, as_json, human)


@member_app.command("show")
@domain_errors
@store_options
def member_show(
    ctx: typer.Context,
    org: OrgRef,
    phone: Annotated[str | None, typer.Option(help="Any format; +86 by default")] = None,
    card: Annotated[str | None, typer.Option(help="Member card number")] = None,
    as_json: Json = False,
) -> None:
    """Show one member found by phone or card: profile, tier, points and consent."""
    if (phone is None) == (card is None):
        raise typer.BadParameter("give --phone or --card")
    container = ready_container(ctx)
    try:
        with session_scope(container.sessions) as session:
            organization = tenancy_service.find_organization(scope_session(session, None), org)
            scope_session(session, organization.id)
            principal = Principal.for_role(
                PrincipalKind.USER, organization.id, Role.OWNER, actor="operator (CLI)"
            )
            kind = IdentifierType.PHONE if phone else IdentifierType.MEMBER_CARD
            member = service.find_member(session, principal, kind, phone or card or "")
            if member is None:
                raise NotFound("no member with this identifier", field=str(kind))
            tier_names = service.member_tier_names(session, [member])
            data: dict[str, Any] = {
                **schemas.MemberRead.model_validate(member).model_dump(mode="json"),
                "tier": tier_names.get(member.tier_id) if member.tier_id else None,
                "points": points.points_balance(session, principal, member.id).model_dump(
                    mode="json"
                ),
                "consent": service.consent_of(session, principal, member.id).model_dump(
                    mode="json"
                )["consents"],
            }
    finally:
        container.close()

    def human() -> None:
        balance = data["points"]
        out.print(f"[bold]{data['name'] or '(no name)'}[/bold]  {data['id']}")
        out.print(f"Phone {data['phone'] or '—'} · city {data['city'] or '—'}")
        out.print(f"Tier {data['tier'] or '—'}")
        out.print(f"Points: {balance['available']} available, {balance['locked']} locked")
        table(
            "Consent",
            ["purpose", "channel", "granted", "source"],
            [[c["purpose"], c["channel"], c["granted"], c["source"]] for c in data["consent"]],
        )

    emit(data, as_json, human)
