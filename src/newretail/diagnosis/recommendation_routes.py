"""REST API of a store's recommendations: list them for a period (recorded the first time
they are shown), act on one through the owning domain, or dismiss it (docs/diagnosis.md,
"Recommendations")."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import Field

from newretail.core.i18n import Translate, negotiate, translator
from newretail.diagnosis import recommendation_flows as flows
from newretail.diagnosis.api_periods import PeriodsQuery
from newretail.diagnosis.models import DiagnosisRecommendation
from newretail.diagnosis.recommendation_schemas import (
    RecommendationRead,
    StoreRecommendationsRead,
    recommendation_read,
    store_recommendations_read,
)
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.dependencies import ContainerDep, CurrentPrincipal, SessionDep
from newretail.tenancy.permissions import Principal
from newretail.tenancy.schemas import Strict

router = APIRouter(prefix="/api/v1/diagnosis/stores", tags=["diagnosis"])


class ActRequest(Strict):
    """Optional: the units of a stock transfer (default: the proposed quantity)."""

    quantity: Annotated[int, Field(ge=1, le=1_000_000)] | None = None


def _t(request: Request) -> Translate:
    return translator(negotiate(request.headers.get("accept-language")))


def _read(
    session: SessionDep,
    principal: Principal,
    store: str,
    row: DiagnosisRecommendation,
    t: Translate,
) -> RecommendationRead:
    found = tenancy_service.visible_store(session, principal, store)
    return recommendation_read(row, found.name, principal, t)


@router.get("/{store}/recommendations", response_model=StoreRecommendationsRead)
def store_recommendations(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    store: str,
    periods: PeriodsQuery,
) -> object:
    """A store's recommendations for a period (default: the last 7 complete local days)
    against a base period (default: the days before), each in money with its action, and the
    earlier ones acted on or dismissed with their factor's part then and now."""
    found = flows.store_recommendations(
        session,
        principal,
        container.warehouse,
        store,
        *periods.days(),
    )
    return store_recommendations_read(found, principal, _t(request))


@router.post("/{store}/recommendations/{recommendation_id}/act", response_model=RecommendationRead)
def act(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    store: str,
    recommendation_id: uuid.UUID,
    body: ActRequest | None = None,
) -> object:
    """Do what the recommendation proposes through the owning domain (an audience and a
    campaign draft with a holdout: marketing permission; a stock transfer: stock permission),
    and answer it with links to what was created."""
    t = _t(request)
    quantity = body.quantity if body else None
    row = flows.act(session, principal, store, recommendation_id, t, quantity)
    return _read(session, principal, store, row, t)


@router.post(
    "/{store}/recommendations/{recommendation_id}/dismiss", response_model=RecommendationRead
)
def dismiss(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    store: str,
    recommendation_id: uuid.UUID,
) -> object:
    """Decline a recommendation (remembered, by whom and when)."""
    row = flows.dismiss(session, principal, store, recommendation_id)
    return _read(session, principal, store, row, _t(request))
