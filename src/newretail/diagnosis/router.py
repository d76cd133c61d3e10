"""REST API of the operations centre: why GMV moved between two periods, and peer tiers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request

from newretail.core.i18n import negotiate, translator
from newretail.diagnosis import (
    brand_schemas,
    brand_view,
    cause_schemas,
    causes,
    org_causes,
    peer_schemas,
    peers,
    schemas,
    service,
)
from newretail.diagnosis.api_periods import PeriodsQuery
from newretail.tenancy.dependencies import ContainerDep, CurrentPrincipal, SessionDep

router = APIRouter(prefix="/api/v1/diagnosis", tags=["diagnosis"])


@router.get("/gmv-change", response_model=schemas.GmvChangeRead)
def gmv_change(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    periods: PeriodsQuery,
) -> object:
    """Why GMV moved: the period's GMV (default: the last 7 complete local days) against the
    base period (default: as many days just before), each store's change split into
    visitors, conversion and order value, the organisation's the sum of its stores'."""
    found = service.gmv_change(
        session,
        principal,
        container.warehouse,
        *periods.days(),
    )
    t = translator(negotiate(request.headers.get("accept-language")))
    return schemas.gmv_change_read(found, t)


LastDay = Annotated[
    date | None,
    Query(description="The last local day of the 30 (YYYY-MM-DD; default: yesterday)"),
]


def _peer_tiers(
    session: SessionDep, principal: CurrentPrincipal, container: ContainerDep, last_day: date | None
) -> peers.PeerReport:
    config = peers.configured(container.settings)
    return peers.peer_tiers(session, principal, container.warehouse, config, last_day)


@router.get("/tiers", response_model=peer_schemas.PeerTiersRead)
def peer_tiers(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    last_day: LastDay = None,
) -> object:
    """Peer tiers: the principal's stores tiered by their last-30-local-day GMV within main
    category × format, each metric against its tier's mean, median and 90th percentile
    (shown only for cells of enough stores), and the GMV each lacks for the next tier."""
    report = _peer_tiers(session, principal, container, last_day)
    t = translator(negotiate(request.headers.get("accept-language")))
    return peer_schemas.peer_tiers_read(report, t)


@router.get("/tiers/{store_code}", response_model=peer_schemas.StorePeerRead)
def store_peer_tier(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    store_code: str,
    last_day: LastDay = None,
) -> object:
    """One store's peer tier, grades and the GMV it lacks for the next tier."""
    report = _peer_tiers(session, principal, container, last_day)
    t = translator(negotiate(request.headers.get("accept-language")))
    return peer_schemas.store_peer_read(report.store(store_code), report, t)


@router.get("/stores/{store}/causes", response_model=cause_schemas.StoreCausesRead)
def store_causes(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    store: str,
    periods: PeriodsQuery,
) -> object:
    """Why a store's GMV moved (store by code or id): the period (default: the last 7 complete
    local days) against the base (default: as many days before), split into visitors,
    conversion and order value, the SKU, category, hour and stock-out values explaining each
    part in money, and the data-quality causes (a people counter silent while the till sold)."""
    t = translator(negotiate(request.headers.get("accept-language")))
    found = causes.store_causes(
        session,
        principal,
        container.warehouse,
        store,
        *periods.days(),
        other_label=t("diagnosis.cause.other"),
    )
    return cause_schemas.store_causes_read(found, t)


@router.get("/causes", response_model=cause_schemas.OrganisationCausesRead)
def organisation_causes(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    periods: PeriodsQuery,
) -> object:
    """Why the organisation's GMV moved: the period (default: the last 7 complete local
    days) against the base (default: as many days before), the stores that explain its
    visitors, conversion and order value parts in money, and silent people counters."""
    t = translator(negotiate(request.headers.get("accept-language")))
    found = org_causes.organisation_causes(
        session,
        principal,
        container.warehouse,
        *periods.days(),
        no_store_label=t("diagnosis.no_store"),
    )
    return cause_schemas.organisation_causes_read(found, t)


@router.get("/brands/{brand}", response_model=brand_schemas.BrandDiagnosisRead)
def brand_diagnosis(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    brand: str,
    periods: PeriodsQuery,
) -> object:
    """A brand (by code): its GMV in the period (default: the last 7 complete local days)
    against the base (default: as many days before) split into stores × factors, its daily
    GMV, the stores explaining each factor, its stores by peer tier, and data-quality flags."""
    t = translator(negotiate(request.headers.get("accept-language")))
    found = brand_view.brand_diagnosis(
        session,
        principal,
        container.warehouse,
        brand,
        *periods.days(),
        config=peers.configured(container.settings),
        outbox_late=timedelta(minutes=container.settings.diagnosis_outbox_late_minutes),
        no_store_label=t("diagnosis.no_store"),
    )
    return brand_schemas.brand_diagnosis_read(found, t)
