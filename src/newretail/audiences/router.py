"""REST API of audiences: rules, estimate, save, refresh, members, insight, export, settings."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from newretail.audiences import (
    crowd_settings,
    exports,
    from_templates,
    membership,
    refreshing,
    schemas,
    service,
)
from newretail.audiences import insight as audience_insight
from newretail.core.errors import InvalidInput
from newretail.core.http import no_content
from newretail.tenancy.dependencies import (
    BulkLimit,
    ContainerDep,
    CurrentPrincipal,
    Offset,
    SessionDep,
)

router = APIRouter(prefix="/api/v1/audiences", tags=["audiences"])


@router.get("/settings", response_model=schemas.SettingsRead)
def read_settings(session: SessionDep, principal: CurrentPrincipal) -> object:
    """The organisation's minimum crowd size (the privacy floor of every count)."""
    return crowd_settings.get_settings(session, principal)


@router.put("/settings", response_model=schemas.SettingsRead)
def replace_settings(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.SettingsUpdate
) -> object:
    """Change the minimum crowd size."""
    return crowd_settings.update_settings(session, principal, body)


@router.get("/templates", response_model=list[schemas.TemplateRead])
def read_templates(session: SessionDep, principal: CurrentPrincipal) -> object:
    """Ready-made audiences and their rules for today."""
    return from_templates.list_templates(session, principal)


@router.post("/templates/{template_key}", response_model=schemas.AudienceRead, status_code=201)
def create_from_template(
    session: SessionDep,
    principal: CurrentPrincipal,
    template_key: str,
    body: schemas.TemplateApply,
) -> object:
    """Save an audience from a template."""
    return from_templates.apply_template(session, principal, template_key, body)


@router.post("/estimate", response_model=schemas.EstimateRead)
def estimate(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    body: schemas.EstimateRequest,
) -> object:
    """Count a rule tree's members now without storing them (null below the privacy floor)."""
    return service.estimate(session, principal, container.warehouse, body)


@router.get("", response_model=list[schemas.AudienceRead])
def list_audiences(session: SessionDep, principal: CurrentPrincipal) -> object:
    """Every saved audience with its latest size."""
    return service.list_audiences(session, principal)


@router.post("", response_model=schemas.AudienceRead, status_code=201)
def create_audience(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.AudienceCreate
) -> object:
    """Save a rule tree as an audience."""
    return service.create_audience(session, principal, body)


@router.get("/{audience_id}", response_model=schemas.AudienceRead)
def read_audience(
    session: SessionDep, principal: CurrentPrincipal, audience_id: uuid.UUID
) -> object:
    """One audience."""
    return service.get_audience(session, principal, audience_id)


@router.patch("/{audience_id}", response_model=schemas.AudienceRead)
def update_audience(
    session: SessionDep,
    principal: CurrentPrincipal,
    audience_id: uuid.UUID,
    body: schemas.AudienceUpdate,
) -> object:
    """Change an audience's name, description, rules or schedule."""
    return service.update_audience(session, principal, audience_id, body)


@router.delete("/{audience_id}", status_code=204)
def delete_audience(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    audience_id: uuid.UUID,
) -> Response:
    """Delete an audience and its stored members."""
    service.delete_audience(session, principal, container.warehouse, audience_id)
    return no_content()


@router.post("/{audience_id}/refresh", response_model=schemas.AudienceRead)
def refresh_audience(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    audience_id: uuid.UUID,
    as_of: Annotated[dt.date | None, Query(description="Reference date (default today)")] = None,
) -> object:
    """Store the audience's members now (a new version) and record its size."""
    return refreshing.refresh_audience(session, principal, container.warehouse, audience_id, as_of)


@router.get("/{audience_id}/sizes", response_model=list[schemas.SizeRead])
def read_sizes(session: SessionDep, principal: CurrentPrincipal, audience_id: uuid.UUID) -> object:
    """The size at each refresh, oldest first."""
    return refreshing.size_history(session, principal, audience_id)


@router.get("/{audience_id}/members", response_model=schemas.MembersPage)
def read_members(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    audience_id: uuid.UUID,
    limit: BulkLimit = 1000,
    offset: Offset = 0,
) -> object:
    """A page of the stored members and since when each is in (refused below the floor)."""
    return membership.members_page(
        session, principal, container.warehouse, audience_id, limit, offset
    )


@router.get("/{audience_id}/members/{member_id}", response_model=schemas.MembershipRead)
def read_membership(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    audience_id: uuid.UUID,
    member_id: str,
) -> object:
    """Whether one member is in the audience (the realtime membership index)."""
    if len(member_id) > 64:
        raise InvalidInput("a member id has at most 64 characters", field="member_id")
    member = membership.is_member(session, principal, container.warehouse, audience_id, member_id)
    return {"audience_id": audience_id, "member_id": member_id, "member": member}


@router.get("/{audience_id}/insight", response_model=schemas.InsightRead)
def read_insight(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    audience_id: uuid.UUID,
    brand_id: Annotated[
        str | None, Query(max_length=200, description="Brand of the AIPL stage (id, code or name)")
    ] = None,
) -> object:
    """Members by city, gender, age band, tier, preferred channel and AIPL stage."""
    return audience_insight.insight(session, principal, container.warehouse, audience_id, brand_id)


@router.post(
    "/{audience_id}/exports",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
def export_audience(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    audience_id: uuid.UUID,
    body: schemas.ExportRequest,
) -> Response:
    """Download the hashed identifiers of the consenting members (CSV or Parquet).

    Headers carry the counts (X-Members, X-Exported-Members, X-Excluded-Members; `suppressed`
    below the privacy floor) and X-Export-Id, the audit record.
    """
    result = exports.export_audience(session, principal, container.warehouse, audience_id, body)
    summary = result.summary

    def header(value: Any) -> str:
        return "suppressed" if value is None else str(value)

    return Response(
        result.content,
        media_type=result.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{result.filename}"',
            "X-Export-Id": str(summary["id"]),
            "X-Members": header(summary["members"]),
            "X-Exported-Members": header(summary["exported_members"]),
            "X-Excluded-Members": header(summary["excluded_members"]),
        },
    )


@router.get("/{audience_id}/exports", response_model=list[schemas.ExportRead])
def read_exports(
    session: SessionDep, principal: CurrentPrincipal, audience_id: uuid.UUID
) -> object:
    """The export audit log of an audience, newest first."""
    return exports.list_exports(session, principal, audience_id)
