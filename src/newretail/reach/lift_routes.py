"""REST API of the lift report: a campaign (stage) measured against its holdout, and a
member's recorded treated/holdout decisions (what the traffic simulator asks to know whether
its shopper was reached; read from the decisions, never from the hash)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from newretail.core.i18n import negotiate, translator
from newretail.reach import lift_reads, measurement
from newretail.tenancy.dependencies import ContainerDep, CurrentPrincipal, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/api/v1/reach", tags=["reach"])


@router.get("/campaigns/{campaign_id}/lift", response_model=lift_reads.LiftReportRead)
def campaign_lift(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    campaign_id: uuid.UUID,
    stage: Annotated[int | None, Query(ge=1, description="Stage position; all when absent")] = None,
    window_days: Annotated[
        int, Query(ge=1, le=measurement.MAX_WINDOW_DAYS, description="Attribution window")
    ] = measurement.DEFAULT_WINDOW_DAYS,
) -> object:
    """The campaign's (stage's) lift: arms, conversion difference and relative lift with 95 %
    intervals, incremental purchasers and GMV, cost per incremental purchaser, the
    sample-ratio check, the minimum detectable effect, where they bought, what to do next."""
    measured = measurement.measure(
        session, principal, container.warehouse, campaign_id, stage, window_days
    )
    t = translator(negotiate(request.headers.get("accept-language")))
    return lift_reads.report_read(session, principal, measured, t)


@router.get("/members/{member_id}/exposures", response_model=list[lift_reads.ExposureRead])
def member_exposures(
    session: SessionDep,
    principal: CurrentPrincipal,
    member_id: uuid.UUID,
    campaign_id: uuid.UUID | None = None,
) -> object:
    """The member's treated and holdout decisions, oldest first (of one campaign if asked)."""
    principal.require(Permission.READ)
    return lift_reads.member_exposures(session, member_id, campaign_id)
