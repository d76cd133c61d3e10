"""Console page of the Data Bank: funnel, flow Sankey, FAST and trend lines, breakdowns, CSV."""

from __future__ import annotations

import copy
import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.console.params import optional_day
from newretail.console.shell import Form, check_csrf, redirect, render, request_locale
from newretail.core.i18n import Translate, translator
from newretail.databank import backfills, charts, service
from newretail.databank.analytics import STAGE_NAMES
from newretail.databank.errors import InvalidDate, InvalidDimension, InvalidPeriod
from newretail.databank.queries import DIMENSIONS
from newretail.tenancy.crowd_floor import min_crowd_size
from newretail.tenancy.dependencies import ContainerDep, Identity, SessionDep
from newretail.tenancy.models import Brand, Store
from newretail.tenancy.permissions import Permission, Principal

router = APIRouter(prefix="/console", include_in_schema=False)
CSV_KINDS = ("stages", "flows", "fast", "trends", "breakdown")
NOT_A_DAY = "give a date as YYYY-MM-DD"


def _day_shown(session: Session, principal: Principal, value: str) -> date:
    """The day the page shows: the one asked for, else the organisation's yesterday."""
    day = optional_day(value, "day", NOT_A_DAY, InvalidDate)
    return day or service.local_yesterday(session, principal)


@dataclass
class DatabankQuery:
    """What the page shows, as its links and its CSV exports carry it (`?brand_id=&day=&start=`):
    blank is the first brand, the organisation's yesterday, a week before the day."""

    brand_id: str = ""
    day: str = ""
    start: str = ""

    def period(self, session: Session, principal: Principal) -> tuple[date, date]:
        """The flows' first day (a week before by default) and the day shown."""
        on = _day_shown(session, principal, self.day)
        since = optional_day(self.start, "start", NOT_A_DAY, InvalidDate)
        return since or on - timedelta(days=7), on


ShownQuery = Annotated[DatabankQuery, Depends()]


@router.get("/databank")
def databank_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    query: ShownQuery,
) -> Response:
    principal = identity.principal
    principal.require(Permission.READ)
    brands = list(session.scalars(select(Brand).order_by(Brand.code)))
    since, on = query.period(session, principal)
    if since >= on:
        raise InvalidPeriod("the flow start must be before the day", field="start")
    chosen = query.brand_id or (str(brands[0].id) if brands else "")
    t = translator(request_locale(request, identity.preferred_locale))
    labels = {s: t(f"databank.stage.{s}") for s in STAGE_NAMES}
    labels["none"] = t("databank.stage.none")
    # The backfill as it stands now, before the missing days are counted below: the running
    # backfill's thread may finish while the page's queries run, and a status read at render
    # time would then show its last days as missing beside no progress bar.
    backfill = copy.copy(backfills.runner(container.warehouse).latest(principal))
    context: dict[str, Any] = {
        "brands": brands,
        "brand_id": chosen,
        "day": on,
        "start": since,
        "dimensions": DIMENSIONS,
        "backfill": backfill,
        "page_days": backfills.PAGE_DAYS,
    }
    if chosen:
        reader = service.Reader(
            session, principal, container.warehouse, container.settings.max_range_days
        )
        context.update(_assets(reader, chosen, since, on, labels, t))
    return render(request, "databank/page.html", identity, section="databank", **context)


def _assets(
    reader: service.Reader,
    brand_id: str,
    since: date,
    on: date,
    labels: dict[str, str],
    t: Translate,
) -> dict[str, Any]:
    stages = reader.stage_counts(on, brand_id)["brands"][0]
    flow = reader.flows(since, on, brand_id)["brands"][0]
    fast = reader.fast(on, 8, brand_id)
    trend = reader.trends(on - timedelta(days=29), on, brand_id)
    by_day = {row["date"]: row for row in trend}
    days = [on - timedelta(days=k) for k in range(29, -1, -1)]
    first_needed = on - timedelta(days=backfills.PAGE_DAYS - 1)
    organization_id = reader.principal.organization_id
    missing = backfills.missing_days(reader.warehouse, organization_id, first_needed, on)
    floor = min_crowd_size(reader.session)
    breakdowns = _named(reader.session, reader.breakdowns(on, brand_id), t)
    below = t("databank.below_floor", floor=floor)
    return {
        "floor": floor,
        "breakdowns_suppressed": any(r["suppressed"] for rows in breakdowns.values() for r in rows),
        "stages": stages,
        "flow": flow,
        "fast": fast,
        "missing_days": len(missing),
        "missing_ranges": _day_ranges(missing),
        "breakdowns": breakdowns,
        "funnel_svg": charts.funnel(stages, labels, below),
        "sankey_svg": charts.sankey(flow, labels),
        "fast_svg": charts.lines(
            [w["week_end"].isoformat() for w in fast],
            {"F": [w["fertility"] for w in fast], "S": [w["superiority"] for w in fast]},
        ),
        "ratio_svg": charts.lines(
            [w["week_end"].isoformat() for w in fast],
            {
                "A%": [None if w["advancing"] is None else 100 * w["advancing"] for w in fast],
                "T%": [None if w["thriving"] is None else 100 * w["thriving"] for w in fast],
            },
        ),
        "trend_svg": charts.lines(
            [d.isoformat() for d in days],
            {s: [by_day[d][s] if d in by_day else None for d in days] for s in STAGE_NAMES},
        ),
        "labels": labels,
    }


def _day_ranges(days: list[date]) -> str:
    """Days as runs of consecutive dates: "2026-10-11 – 2026-10-20, 2026-11-02"."""
    runs: list[list[date]] = []
    for day in days:
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        run[0].isoformat() if len(run) == 1 else f"{run[0].isoformat()} – {run[-1].isoformat()}"
        for run in runs
    )


def _named(
    session: Session, breakdowns: dict[str, list[dict[str, Any]]], t: Translate
) -> dict[str, list[dict[str, Any]]]:
    """Each row with the label a person reads: store names, translated channels and categories."""
    stores = {str(i): name for i, name in session.execute(select(Store.id, Store.name))}

    def label(dimension: str, value: str | None) -> str:
        if value is None:
            return t("databank.unknown")
        if dimension == "store_id":
            return stores.get(value, t("databank.other_store"))
        if dimension in ("channel", "category"):
            key = f"{'channel' if dimension == 'channel' else 'databank.category'}.{value}"
            text = t(key)
            return text if text != key else value.capitalize()
        return value

    return {
        dimension: [{**row, "label": label(dimension, row["value"])} for row in rows]
        for dimension, rows in breakdowns.items()
    }


@router.post("/databank/backfill")
def start_backfill(
    session: SessionDep, identity: Identity, container: ContainerDep, form: Form
) -> Response:
    """Fill the snapshots the page reads (the missing days up to the day shown), in the server."""
    check_csrf(identity, form)
    principal = identity.principal
    on = _day_shown(session, principal, form.get("day", ""))
    first = on - timedelta(days=backfills.PAGE_DAYS - 1)
    backfills.runner(container.warehouse).start(
        container.sessions, container.warehouse, principal, first, on
    )
    query = urlencode({"brand_id": form.get("brand_id", ""), "day": on.isoformat()})
    return redirect(f"/console/databank?{query}")


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
    query: ShownQuery,
    dimension: str = "channel",
) -> Response:
    principal = identity.principal
    principal.require(Permission.READ)
    if kind not in CSV_KINDS:
        raise InvalidDimension(f"kind is one of {', '.join(CSV_KINDS)}", field="kind")
    since, on = query.period(session, principal)
    brand = query.brand_id or None
    reader = service.Reader(
        session, principal, container.warehouse, container.settings.max_range_days
    )
    rows: list[list[Any]]
    if kind == "stages":
        data = reader.stage_counts(on, brand)["brands"]
        rows = [["date", "brand_id", *STAGE_NAMES]]
        rows += [[on.isoformat(), b["brand_id"], *(b[s] for s in STAGE_NAMES)] for b in data]
    elif kind == "flows":
        flows = reader.flows(since, on, brand)["brands"]
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
        weeks = reader.fast(on, 8, brand)
        columns = ["brand_id", "week_end", "fertility", "advancing", "superiority", "thriving"]
        rows = [columns, *([w[c] for c in columns] for w in weeks)]
    elif kind == "trends":
        trend = reader.trends(on - timedelta(days=29), on, brand)
        rows = [["date", "brand_id", *STAGE_NAMES]]
        rows += [[t["date"], t["brand_id"], *(t[s] for s in STAGE_NAMES)] for t in trend]
    else:
        data = reader.breakdown(on, dimension, brand)
        rows = [["brand_id", "stage", dimension, "members", "suppressed"]]
        rows += [
            [r["brand_id"], r["stage"], r["value"], r["members"], str(r["suppressed"]).lower()]
            for r in data
        ]
    return _csv(rows, f"databank-{kind}-{on.isoformat()}")
