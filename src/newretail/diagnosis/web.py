"""Console page of the operations centre: why GMV moved between two periods — the
organisation's change and its three parts, then its stores ranked by the size of their change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from newretail.console.params import optional_day
from newretail.console.shell import page_locale, render
from newretail.core.i18n import translator
from newretail.diagnosis import schemas, service
from newretail.diagnosis.errors import InvalidDiagnosisPeriod
from newretail.tenancy.dependencies import ContainerDep, Identity, SessionDep

router = APIRouter(prefix="/console", include_in_schema=False)
NOT_A_DAY = "give a date as YYYY-MM-DD"


@dataclass
class PeriodQuery:
    """The days the page shows, as its form sends them (blank: the defaults)."""

    first_day: str = ""
    last_day: str = ""
    base_first_day: str = ""
    base_last_day: str = ""


@router.get("/diagnosis")
def diagnosis_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    query: Annotated[PeriodQuery, Depends()],
) -> Response:
    """Why GMV moved: the period (default: the last 7 complete local days) against the base
    period (default: the 7 days before), split into visitors, conversion and order value."""
    days = [
        optional_day(value, name, NOT_A_DAY, InvalidDiagnosisPeriod)
        for name, value in vars(query).items()
    ]
    found = service.gmv_change(session, identity.principal, container.warehouse, *days)
    t = translator(page_locale(request, identity))
    return render(
        request,
        "diagnosis/gmv_change.html",
        identity,
        section="diagnosis",
        report=schemas.gmv_change_read(found, t),
        max_days=service.MAX_PERIOD_DAYS,
    )
