"""The weekly store report over HTTP: `GET /api/v1/diagnosis/stores/{store}/report` for API
clients and `/console/diagnosis/stores/{store}/report` for the console's downloads — the same
HTML or PDF (docs/diagnosis.md, "Weekly report")."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from newretail.diagnosis import peers, report
from newretail.diagnosis.errors import InvalidReportInput
from newretail.tenancy.dependencies import ContainerDep, CurrentPrincipal, Identity, SessionDep
from newretail.tenancy.permissions import Principal

api_router = APIRouter(prefix="/api/v1/diagnosis", tags=["diagnosis"])
console_router = APIRouter(prefix="/console/diagnosis", include_in_schema=False)

MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
Week = Annotated[
    date | None,
    Query(description="A day of the week (YYYY-MM-DD); default: the last complete local week"),
]
Format = Annotated[str, Query(description="html or pdf")]
Locale = Annotated[
    str | None, Query(description="en or zh-CN; default: the organisation's language")
]


def _answer(
    session: SessionDep,
    principal: Principal,
    container: ContainerDep,
    store: str,
    week: date | None,
    format: str,
    locale: str | None,
) -> Response:
    chosen = report.check_format(format)
    found = report.weekly_report(
        session,
        principal,
        container.warehouse,
        store,
        week,
        peers.configured(container.settings),
        locale,
    )
    name = report.file_name(found, chosen)
    if chosen == "pdf":
        body: bytes | str = report.pdf(found)
        disposition = f'attachment; filename="{name}"'
    else:
        body = report.html(found)
        disposition = f'inline; filename="{name}"'
    return Response(body, media_type=MEDIA[chosen], headers={"Content-Disposition": disposition})


@api_router.get(
    "/stores/{store}/report",
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
def weekly_report(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    store: str,
    week: Week = None,
    format: Format = "html",
    locale: Locale = None,
) -> Response:
    """A store's weekly report (the local week holding `week`, default the last complete one)
    as self-contained HTML or as PDF: GMV, visitors, conversion and order value against the
    week before and the same week last year, the change split by factor, the top causes,
    the peer tier and grades, data-quality flags; in the organisation's language."""
    return _answer(session, principal, container, store, week, format, locale)


class ReportMail(BaseModel):
    """Whom to e-mail which week's report (none given: the store's managers)."""

    model_config = ConfigDict(extra="forbid")

    week: date | None = Field(default=None, description="A day of the week; default: the last")
    emails: list[str] = Field(default_factory=list, max_length=50)
    locale: str | None = None


class ReportMailed(BaseModel):
    """The report e-mailed: the store, its week, to whom, with which subject."""

    store: str
    store_code: str | None
    first_day: date
    last_day: date
    locale: str
    to: list[str]
    subject: str


@api_router.post("/stores/{store}/report/mail", response_model=ReportMailed)
def mail_weekly_report(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    store: str,
    body: ReportMail,
) -> object:
    """E-mail a store's weekly report (text, the HTML, the PDF attached) through the server's
    SMTP settings to the addresses given, else to the store's managers."""
    sent = report.mail_report(
        session,
        principal,
        container.warehouse,
        container.settings,
        store,
        body.week,
        body.emails,
        body.locale,
    )
    return ReportMailed(
        store=sent.report.store.name or "",
        store_code=sent.report.store.code,
        first_day=sent.report.week.first,
        last_day=sent.report.week.last,
        locale=sent.report.locale,
        to=sent.to,
        subject=sent.subject,
    )


@console_router.get("/stores/{store}/report")
def weekly_report_download(
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    store: str,
    week: str = "",
    format: str = "html",
    locale: str = "",
) -> Response:
    """The console's download of a store's weekly report (HTML or PDF)."""
    try:
        day = date.fromisoformat(week) if week else None
    except ValueError as exc:
        raise InvalidReportInput("not_a_day", field="week", value=week) from exc
    return _answer(session, identity.principal, container, store, day, format, locale or None)
