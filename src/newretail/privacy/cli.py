"""`newretail member export`: everything held about a member, to a file (JSON, or a zip of
one CSV per section), audited as the operator.

The export reads the warehouse (the member's events, their audiences). With the embedded DuckDB
warehouse a running server holds the file, so the command then asks that server's API for the
export (the audit row then says `operator (CLI)`, through the `api` door).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from newretail.core.cli import Json, OrgRef, emit, out, state
from newretail.core.errors import InvalidInput
from newretail.core.i18n import DEFAULT_LOCALE
from newretail.core.local_server import request, running_server, server_client
from newretail.members import service as members_service
from newretail.members.errors import NoMemberWithIdentifier
from newretail.members.models import IdentifierType
from newretail.privacy import erasure, export
from newretail.privacy.errors import ConfirmationRequired
from newretail.privacy.models import ExportFormat, RequestChannel
from newretail.tenancy.operator import operator_session
from newretail.tenancy.permissions import Principal


def _member_id(session: Session, principal: Principal, ref: str) -> uuid.UUID:
    """A member by id, else by phone (any format), else by member card."""
    try:
        return members_service.get_member(session, principal, uuid.UUID(ref)).id
    except ValueError:
        pass
    for kind in (IdentifierType.PHONE, IdentifierType.MEMBER_CARD):
        try:
            found = members_service.find_member(session, principal, kind, ref)
        except InvalidInput:  # not a phone: try the card
            continue
        if found is not None:
            return found.id
    raise NoMemberWithIdentifier(field="member")


# `newretail.cli` registers it as `newretail member export`
def member_export(
    ctx: typer.Context,
    member: Annotated[str, typer.Argument(help="Member id, phone or member card")],
    org: OrgRef,
    out_file: Annotated[
        Path, typer.Option("--out", dir_okay=False, writable=True, help="File to write")
    ],
    file_format: Annotated[
        ExportFormat, typer.Option("--format", help="json, or csv: a zip of one CSV per section")
    ] = ExportFormat.JSON,
    as_json: Json = False,
) -> None:
    """Export everything held about a member (right of access and copy); audited."""
    settings = state(ctx).settings()
    with operator_session(ctx, org) as (container, session, principal):
        member_id = _member_id(session, principal, member)
        if running_server(settings) is None:
            made = export.export_member(
                session,
                container.warehouse,
                principal,
                member_id,
                file_format,
                RequestChannel.CLI,
                DEFAULT_LOCALE,
            )
            content, record = made.content, str(made.request_id)
    if running_server(settings) is not None:  # it holds the embedded warehouse
        with server_client(settings, org) as client:
            response = request(
                client,
                "GET",
                f"/api/v1/members/{member_id}/export",
                params={"format": str(file_format)},
                headers={"accept-language": DEFAULT_LOCALE},
            )
        content, record = response.content, response.headers.get("X-Request-Record", "")
    out_file.write_bytes(content)
    data: dict[str, Any] = {
        "member_id": str(member_id),
        "format": str(file_format),
        "file": str(out_file),
        "bytes": len(content),
        "request_record": record,
    }
    emit(
        data,
        as_json,
        lambda: out.print(
            f"Wrote {len(content):,} bytes ({file_format}) for member {member_id} to {out_file}; "
            f"the request is recorded ({record})."
        ),
    )


# `newretail.cli` registers it as `newretail member erase`
def member_erase(
    ctx: typer.Context,
    member: Annotated[str, typer.Argument(help="Member id, phone or member card")],
    org: OrgRef,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: erasure is irreversible")] = False,
    as_json: Json = False,
) -> None:
    """Erase a member (irreversible): personal data and identifiers removed, events and
    orders kept under an anonymous tombstone; audited. Run it again on an erasure whose
    warehouse step is pending to finish it."""
    if not yes:
        raise ConfirmationRequired("erasure is irreversible: add --yes to confirm", field="yes")
    settings = state(ctx).settings()
    serving = running_server(settings) is not None
    if not serving:
        with operator_session(ctx, org) as (container, session, principal):
            member_id = _erased_or_member_id(session, principal, member)
            done = erasure.erase_member(
                session,
                container.identity,
                container.warehouse,
                principal,
                member_id,
                RequestChannel.CLI,
            )
            request_id = done.request_id
        with operator_session(ctx, org) as (container, session, principal):
            data: dict[str, Any] = {
                "request_id": str(request_id),
                "member_id": str(done.member_id),
                "tombstone_id": str(done.tombstone_id),
                "profiles": [str(p) for p in done.profiles],
                "status": erasure.status_of(session, request_id),
            }
    else:  # it holds the embedded warehouse
        with operator_session(ctx, org) as (container, session, principal):
            member_id = _erased_or_member_id(session, principal, member)
        with server_client(settings, org) as client:
            response = request(
                client, "POST", f"/api/v1/members/{member_id}/erasure", json={"confirm": True}
            )
        data = response.json()
    emit(
        data,
        as_json,
        lambda: out.print(
            f"Erased member {data['member_id']}: its orders, coupons and events belong to the "
            f"anonymous tombstone {data['tombstone_id']} now; warehouse step {data['status']}; "
            f"the request is recorded ({data['request_id']})."
        ),
    )


def _erased_or_member_id(session: Session, principal: Principal, ref: str) -> uuid.UUID:
    """An id (also of a member erased already), else a phone or a member card."""
    try:
        return uuid.UUID(ref)
    except ValueError:
        return _member_id(session, principal, ref)
