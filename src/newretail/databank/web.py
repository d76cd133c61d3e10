"""Console page of the Data Bank: funnel, flow Sankey, FAST and trend lines, breakdowns, CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from newretail.console.shell import render, request_locale
from newretail.core.i18n import translator
from newretail.databank import charts, service
from newretail.databank.analytics import STAGE_NAMES
from newretail.databank.errors import InvalidDate, InvalidDimension, InvalidPeriod
from newretail.databank.queries import DIMENSIONS
from newretail.tenancy.dependencies import ContainerDep, Identity, SessionDep
from newretail.tenancy.models import Brand
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console", include_in_schema=False)
CSV_KINDS = ("stages", "flows", "fast", "trends", "breakdown")


def _parse_day(value: str, default: date, field: str) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidDate("give a date as YYYY-MM-DD", field=field) from exc


@router.get("/databank")
def databank_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    brand_id: str = "",
    day: str = "",
    start: str = "",
) -> Response:
    principal = identity.principal
    principal.require(Permission.READ)
    brands = list(session.scalars(select(Brand).order_by(Brand.code)))
    on = _parse_day(day, date.today() - timedelta(days=1), "day")
    since = _parse_day(start, on - timedelta(days=7), "start")
    if since >= on:
        raise InvalidPeriod("the flow start must be before the day", field="start")
    chosen = brand_id or (str(brands[0].id) if brands else "")
    locale_t = translator(request_locale(request, identity.user.locale))
    labels = {s: locale_t(f"databank.stage.{s}") for s in STAGE_NAMES}
    labels["none"] = locale_t("databank.stage.none")
    context: dict[str, Any] = {
        "brands": brands,
        "brand_id": chosen,
        "day": on,
        "start": since,
        "dimensions": DIMENSIONS,
    }
    if chosen:
        warehouse = container.warehouse
        stages = service.stage_counts(session, principal, warehouse, on, chosen)["brands"][0]
        flow = service.flows(session, principal, warehouse, since, on, chosen)["brands"][0]
        fast = service.fast(session, principal, warehouse, on, 8, chosen)
        trend = service.trends(session, principal, warehouse, on - timedelta(days=29), on, chosen)
        by_day = {row["date"]: row for row in trend}
        days = [on - timedelta(days=k) for k in range(29, -1, -1)]
        context.update(
            stages=stages,
            flow=flow,
            fast=fast,
            breakdowns={
                d: service.breakdown(session, principal, warehouse, on, d, chosen)
                for d in DIMENSIONS
            },
            funnel_svg=charts.funnel(stages, labels),
            sankey_svg=charts.sankey(flow, labels),
            fast_svg=charts.lines(
                [w["week_end"].isoformat() for w in fast],
                {
                    "F": [w["fertility"] for w in fast],
                    "S": [w["superiority"] for w in fast],
                },
            ),
            ratio_svg=charts.lines(
                [w["week_end"].isoformat() for w in fast],
                {
                    "A%": [None if w["advancing"] is None else 100 * w["advancing"] for w in fast],
                    "T%": [100 * w["thriving"] for w in fast],
                },
            ),
            trend_svg=charts.lines(
                [d.isoformat() for d in days],
                {s: [by_day[d][s] if d in by_day else None for d in days] for s in STAGE_NAMES},
            ),
            labels=labels,
        )
    return render(request, "databank/page.html", identity, section="databank", **context)


def _csv(rows: list[list[Any]], name: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/databank/export.csv")
def databank_csv(
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    kind: str,
    brand_id: str = "",
    day: str = "",
    start: str = "",
    dimension: str = "channel",
) -> Response:
    principal = identity.principal
    principal.require(Permission.READ)
    if kind not in CSV_KINDS:
        raise InvalidDimension(f"kind is one of {', '.join(CSV_KINDS)}", field="kind")
    on = _parse_day(day, date.today() - timedelta(days=1), "day")
    since = _parse_day(start, on - timedelta(days=7), "start")
    brand = brand_id or None
    warehouse = container.warehouse
    rows: list[list[Any]]
    if kind == "stages":
        data = service.stage_counts(session, principal, warehouse, on, brand)["brands"]
        rows = [["date", "brand_id", *STAGE_NAMES]]
        rows += [[on.isoformat(), b["brand_id"], *(b[s] for s in STAGE_NAMES)] for b in data]
    elif kind == "flows":
        flows = service.flows(session, principal, warehouse, since, on, brand)["brands"]
        rows = [["brand_id", "from_date", "to_date", "from_stage", "to_stage", "members"]]
        for flow in flows:
            for cell in flow["stages"]:
                ends = [(cell["stage"], cell["stayed"]), *cell["moved"].items()]
                ends.append(("none", cell["churned"]))
                for target, members in ends:
                    rows.append([flow["brand_id"], since, on, cell["stage"], target, members])
            for target, members in flow["new"].items():
                rows.append([flow["brand_id"], since, on, "none", target, members])
    elif kind == "fast":
        weeks = service.fast(session, principal, warehouse, on, 8, brand)
        columns = ["brand_id", "week_end", "fertility", "advancing", "superiority", "thriving"]
        rows = [columns, *([w[c] for c in columns] for w in weeks)]
    elif kind == "trends":
        trend = service.trends(session, principal, warehouse, on - timedelta(days=29), on, brand)
        rows = [["date", "brand_id", *STAGE_NAMES]]
        rows += [[t["date"], t["brand_id"], *(t[s] for s in STAGE_NAMES)] for t in trend]
    else:
        data = service.breakdown(session, principal, warehouse, on, dimension, brand)
        rows = [["brand_id", "stage", dimension, "members"]]
        rows += [[r["brand_id"], r["stage"], r["value"], r["members"]] for r in data]
    return _csv(rows, f"databank-{kind}-{on.isoformat()}")
