"""Console pages of the metrics by group (store, brand, channel type, city, organisation) and of
the funnels: online, in the stores and across, side by side, for the organisation or one store
(docs/diagnosis.md, "Metrics by group", "Funnels")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from newretail.console.forms import attempt
from newretail.console.params import optional_day
from newretail.console.shell import page_locale, render
from newretail.core.i18n import translator
from newretail.diagnosis import brand_view, breakdown, funnels
from newretail.diagnosis.analysis_schemas import FunnelRead, breakdown_read, funnel_read
from newretail.diagnosis.breakdown import GroupBy
from newretail.diagnosis.errors import (
    InvalidDiagnosisPeriod,
    InvalidFunnelWindow,
    InvalidGrouping,
)
from newretail.diagnosis.funnels import FunnelKind
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.crowd_floor import min_crowd_size
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
    brand: str = ""
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
    floor = min_crowd_size(session)
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
                query.brand or None,
            )
            found.append(funnel_read(each, t, floor))
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
        brands=tenancy_service.brand_choices(session),
        max_window=funnels.MAX_WINDOW_DAYS,
        floor=floor,
    )


@dataclass
class MetricsQuery:
    """The metrics page's form as sent (blank days: the defaults)."""

    by: str = GroupBy.STORE.value
    first_day: str = ""
    last_day: str = ""
    base_first_day: str = ""
    base_last_day: str = ""


TABLES = (  # (id, the columns): sales from the store-days, then buyers over the period
    (
        "sales",
        (
            "gmv",
            "visitors",
            "conversion",
            "order_value",
            "transactions",
            "transaction_value",
            "units_per_transaction",
            "refunded",
        ),
    ),
    (
        "buyers",
        (
            "buyers",
            "new_buyers",
            "returning_buyers",
            "repeat_rate",
            "member_share",
            "across_share",
            "coupons_redeemed",
            "campaign_gmv",
        ),
    ),
)
MONEY = frozenset({"gmv", "order_value", "transaction_value", "campaign_gmv", "refunded"})
RATIOS = frozenset({"conversion", "repeat_rate", "member_share", "across_share"})
PEOPLE = frozenset({"buyers", "new_buyers", "returning_buyers"})  # through the crowd floor


@router.get("/diagnosis/metrics")
def metrics_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    query: Annotated[MetricsQuery, Depends()],
) -> Response:
    """Every metric per store, brand, channel type, city or for the organisation, against the
    comparison period."""
    locale = page_locale(request, identity)
    report = None
    floor = min_crowd_size(session)
    with attempt(session, locale) as refusal:
        try:
            by = GroupBy(query.by)
        except ValueError as exc:
            raise InvalidGrouping(
                "group by store, brand, channel, city or organisation", field="by"
            ) from exc
        days = [
            optional_day(value, name, NOT_A_DAY, InvalidDiagnosisPeriod)
            for name, value in vars(query).items()
            if name != "by"
        ]
        found = breakdown.metrics_by(session, identity.principal, container.warehouse, by, *days)
        report = breakdown_read(found, translator(locale), floor)
    shown_days = {name: value for name, value in vars(query).items() if name != "by"}
    if report is not None:
        shown_days = {
            "first_day": report.period.first_day.isoformat(),
            "last_day": report.period.last_day.isoformat(),
            "base_first_day": report.base_period.first_day.isoformat(),
            "base_last_day": report.base_period.last_day.isoformat(),
        }
    return render(
        request,
        "diagnosis/metrics.html",
        identity,
        status_code=422 if refusal.errors else 200,
        section="diagnosis",
        query=query,
        errors=refusal.errors,
        report=report,
        shown_days=shown_days,
        groupings=[g.value for g in GroupBy],
        tables=TABLES,
        money_columns=MONEY,
        ratio_columns=RATIOS,
        people_columns=PEOPLE,
        brands=brand_view.brands_by_id(session),
        floor=floor,
    )
