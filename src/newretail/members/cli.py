"""Operator commands for members: CSV import, showing one member, correcting a profile."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from newretail.core import localtime
from newretail.core.cli import Json, OrgRef, command, emit, out, table
from newretail.core.csvimport import count_rows, in_batches, open_csv, print_rejected, progress_bar
from newretail.core.database import session_scope
from newretail.members import consent, importer, points, schemas, service
from newretail.members.errors import NoMemberWithIdentifier
from newretail.members.models import IdentifierType
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.operator import operator, operator_session

member_app = typer.Typer(help="Members: import, look up", no_args_is_help=True)


@command(member_app, "import")
def member_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    org: OrgRef,
    batch_size: Annotated[int, typer.Option(min=1, max=10000, help="Rows per commit")] = 500,
    as_json: Json = False,
) -> None:
    """Import members from CSV; valid rows are committed in batches, the rest reported."""
    report = importer.ImportReport()
    with (
        operator(ctx, org, actor="operator (CLI import)") as (container, org_id, principal),
        progress_bar("importing", count_rows(file), quiet=as_json) as advance,
        open_csv(file) as handle,
    ):
        for batch in in_batches(importer.read_rows(handle), batch_size):
            with session_scope(container.sessions, org_id) as session:
                done = importer.import_rows(session, principal, batch)
            report.rows += done.rows
            report.accepted += done.accepted
            report.matched += done.matched
            report.rejected.extend(done.rejected)
            advance(len(batch))
    data = report.as_dict()

    def human() -> None:
        out.print(
            f"Accepted {report.accepted} members ({report.matched} existing ones updated); "
            f"rejected {len(report.rejected)} rows."
        )
        print_rejected(report.rejected)

    emit(data, as_json, human)


@command(member_app, "show")
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
    with operator_session(ctx, org) as (_, session, principal):
        kind = IdentifierType.PHONE if phone else IdentifierType.MEMBER_CARD
        member = service.find_member(session, principal, kind, phone or card or "")
        if member is None:
            raise NoMemberWithIdentifier(field=str(kind))
        tier_names = service.member_tier_names(session, [member])
        data: dict[str, Any] = {
            **points.member_read(session, member).model_dump(mode="json"),
            "tier": tier_names.get(member.tier_id) if member.tier_id else None,
            "points": points.points_balance(session, principal, member.id).model_dump(mode="json"),
            "consent": consent.consent_of(session, principal, member.id).model_dump(mode="json")[
                "consents"
            ],
        }
        zone = tenancy_service.organisation_zone(session, principal.organization_id)
        next_expiry = points.balance(session, member.id).next_expiry_at

    def human() -> None:
        balance = data["points"]
        out.print(f"[bold]{data['name'] or '(no name)'}[/bold]  {data['id']}")
        out.print(f"Phone {data['phone'] or '—'} · city {data['city'] or '—'}")
        out.print(f"Tier {data['tier'] or '—'}")
        out.print(f"Points: {balance['available']} available, {balance['locked']} locked")
        if next_expiry is not None:
            day = localtime.format_local_date(next_expiry, zone)
            out.print(f"Next expiry: {balance['next_expiry_points']} on {day} ({zone})")
        table(
            "Consent",
            ["purpose", "channel", "granted", "source"],
            [[c["purpose"], c["channel"], c["granted"], c["source"]] for c in data["consent"]],
        )

    emit(data, as_json, human)


@command(member_app, "correct")
def member_correct(
    ctx: typer.Context,
    member_id: Annotated[uuid.UUID, typer.Argument(help="Member id")],
    org: OrgRef,
    name: Annotated[str | None, typer.Option(help="Name")] = None,
    phone: Annotated[str | None, typer.Option(help="Any format; +86 by default")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail")] = None,
    city: Annotated[str | None, typer.Option(help="City")] = None,
    gender: Annotated[str | None, typer.Option(help="female, male or other")] = None,
    birth_year: Annotated[int | None, typer.Option(help="Year of birth")] = None,
    card: Annotated[str | None, typer.Option(help="Member card number")] = None,
    as_json: Json = False,
) -> None:
    """Correct a member's profile (as PATCH /api/v1/members/{id}); audited as a correction."""
    given = {
        "name": name,
        "phone": phone,
        "email": email,
        "city": city,
        "gender": gender,
        "birth_year": birth_year,
        "member_card": card,
    }
    changes = {key: value for key, value in given.items() if value is not None}
    if not changes:
        raise typer.BadParameter("give at least one field to correct (--name, --phone, …)")
    with operator_session(ctx, org) as (_, session, principal):
        update = schemas.MemberUpdate.model_validate(changes)
        member = service.update_member(session, principal, member_id, update)
        data: dict[str, Any] = {
            **points.member_read(session, member).model_dump(mode="json"),
            "corrected": sorted(changes),
        }
    emit(
        data,
        as_json,
        lambda: out.print(
            f"Corrected {', '.join(data['corrected'])} of member {data['id']}; "
            "the request is recorded."
        ),
    )
