"""Console pages of the operations centre: the console's home page (today and yesterday at a
glance, alerts), why GMV moved between two periods — the organisation's change and its three
parts, then its stores ranked by the size of their change with their peer tier — and a store's
page (its waterfall, its metrics against its tier, its daily GMV)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from newretail.console.params import optional_day
from newretail.console.shell import page_locale, render
from newretail.core.i18n import Translate, translator
from newretail.diagnosis import (
    brand_schemas,
    brand_view,
    charts,
    glance,
    peer_schemas,
    peers,
    recommendation_flows,
    schemas,
    service,
    store_view,
)
from newretail.diagnosis.cause_schemas import store_causes_read
from newretail.diagnosis.decomposition import Factor
from newretail.diagnosis.errors import InvalidDiagnosisPeriod
from newretail.diagnosis.recommendation_schemas import store_recommendations_read
from newretail.tenancy import service as tenancy_service
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

    def days(self) -> list[date | None]:
        """The four days, each None when blank; a malformed one is refused by its name."""
        return [
            optional_day(value, name, NOT_A_DAY, InvalidDiagnosisPeriod)
            for name, value in vars(self).items()
        ]


@router.get("")
@router.get("/")
def home_page(
    request: Request, session: SessionDep, identity: Identity, container: ContainerDep
) -> Response:
    """The console's home: today so far and yesterday against the same weekday last week,
    and the alerts (data quality, the largest drops)."""
    found = glance.at_a_glance(
        session,
        identity.principal,
        container.warehouse,
        max_age=container.settings.diagnosis_home_cache_seconds,
    )
    return render(
        request,
        "diagnosis/home.html",
        identity,
        section="home",
        glance=found,
        largest_fall=glance.largest_fall,
    )


@router.get("/diagnosis")
def diagnosis_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    query: Annotated[PeriodQuery, Depends()],
) -> Response:
    """Why GMV moved: the period (default: the last 7 complete local days) against the base
    period (default: the 7 days before), split into visitors, conversion and order value;
    each store with its peer tier over the 30 days up to the period's last day."""
    days = query.days()
    found = service.gmv_change(session, identity.principal, container.warehouse, *days)
    t = translator(page_locale(request, identity))
    config = peers.configured(container.settings)
    report = peers.peer_tiers(
        session, identity.principal, container.warehouse, config, found.period.last
    )
    tiers = {str(s.store.id): peer_schemas.store_peer_read(s, report, t) for s in report.stores}
    return render(
        request,
        "diagnosis/gmv_change.html",
        identity,
        section="diagnosis",
        report=schemas.gmv_change_read(found, t),
        tiers=tiers,
        peer_period=report.period,
        max_days=service.MAX_PERIOD_DAYS,
        brands=brand_view.store_brands(session, identity.principal),
        late_outbox=_late_outbox(session, identity, container, t),
        demo_tiers=container.settings.demo_peer_tiers,
    )


def _late_outbox(
    session: SessionDep, identity: Identity, container: ContainerDep, t: Translate
) -> str | None:
    """The warning of facts overdue in the warehouse, or None."""
    delay = brand_view.late_outbox(
        session,
        identity.principal,
        timedelta(minutes=container.settings.diagnosis_outbox_late_minutes),
    )
    zone = tenancy_service.organisation_zone(session, identity.principal.organization_id)
    return brand_schemas.late_outbox_text(delay, zone, t)


@router.get("/diagnosis/stores/{code}")
def store_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    code: str,
    query: Annotated[PeriodQuery, Depends()],
) -> Response:
    """One store: its GMV change as a waterfall, its metrics against its peer tier and what
    it lacks for the next tier, and its daily GMV over the period."""
    config = peers.configured(container.settings)
    first, last, base_first, base_last = query.days()
    found = store_view.store_diagnosis(
        session,
        identity.principal,
        container.warehouse,
        code,
        first,
        last,
        base_first,
        base_last,
        config,
    )
    t = translator(page_locale(request, identity))
    split = found.decomposition
    parts = [(str(factor), split.parts[factor]) for factor in Factor]
    if split.unattributed:
        parts.append(("unattributed", split.unattributed))
    chart, day_bars = charts.daily_bars([(day, figures.gmv) for day, figures in found.days])
    # the causes and the recommendations they lead to, from one reading of the store
    advice = recommendation_flows.store_recommendations(
        session,
        identity.principal,
        container.warehouse,
        str(found.store.id),
        found.period.first,
        found.period.last,
        found.base_period.first,
        found.base_period.last,
        other_label=t("diagnosis.cause.other"),
    )
    return render(
        request,
        "diagnosis/store.html",
        identity,
        section="diagnosis",
        found=found,
        split=split,
        flags=sorted(split.flags, key=lambda f: (f.period != "base", f.issue)),
        waterfall=charts.waterfall(found.base.gmv, parts, found.comparison.gmv),
        trend=chart,
        day_bars=day_bars,
        tier=None
        if found.peers is None
        else peer_schemas.store_peer_read(found.peers, found.peer_report, t),
        peer_period=found.peer_report.period,
        causes=store_causes_read(advice.diagnosis, t),
        recommendations=store_recommendations_read(advice, identity.principal, t),
        brand=brand_view.store_brands(session, identity.principal).get(str(found.store.id)),
        late_outbox=_late_outbox(session, identity, container, t),
        demo_tiers=container.settings.demo_peer_tiers,
        query=urlencode(
            {
                "first_day": found.period.first.isoformat(),
                "last_day": found.period.last.isoformat(),
                "base_first_day": found.base_period.first.isoformat(),
                "base_last_day": found.base_period.last.isoformat(),
            }
        ),
    )


@router.get("/diagnosis/brands/{code}")
def brand_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    code: str,
    query: Annotated[PeriodQuery, Depends()],
) -> Response:
    """One brand: its GMV change as a waterfall and split into stores × factors, its daily
    GMV, the stores explaining each factor, its stores by peer tier, data-quality flags."""
    t = translator(page_locale(request, identity))
    found = brand_view.brand_diagnosis(
        session,
        identity.principal,
        container.warehouse,
        code,
        *query.days(),
        config=peers.configured(container.settings),
        outbox_late=timedelta(minutes=container.settings.diagnosis_outbox_late_minutes),
        no_store_label=t("diagnosis.no_store"),
    )
    read = brand_schemas.brand_diagnosis_read(found, t)
    split = found.change.decomposition
    parts = [(str(factor), split.parts[factor]) for factor in Factor]
    if split.unattributed:
        parts.append(("unattributed", split.unattributed))
    chart, day_bars = charts.daily_bars([(day, figures.gmv) for day, figures in found.days])
    return render(
        request,
        "diagnosis/brand.html",
        identity,
        section="diagnosis",
        found=found,
        report=read,
        waterfall=charts.waterfall(split.base_gmv, parts, split.comparison_gmv),
        trend=chart,
        day_bars=day_bars,
        demo_tiers=container.settings.demo_peer_tiers,
        query=urlencode(
            {
                "first_day": found.change.period.first.isoformat(),
                "last_day": found.change.period.last.isoformat(),
                "base_first_day": found.change.base_period.first.isoformat(),
                "base_last_day": found.change.base_period.last.isoformat(),
            }
        ),
    )
