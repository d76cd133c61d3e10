"""REST API of the operations centre: why GMV moved between two periods."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from newretail.core.i18n import negotiate, translator
from newretail.diagnosis import schemas, service
from newretail.tenancy.dependencies import ContainerDep, CurrentPrincipal, SessionDep

router = APIRouter(prefix="/api/v1/diagnosis", tags=["diagnosis"])

Day = Annotated[date | None, Query(description="A local day, YYYY-MM-DD")]


@router.get("/gmv-change", response_model=schemas.GmvChangeRead)
def gmv_change(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    first_day: Day = None,
    last_day: Day = None,
    base_first_day: Day = None,
    base_last_day: Day = None,
) -> object:
    """Why GMV moved: the period's GMV (default: the last 7 complete local days) against the
    base period (default: as many days just before), each store's change split into
    visitors, conversion and order value, the organisation's the sum of its stores'."""
    found = service.gmv_change(
        session,
        principal,
        container.warehouse,
        first_day,
        last_day,
        base_first_day,
        base_last_day,
    )
    t = translator(negotiate(request.headers.get("accept-language")))
    return schemas.gmv_change_read(found, t)
