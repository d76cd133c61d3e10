"""REST API of bulk issues to audiences: start one (a background job of the server) and read
its progress (included by `marketing.router` under its prefix)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from newretail.marketing import audience_issues, schemas
from newretail.marketing.audience_issues import AudienceMembersDep
from newretail.tenancy.dependencies import ContainerDep, CurrentPrincipal, SessionDep

router = APIRouter()


@router.post(
    "/campaigns/{campaign_id}/stages/{stage_id}/bulk-issues",
    response_model=schemas.BulkIssueRead,
    status_code=202,
)
def start_bulk_issue(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    members_of: AudienceMembersDep,
    campaign_id: uuid.UUID,
    stage_id: uuid.UUID,
    body: schemas.AudienceIssueRequest,
) -> object:
    """Issue the stage's offer to every stored member of the audience (default: the stage's
    audiences) in the background, batch by batch; read the progress at `/bulk-issues/{id}`."""
    job = audience_issues.start(
        session, principal, container, members_of, campaign_id, stage_id, body
    )
    return job.as_dict()


@router.get("/bulk-issues/{job_id}", response_model=schemas.BulkIssueRead)
def read_bulk_issue(principal: CurrentPrincipal, container: ContainerDep, job_id: str) -> object:
    """A bulk issue's progress: members done of the total, issued, held, refused by code."""
    return audience_issues.runner(container.warehouse).find(principal, job_id).as_dict()
