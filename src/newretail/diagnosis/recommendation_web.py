"""Console page of a store's recommendations: the period's factor parts, each recommendation
in money with buttons to act on it or dismiss it (CSRF-checked forms), what acting created
with links, and the earlier recommendations with their factor then and now
(docs/diagnosis.md, "Recommendations")."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from newretail.console.params import optional_day
from newretail.console.shell import Form, check_csrf, page_locale, redirect, render
from newretail.core.errors import InvalidInput
from newretail.core.i18n import translator
from newretail.diagnosis import recommendation_flows as flows
from newretail.diagnosis.errors import InvalidDiagnosisPeriod
from newretail.diagnosis.recommendation_schemas import store_recommendations_read
from newretail.diagnosis.web import NOT_A_DAY, PeriodQuery
from newretail.tenancy.dependencies import ContainerDep, Identity, SessionDep

router = APIRouter(prefix="/console/diagnosis/stores", include_in_schema=False)


def _back(store: str, query: PeriodQuery, done: str) -> str:
    given = {name: value for name, value in vars(query).items() if value}
    return f"/console/diagnosis/stores/{store}/recommendations?{urlencode({**given, 'done': done})}"


@router.get("/{store}/recommendations")
def recommendations_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    store: str,
    query: Annotated[PeriodQuery, Depends()],
) -> Response:
    """A store's recommendations for the period (default: the last 7 complete local days)."""
    days = [
        optional_day(value, name, NOT_A_DAY, InvalidDiagnosisPeriod)
        for name, value in vars(query).items()
    ]
    found = flows.store_recommendations(
        session, identity.principal, container.warehouse, store, *days
    )
    t = translator(page_locale(request, identity))
    return render(
        request,
        "diagnosis/recommendations.html",
        identity,
        section="diagnosis",
        report=store_recommendations_read(found, identity.principal, t),
        query=urlencode({k: v for k, v in vars(query).items() if v}),
        done=request.query_params.get("done", ""),
    )


def _quantity(form: dict[str, str]) -> int | None:
    text = form.get("quantity", "").strip()
    if not text:
        return None
    try:
        quantity = int(text)
    except ValueError as exc:
        raise InvalidInput("give a whole number of units", field="quantity") from exc
    if not 1 <= quantity <= 1_000_000:
        raise InvalidInput("give 1 to 1,000,000 units", field="quantity")
    return quantity


@router.post("/{store}/recommendations/{recommendation_id}/act")
def act(
    request: Request,
    session: SessionDep,
    identity: Identity,
    store: str,
    recommendation_id: uuid.UUID,
    query: Annotated[PeriodQuery, Depends()],
    form: Form,
) -> Response:
    """Do what the recommendation proposes (same rules as the API's act)."""
    check_csrf(identity, form)
    t = translator(page_locale(request, identity))
    flows.act(session, identity.principal, store, recommendation_id, t, _quantity(form))
    return redirect(_back(store, query, "acted"))


@router.post("/{store}/recommendations/{recommendation_id}/dismiss")
def dismiss(
    session: SessionDep,
    identity: Identity,
    store: str,
    recommendation_id: uuid.UUID,
    query: Annotated[PeriodQuery, Depends()],
    form: Form,
) -> Response:
    """Decline the recommendation (remembered)."""
    check_csrf(identity, form)
    flows.dismiss(session, identity.principal, store, recommendation_id)
    return redirect(_back(store, query, "dismissed"))
