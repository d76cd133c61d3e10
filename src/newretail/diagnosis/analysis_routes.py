"""REST API of the metrics by group (store, brand, channel type, city, organisation) and of the
funnels: view → favourite → cart → order → pay, online, in the stores and across
(docs/diagnosis.md, "Metrics by group", "Funnels")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from newretail.core.i18n import negotiate, translator
from newretail.diagnosis import breakdown, funnels
from newretail.diagnosis.analysis_schemas import (
    BreakdownRead,
    FunnelRead,
    breakdown_read,
    funnel_read,
)
from newretail.diagnosis.api_periods import Day, PeriodsQuery
from newretail.diagnosis.breakdown import GroupBy
from newretail.diagnosis.funnels import FunnelKind
from newretail.tenancy.crowd_floor import min_crowd_size
from newretail.tenancy.dependencies import ContainerDep, CurrentPrincipal, SessionDep

router = APIRouter(prefix="/api/v1/diagnosis", tags=["diagnosis"])


@router.get("/funnels", response_model=FunnelRead)
def funnel(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    kind: Annotated[FunnelKind, Query(description="online, offline (in the stores) or across")],
    first_day: Day = None,
    last_day: Day = None,
    store: Annotated[
        str | None, Query(description="A store's code or id: its side of the funnel only")
    ] = None,
    window_days: Annotated[
        int,
        Query(
            ge=1,
            le=funnels.MAX_WINDOW_DAYS,
            description="Days from a person's first step to their last",
        ),
    ] = funnels.DEFAULT_WINDOW_DAYS,
    brand: Annotated[
        str | None, Query(description="A brand's code: its stores' steps only")
    ] = None,
) -> object:
    """How many people went from a view to a payment, step by step, in order and within the
    conversion window: `online`, `offline` (in the stores) or `across` (viewed online, paid
    in a store). Default period: the last 7 complete local days. A step's people below the
    organisation's minimum crowd size are `null` with `suppressed: true`, and so are the rates
    computed from them."""
    found = funnels.funnel(
        session,
        principal,
        container.warehouse,
        kind,
        first_day,
        last_day,
        store,
        window_days,
        brand,
    )
    t = translator(negotiate(request.headers.get("accept-language")))
    return funnel_read(found, t, min_crowd_size(session))


@router.get("/metrics", response_model=BreakdownRead)
def metrics_by(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    periods: PeriodsQuery,
    by: GroupBy = GroupBy.STORE,
) -> object:
    """Every metric per store, brand, channel type, city or for the organisation over the
    period (default: the last 7 complete local days) against the base (default: as many days
    before): GMV, visitors, conversion, order value, transactions, units, refunds, distinct
    buyers new and returning, repeat rate, members' share, buyers across channels, coupons
    and campaign GMV. Counts of buyers below the organisation's minimum crowd size are `null`
    with `suppressed: true`, and so are the rates computed from them."""
    found = breakdown.metrics_by(
        session,
        principal,
        container.warehouse,
        by,
        *periods.days(),
    )
    t = translator(negotiate(request.headers.get("accept-language")))
    return breakdown_read(found, t, min_crowd_size(session))
