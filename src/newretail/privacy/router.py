"""REST API of a member's rights: the export of everything held about a member, and the audit
of such requests."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from newretail.core.i18n import negotiate
from newretail.identity.dependencies import ResolverDep
from newretail.privacy import erasure, export, schemas
from newretail.privacy.errors import ConfirmationRequired
from newretail.privacy.models import ExportFormat, RequestChannel
from newretail.tenancy.dependencies import ContainerDep, CurrentPrincipal, SessionDep

router = APIRouter(prefix="/api/v1", tags=["members"])


@router.get(
    "/members/{member_id}/export",
    response_class=Response,
    responses={
        200: {
            "description": "The export: a JSON document, or a zip of one CSV per section",
            "content": {"application/json": {}, "application/zip": {}},
        }
    },
)
def export_member(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    principal: CurrentPrincipal,
    member_id: uuid.UUID,
    format: Annotated[
        ExportFormat, Query(description="`json` (one document) or `csv` (a zip, one per section)")
    ] = ExportFormat.JSON,
) -> Response:
    """Everything held about a member (owners and admins): profile, identifiers as held,
    consent and its history, points, orders, coupons, campaign decisions, inbox, audiences and
    events. Each request is audited (`X-Request-Record` names the audit row)."""
    made = export.export_member(
        session,
        container.warehouse,
        principal,
        member_id,
        format,
        RequestChannel.API,
        negotiate(request.headers.get("accept-language")),
    )
    return Response(
        made.content,
        media_type=made.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{made.filename}"',
            "X-Request-Record": str(made.request_id),
        },
    )


@router.get("/members/{member_id}/data-requests", response_model=list[schemas.DataRequestRead])
def data_requests(session: SessionDep, principal: CurrentPrincipal, member_id: uuid.UUID) -> object:
    """The audit of requests about the member's data (who, when, what), oldest first."""
    return export.requests_of(session, principal, member_id)


@router.post("/members/{member_id}/erasure", response_model=schemas.ErasureRead)
def erase_member(
    session: SessionDep,
    container: ContainerDep,
    resolver: ResolverDep,
    principal: CurrentPrincipal,
    member_id: uuid.UUID,
    body: schemas.ErasureRequest,
) -> object:
    """Erase a member (owners and admins; irreversible): personal data and identifiers
    removed, warehouse events anonymised to a tombstone that keeps the orders, coupons and
    events countable; audited. Asking again for an erasure whose warehouse step is still
    pending runs that step again; `409 already_erased` once it is done."""
    erasure.require_erasable(session, principal, member_id)
    if not body.confirm:
        raise ConfirmationRequired(field="confirm")
    done = erasure.erase_member(
        session, resolver, container.warehouse, principal, member_id, RequestChannel.API
    )
    session.commit()  # the warehouse step follows the commit; report its state
    return schemas.ErasureRead(
        request_id=done.request_id,
        member_id=done.member_id,
        tombstone_id=done.tombstone_id,
        profiles=list(done.profiles),
        status=erasure.status_of(session, done.request_id),
    )
