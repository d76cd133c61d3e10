"""Console page of a campaign's lift report (linked from the campaign's page): the arms, each
figure's 95 % interval drawn as server-rendered inline SVG (a point and its bar against zero),
the sample-ratio warning, the minimum detectable effect, where they bought and what to do next."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
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

    def scaled(v: float | None, by: float) -> float | None:
        return None if v is None else v * by

    d, r, p = report.difference, report.relative_lift, report.incremental_purchasers
    found = [
        interval_chart(
            "difference",
            scaled(d.estimate, 100),
            scaled(d.low, 100),
            scaled(d.high, 100),
            d.gap,
            "{:+.2f} pp",
        ),
        interval_chart(
            "relative_lift",
            scaled(r.estimate, 100),
            scaled(r.low, 100),
            scaled(r.high, 100),
            r.gap,
            "{:+.1f} %",
        ),
        interval_chart("incremental_purchasers", p.estimate, p.low, p.high, p.gap, "{:+,.1f}"),
    ]
    gmv = report.incremental_gmv_cuped or report.incremental_gmv
    if gmv is not None:
        key = "incremental_gmv_cuped" if report.incremental_gmv_cuped else "incremental_gmv"
        found.append(
            interval_chart(
                key,
                None if gmv.estimate is None else float(gmv.estimate),
                None if gmv.low is None else float(gmv.low),
                None if gmv.high is None else float(gmv.high),
                gmv.gap,
                "¥{:,.2f}",
            )
        )
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
        chart_width=CHART_WIDTH,
        max_window=measurement.MAX_WINDOW_DAYS,
    )
