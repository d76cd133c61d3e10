"""Console page of the funnels: online, in the stores and across, side by side, for the
organisation or one store (docs/diagnosis.md, "Funnels")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from newretail.console.forms import attempt
from newretail.console.params import optional_day
from newretail.console.shell import page_locale, render
from newretail.core.i18n import translator
from newretail.diagnosis import funnels
from newretail.diagnosis.errors import InvalidDiagnosisPeriod, InvalidFunnelWindow
from newretail.diagnosis.funnel_schemas import FunnelRead, funnel_read
from newretail.diagnosis.funnels import FunnelKind
from newretail.tenancy.dependencies import ContainerDep, Identity, SessionDep
from newretail.tenancy.web_stores import stores_by_code

router = APIRouter(prefix="/console", include_in_schema=False)
NOT_A_DAY = "give a date as YYYY-MM-DD"


@dataclass
class FunnelQuery:
    """The page's form as sent (blank: the defaults)."""

    first_day: str = ""
    last_day: str = ""
    store: str = ""
    window_days: str = str(funnels.DEFAULT_WINDOW_DAYS)


def _window(value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidFunnelWindow("give a whole number of days", field="window_days") from exc


@router.get("/diagnosis/funnels")
def funnels_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    query: Annotated[FunnelQuery, Depends()],
) -> Response:
    """The three funnels over the period (default: the last 7 complete local days)."""
    locale = page_locale(request, identity)
    t = translator(locale)
    found: list[FunnelRead] = []
    with attempt(session, locale) as refusal:
        first = optional_day(query.first_day, "first_day", NOT_A_DAY, InvalidDiagnosisPeriod)
        last = optional_day(query.last_day, "last_day", NOT_A_DAY, InvalidDiagnosisPeriod)
        window = _window(query.window_days)
        for kind in FunnelKind:
            each = funnels.funnel(
                session,
                identity.principal,
                container.warehouse,
                kind,
                first,
                last,
                query.store or None,
                window,
            )
            found.append(funnel_read(each, t))
    return render(
        request,
        "diagnosis/funnels.html",
        identity,
        status_code=422 if refusal.errors else 200,
        section="diagnosis",
        query=query,
        errors=refusal.errors,
        funnels=found,
        stores=stores_by_code(session, identity.principal),
        max_window=funnels.MAX_WINDOW_DAYS,
    )
