"""The member page's "Export data" downloads (JSON, or a zip of CSV files), audited as the
console user."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from newretail.console.shell import page_locale
from newretail.core.errors import NotFound
from newretail.privacy import export
from newretail.privacy.models import ExportFormat, RequestChannel
from newretail.tenancy.dependencies import Identity, SessionDep

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
