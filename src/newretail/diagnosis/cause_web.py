"""Console page of why a store's GMV moved: its change and three parts, the causes in money
(each a sentence, with its explanatory power and surprise) and the data-quality causes
(docs/diagnosis.md, "Why it moved"). The section is `diagnosis/causes_section.html`, which the
store page can include as well."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from newretail.console.params import optional_day
from newretail.console.shell import page_locale, render
from newretail.core.i18n import translator
from newretail.diagnosis import causes
from newretail.diagnosis.cause_schemas import store_causes_read
from newretail.diagnosis.errors import InvalidDiagnosisPeriod
from newretail.diagnosis.web import NOT_A_DAY, PeriodQuery
from newretail.tenancy.dependencies import ContainerDep, Identity, SessionDep

router = APIRouter(prefix="/console/diagnosis/stores", include_in_schema=False)


@router.get("/{store}/causes")
def causes_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    store: str,
    query: Annotated[PeriodQuery, Depends()],
) -> Response:
    """Why a store's GMV moved in the period (default: the last 7 complete local days)
    against the base (default: the 7 days before): its causes in money."""
    days = [
        optional_day(value, name, NOT_A_DAY, InvalidDiagnosisPeriod)
        for name, value in vars(query).items()
    ]
    t = translator(page_locale(request, identity))
    found = causes.store_causes(
        session,
        identity.principal,
        container.warehouse,
        store,
        days[0],
        days[1],
        days[2],
        days[3],
        other_label=t("diagnosis.cause.other"),
    )
    return render(
        request,
        "diagnosis/causes.html",
        identity,
        section="diagnosis",
        causes=store_causes_read(found, t),
        query=urlencode({k: v for k, v in vars(query).items() if v}),
    )
