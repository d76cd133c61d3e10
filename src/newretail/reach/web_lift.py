"""Console page of a campaign's lift report (linked from the campaign's page): the arms, each
figure's 95 % interval drawn as server-rendered inline SVG (a point and its bar against zero),
the sample-ratio warning, the minimum detectable effect, where they bought and what to do next."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from newretail.console.shell import page_locale, render
from newretail.core.i18n import translator
from newretail.reach import lift_reads, measurement
from newretail.tenancy.dependencies import ContainerDep, Identity, SessionDep

router = APIRouter(prefix="/console/reach/campaigns", include_in_schema=False)

CHART_WIDTH = 360
CHART_MARGIN = 12


@dataclass(frozen=True)
class IntervalChart:
    """Where a point, its interval bar and zero fall on a chart `CHART_WIDTH` wide."""

    key: str
    estimate: str
    low: str
    high: str
    zero_x: float
    point_x: float | None
    low_x: float | None
    high_x: float | None
    excludes_zero: bool
    gap: str | None


def interval_chart(
    key: str,
    estimate: float | None,
    low: float | None,
    high: float | None,
    gap: str | None,
    shown: str = "{:+.2f}",
) -> IntervalChart:
    """The chart of one interval on a scale symmetric about zero (zero in the middle)."""
    values = [abs(v) for v in (estimate, low, high) if v is not None]
    reach = max(values, default=0.0) * 1.15 or 1.0
    half = (CHART_WIDTH - 2 * CHART_MARGIN) / 2

    def x(value: float | None) -> float | None:
        return None if value is None else round(CHART_MARGIN + half + value / reach * half, 1)

    def text(value: float | None) -> str:
        if value is None:
            return "—"
        if shown.startswith("¥"):  # the sign before the currency: +¥40.00, -¥12.50
            return ("-" if value < 0 else "+") + shown.format(abs(value))
        return shown.format(value)

    excludes = low is not None and high is not None and (low > 0 or high < 0)
    return IntervalChart(
        key,
        text(estimate),
        text(low),
        text(high),
        x(0.0) or 0.0,
        x(estimate),
        x(low),
        x(high),
        excludes,
        gap,
    )


def charts(report: lift_reads.LiftReportRead) -> list[IntervalChart]:
    """The difference of rates (percentage points), the relative lift (%), incremental
    purchasers and incremental GMV (CUPED-adjusted when the pre-period allowed it)."""

    def chart(
        key: str,
        interval: lift_reads.IntervalRead | lift_reads.MoneyIntervalRead,
        shown: str,
        by: float = 1,
    ) -> IntervalChart:
        def scaled(value: float | Decimal | None) -> float | None:
            return None if value is None else float(value) * by

        low, high = scaled(interval.low), scaled(interval.high)
        return interval_chart(key, scaled(interval.estimate), low, high, interval.gap, shown)

    found = [
        chart("difference", report.difference, "{:+.2f} pp", by=100),
        chart("relative_lift", report.relative_lift, "{:+.1f} %", by=100),
        chart("incremental_purchasers", report.incremental_purchasers, "{:+,.1f}"),
    ]
    if report.incremental_gmv_cuped is not None:
        found.append(chart("incremental_gmv_cuped", report.incremental_gmv_cuped, "¥{:,.2f}"))
    elif report.incremental_gmv is not None:
        found.append(chart("incremental_gmv", report.incremental_gmv, "¥{:,.2f}"))
    return found


@router.get("/{campaign_id}/lift")
def lift_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    campaign_id: uuid.UUID,
    stage: Annotated[int | None, Query(ge=1)] = None,
    window_days: Annotated[
        int, Query(ge=1, le=measurement.MAX_WINDOW_DAYS)
    ] = measurement.DEFAULT_WINDOW_DAYS,
) -> Response:
    """The lift report of a campaign (one stage, or all) for an attribution window."""
    principal = identity.principal
    measured = measurement.measure(
        session, principal, container.warehouse, campaign_id, stage, window_days
    )
    t = translator(page_locale(request, identity))
    report = lift_reads.report_read(session, principal, measured, t)
    return render(
        request,
        "reach/lift.html",
        identity,
        section="marketing",
        report=report,
        stages=[(s.position, s.name) for s in measured.campaign.stages],
        charts=charts(report),
        detectable=lift_reads.detectable_sentence(t, report.detectable_effect),
        chart_width=CHART_WIDTH,
        max_window=measurement.MAX_WINDOW_DAYS,
    )
