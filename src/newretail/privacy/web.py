"""The member page's "Export data" downloads (JSON, or a zip of CSV files) and its "Erase
member" with a confirmation step, audited as the console user."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from newretail.console.forms import FormError, errors_of, render_form
from newretail.console.shell import Form, page_locale, render
from newretail.core.errors import NotFound
from newretail.members import service as members_service
from newretail.privacy import erasure, export
from newretail.privacy.models import ExportFormat, RequestChannel
from newretail.tenancy import auth
from newretail.tenancy.dependencies import Identity, SessionDep, posted_by
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console", include_in_schema=False)


# the file's extension names the format, so the console's links are files (`export.json`,
# `export.zip`: a zip of one CSV per section), as its other downloads are
EXTENSIONS = {"json": ExportFormat.JSON, "zip": ExportFormat.CSV}


@router.get("/members/{member_id}/export.{extension}")
def export_download(
    request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID, extension: str
) -> Response:
    """Download everything held about the member (owners and admins)."""
    chosen = EXTENSIONS.get(extension)
    if chosen is None:  # no such file: export.json or export.zip (CSV files)
        raise NotFound("no such export: choose export.json or export.zip", field="extension")
    made = export.export_member(
        session,
        request.app.state.container.warehouse,
        identity.principal,
        member_id,
        chosen,
        RequestChannel.CONSOLE,
        page_locale(request, identity),
    )
    return Response(
        made.content,
        media_type=made.media_type,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )


def _erase_form(
    request: Request,
    session: Session,
    identity: auth.ConsoleIdentity,
    member_id: uuid.UUID,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    return render_form(
        request,
        "privacy/erase_form.html",
        identity,
        values,
        errors,
        section="members",
        member=members_service.get_member(session, identity.principal, member_id),
    )


@router.get("/members/{member_id}/erase")
def erase_page(
    request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID
) -> Response:
    """The erasure's confirmation step: what goes, what stays, irreversible."""
    identity.principal.require(Permission.EXPORT_MEMBER_DATA)
    return _erase_form(request, session, identity, member_id, {})


@router.post("/members/{member_id}/erase")
def erase_submit(
    request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID, form: Form
) -> Response:
    """Erase the member once the box is ticked (as POST /api/v1/members/{id}/erasure)."""
    principal = posted_by(identity, form, Permission.EXPORT_MEMBER_DATA)
    members_service.get_member(session, principal, member_id)  # 404 first
    if form.get("confirm") != "on":
        errors = errors_of(
            FormError.keyed("confirm", "privacy.erase_confirm_required"),
            page_locale(request, identity),
        )
        return _erase_form(request, session, identity, member_id, form, errors)
    container = request.app.state.container
    done = erasure.erase_member(
        session,
        container.identity,
        container.warehouse,
        principal,
        member_id,
        RequestChannel.CONSOLE,
    )
    session.commit()  # the warehouse step follows the commit; the page says its state
    return render(
        request,
        "privacy/erased.html",
        identity,
        section="members",
        erased=done,
        status=erasure.status_of(session, done.request_id),
    )
