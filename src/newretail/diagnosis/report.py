"""The weekly store report a store manager reads (docs/diagnosis.md, "Weekly report"): one
store's local week (Monday to Sunday) — GMV, visitors, conversion and order value against the
week before and the same week a year earlier (52 weeks back, same weekdays) where there is
data; the change split into visitors, conversion and order value (the gmv-change service);
its top causes (the causes service, in its sentences); its peer tier and grades (the tiers
service); and the data-quality flags. In the organisation's language; HTML with its CSS
inline, and PDF.

Nothing is computed here that those services compute: the report is their answers, for one
store and one week, laid out for a reader.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from newretail.core import mail
from newretail.core.errors import NotFound
from newretail.core.i18n import LOCALES, Translate, translator
from newretail.core.localtime import format_local_time, today, zone_label
from newretail.core.money import yuan
from newretail.core.pdf import html_to_pdf
from newretail.core.settings import Settings
from newretail.diagnosis import causes, peers, service
from newretail.diagnosis.cause_schemas import store_causes_read
from newretail.diagnosis.causes import StoreCauses
from newretail.diagnosis.decomposition import Decomposition, Factor, PeriodTotals, decompose
from newretail.diagnosis.errors import InvalidReportInput
from newretail.diagnosis.metrics import Metrics
from newretail.diagnosis.peer_schemas import store_peer_read
from newretail.diagnosis.peers import PeerReport, StorePeers
from newretail.diagnosis.service import Period
from newretail.diagnosis.tiers import TierConfig
from newretail.tenancy import service as tenancy_service
from newretail.tenancy import users as tenancy_users
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse

WEEK_DAYS = 7
YEAR_WEEKS = 52
TOP_CAUSES = 5
FORMATS = ("html", "pdf")


@dataclass(frozen=True)
class Comparison:
    """The store's figures in a week it is compared with, and the change split by factor."""

    name: str  # previous_week | last_year
    period: Period
    figures: Metrics
    decomposition: Decomposition  # from the comparison week to the report's week


@dataclass(frozen=True)
class WeeklyReport:
    """One store's week, in the organisation's language."""

    organisation: str
    locale: str
    store: service.StoreRef
    city: str | None
    time_zone: str
    week: Period
    figures: Metrics
    previous_week: Comparison  # always shown (figures zero when the store had none)
    last_year: Comparison | None  # None: no figures for the store that week
    causes: StoreCauses  # the week against the week before
    peers: StorePeers | None  # None: the store is not tiered (a warehouse, closed)
    peer_report: PeerReport  # the 30 local days to the week's Sunday
    generated_at: datetime


def week_of(day: date) -> Period:
    """The Monday-to-Sunday week holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=WEEK_DAYS - 1))


def report_week(day: date | None, today_local: date) -> Period:
    """The week holding `day` (default: the last complete week before `today_local`); a week
    that has not ended is refused naming `week`."""
    week = week_of(day or today_local - timedelta(days=WEEK_DAYS))
    if week.last >= today_local:
        raise InvalidReportInput(
            "week_not_over",
            field="week",
            first=week.first.isoformat(),
            last=week.last.isoformat(),
        )
    return week


def check_format(value: str) -> str:
    """`html` or `pdf`; refused naming `format` otherwise."""
    if value not in FORMATS:
        raise InvalidReportInput("format", field="format", value=value)
    return value


def _one_store(principal: Principal, store_id: Any) -> Principal:
    """The principal narrowed to one store, so the gmv-change service reads only it."""
    return dataclasses.replace(principal, store_ids=frozenset({store_id}))


def _comparison(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    week: Period,
    name: str,
    against: Period,
) -> tuple[Metrics, Comparison]:
    found = service.gmv_change(
        session, principal, warehouse, week.first, week.last, against.first, against.last
    )
    for change in found.stores:
        if change.store.id is not None:
            split = found.decomposition.stores[service.store_key(change)]
            return change.comparison, Comparison(name, against, change.base, split)
    nothing = PeriodTotals(0, 0, Decimal("0.00"))
    return Metrics(), Comparison(name, against, Metrics(), decompose(nothing, nothing))


def weekly_report(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    store_reference: str,
    day: date | None = None,
    tiers_config: TierConfig | None = None,
    locale: str | None = None,
    tiers: PeerReport | None = None,
) -> WeeklyReport:
    """The weekly report of a store (by code or id) for the local week holding `day` (default:
    the last complete week of the store's zone), in `locale` (default: the organisation's);
    `tiers`: the organisation's peer tiers of the 30 days to the week's Sunday when already
    read (a schedule reporting every store reads them once)."""
    principal.require(Permission.READ)
    store = tenancy_service.visible_store(session, principal, store_reference)
    organisation = tenancy_service.get_organization(session, principal.organization_id)
    if locale is not None and locale not in LOCALES:
        raise InvalidReportInput("locale", field="locale", value=locale)
    language = locale or (
        organisation.default_locale if organisation.default_locale in LOCALES else "en"
    )
    t = translator(language)
    week = report_week(day, today(store.time_zone))
    previous = Period(week.first - timedelta(days=WEEK_DAYS), week.first - timedelta(days=1))
    year_ago = Period(
        week.first - timedelta(weeks=YEAR_WEEKS), week.last - timedelta(weeks=YEAR_WEEKS)
    )
    narrowed = _one_store(principal, store.id)
    figures, against_previous = _comparison(
        session, narrowed, warehouse, week, "previous_week", previous
    )
    _, against_last_year = _comparison(session, narrowed, warehouse, week, "last_year", year_ago)
    found_causes = causes.store_causes(
        session,
        principal,
        warehouse,
        str(store.id),
        week.first,
        week.last,
        previous.first,
        previous.last,
        other_label=t("diagnosis.cause.other"),
    )
    if tiers is None or tiers.period.last != week.last:
        tiers = peers.peer_tiers(session, principal, warehouse, tiers_config, last_day=week.last)
    try:
        peer: StorePeers | None = tiers.store(store.code)
    except NotFound:
        peer = None
    return WeeklyReport(
        organisation=organisation.name,
        locale=language,
        store=service.StoreRef(store.id, store.code, store.name, store.channel_type),
        city=store.city,
        time_zone=store.time_zone,
        week=week,
        figures=figures,
        previous_week=against_previous,
        last_year=against_last_year if against_last_year.figures.store_days else None,
        causes=found_causes,
        peers=peer,
        peer_report=tiers,
        generated_at=datetime.now(UTC),
    )


# --- words ----------------------------------------------------------------------------------


def percent(value: float | None, signed: bool = False) -> str:
    """`4.50%`, `+18.80%` with `signed`; None is a dash."""
    if value is None:
        return "—"
    return f"{value * 100:+.2f}%" if signed else f"{value * 100:.2f}%"


def change_ratio(now: Decimal | int | float | None, before: Decimal | int | float | None) -> str:
    """The relative change from `before` to `now` (`+18.80%`); a dash without a positive base."""
    if now is None or before is None or before <= 0:
        return "—"
    return percent(float(now) / float(before) - 1, signed=True)


def order_value(figures: Metrics) -> Decimal | None:
    """GMV ÷ buyers to the cent, as the gmv-change API gives it."""
    value = figures.order_value_per_buyer
    return None if value is None else value.quantize(Decimal("0.01"))


def quality_texts(report: WeeklyReport, t: Translate) -> list[str]:
    """The data-quality flags of the week, in words."""
    texts = []
    for comparison in (report.previous_week, report.last_year):
        if comparison is None:
            continue
        names = {
            "base": t(f"diagnosis.report.week.{comparison.name}"),
            "comparison": t("diagnosis.report.week.this_week"),
        }
        for flag in sorted(comparison.decomposition.flags, key=lambda f: (f.period, f.issue)):
            text = t(f"diagnosis.flag.{flag.issue}", period=names[flag.period])
            if text not in texts:
                texts.append(text)
    why = store_causes_read(report.causes, t)
    texts.extend(q.text for q in why.data_quality if q.period == "comparison")
    missing = WEEK_DAYS - report.figures.store_days
    if 0 < missing < WEEK_DAYS:
        texts.append(t("diagnosis.report.days_without_events", count=missing))
    elif missing == WEEK_DAYS:
        texts.append(t("diagnosis.report.no_events"))
    return texts


def subject(report: WeeklyReport) -> str:
    """The e-mail's subject: the store and the week."""
    t = translator(report.locale)
    return t(
        "diagnosis.report.subject",
        store=report.store.name,
        first=report.week.first.isoformat(),
        last=report.week.last.isoformat(),
    )


# --- HTML, PDF, e-mail ----------------------------------------------------------------------

_templates = Environment(
    loader=PackageLoader("newretail.diagnosis", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.filters["yuan"] = yuan
_templates.filters["percent"] = percent


def css_string(text: str) -> Markup:
    """Text inside a CSS string ("…" in the page footer's `content`): backslash, quotes and
    angle brackets escaped as CSS escapes (HTML escaping would show `&#39;` in the PDF)."""
    escaped = "".join(f"\\{ord(c):X} " if c in "\\\"<>&'" or ord(c) < 32 else c for c in text)
    # every character that could end the string, the rule or the style element is escaped
    return Markup(escaped)  # noqa: S704


_templates.filters["css_string"] = css_string


def html(report: WeeklyReport, locale: str | None = None) -> str:
    """The report as one self-contained HTML page (CSS inline, no external resource), in
    `locale` (default: the report's)."""
    language = locale or report.locale
    t = translator(language)
    split = report.previous_week.decomposition
    largest = max([abs(split.parts[f]) for f in Factor] + [abs(split.unattributed), Decimal(1)])
    return _templates.get_template("diagnosis/weekly_report.html").render(
        r=report,
        t=t,
        locale=language,
        peer=None if report.peers is None else store_peer_read(report.peers, report.peer_report, t),
        peer_period=report.peer_report.period,
        factors=list(Factor),
        zone=zone_label(report.time_zone),
        iso_week=report.week.first.isocalendar().week,
        generated=format_local_time(report.generated_at, report.time_zone),
        causes=store_causes_read(report.causes, t).causes[:TOP_CAUSES],
        quality=quality_texts(report, t),
        largest=largest,
        change_ratio=change_ratio,
        order_value=order_value,
    )


def pdf(report: WeeklyReport, locale: str | None = None) -> bytes:
    """The report as PDF (WeasyPrint; Chinese in Noto Sans CJK)."""
    return html_to_pdf(html(report, locale))


def file_name(report: WeeklyReport, extension: str) -> str:
    """`weekly-report-S0-2026-11-09.pdf`."""
    return f"weekly-report-{report.store.code}-{report.week.first.isoformat()}.{extension}"


def recipients(
    session: Session, principal: Principal, report: WeeklyReport, given: Sequence[str]
) -> list[str]:
    """The addresses given (each checked), else the store's managers' (users whose grant
    covers the store); refused naming `email` when there is nobody to send to."""
    if given:
        return [mail.checked_address(address) for address in given]
    if report.store.id is None:
        raise InvalidReportInput("no_recipients", field="email", store=report.store.name)
    found = [user.email for user in tenancy_users.store_users(session, principal, report.store.id)]
    if not found:
        raise InvalidReportInput("no_recipients", field="email", store=report.store.name)
    return found


def send(
    settings: Settings,
    report: WeeklyReport,
    to: Sequence[str],
    document: bytes | None = None,
    page: str | None = None,
) -> EmailMessage:
    """E-mail the report: a short text, the HTML report as its alternative, the PDF attached
    (`document` and `page` when already made), through the configured SMTP server. Returns
    the message sent."""
    t = translator(report.locale)
    page = page or html(report)
    document = document or html_to_pdf(page)
    text = t(
        "diagnosis.report.mail_text",
        store=report.store.name,
        first=report.week.first.isoformat(),
        last=report.week.last.isoformat(),
        gmv=yuan(report.figures.gmv),
        change=yuan(report.previous_week.decomposition.change, signed=True),
    )
    message = mail.message(
        settings.smtp_from,
        list(to),
        subject(report),
        text,
        page,
        [mail.Attachment(file_name(report, "pdf"), document, "application/pdf")],
    )
    mail.send(settings, message)
    return message


@dataclass(frozen=True)
class Sent:
    """A report e-mailed: to whom, with which subject."""

    report: WeeklyReport
    to: list[str]
    subject: str


def mail_report(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    settings: Settings,
    store_reference: str,
    day: date | None = None,
    addresses: Sequence[str] = (),
    locale: str | None = None,
) -> Sent:
    """Make a store's weekly report and e-mail it to the addresses given, else to the store's
    managers (the store, the addresses and the SMTP server are checked before the report is
    made)."""
    # sending is operating the store (owner, admin, its manager), not reading: an analyst's or
    # a marketer's key may download the report but not have the server e-mail it
    principal.require(Permission.EDIT_STORES)
    tenancy_service.visible_store(
        session, principal, store_reference
    )  # a store not yours: 404 first
    checked = [mail.checked_address(address, field="emails") for address in addresses]
    mail.require_server(settings)
    found = weekly_report(
        session,
        principal,
        warehouse,
        store_reference,
        day,
        peers.configured(settings),
        locale,
    )
    to = recipients(session, principal, found, checked)
    message = send(settings, found, to)
    return Sent(found, to, str(message["Subject"]))
