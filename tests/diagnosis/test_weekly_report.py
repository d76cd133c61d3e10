"""The weekly store report on a hand-built ledger: its figures are the gmv-change, causes and
tiers services' (exact cells of the HTML), the HTML is self-contained, the PDF carries the
store's name and, in Chinese, a Noto CJK font; it is e-mailed through a real SMTP server
(aiosmtpd) to the store's managers; the API, the console and the CLI refuse bad input by
field, in English and Chinese."""

from __future__ import annotations

import email
import json
import re
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from email.policy import default as default_policy
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.core.i18n import translator
from newretail.core.settings import Settings
from newretail.diagnosis import cause_schemas, causes, report, service
from newretail.diagnosis.decomposition import Factor
from newretail.diagnosis.errors import InvalidReportInput
from newretail.tenancy.models import Role
from tests.conftest import CI, TEST_SECRET, Org, api_key_for, console_login, store_args
from tests.diagnosis.test_gmv_change import _owner
from tests.diagnosis.test_metrics import _event, _load

runner = CliRunner()
WEEK = (date(2026, 11, 9), date(2026, 11, 15))  # Monday to Sunday
PREVIOUS = (date(2026, 11, 2), date(2026, 11, 8))
LAST_YEAR = (date(2025, 11, 10), date(2025, 11, 16))  # 52 weeks earlier, Monday to Sunday
# Shanghai noon on a Wednesday of each week
NOW_AT, PREVIOUS_AT, LAST_YEAR_AT = "2026-11-11T04:00", "2026-11-04T04:00", "2025-11-12T04:00"
NOW_EVENING_AT = "2026-11-11T11:00"  # 19:00 in Shanghai
MANAGER = "manager-{}@example.com"

needs_poppler = pytest.mark.skipif(
    not CI and shutil.which("pdftotext") is None,
    reason="poppler-utils not installed (scripts/install-browser.sh)",
)


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The operational store is SQLite only here: the report reads the DuckDB warehouse, and
    the services it shows are tested on PostgreSQL in their own tests."""
    return sqlite_url


def ledger(org: Org) -> list[dict[str, Any]]:
    """Store 0 (a shop, people counter): the worked example of docs/diagnosis.md from the
    previous week to this one — visitors 1,000 → 1,200, buyers 50 → 54, GMV ¥5,000.00 →
    ¥5,940.00, 24 of the buyers at 19:00 rather than noon — and 800 visitors, 40 buyers,
    ¥4,000.00 in the same week last year. Store 1 (a counter) sells in the previous week only."""
    org_id = str(org.id)
    shop, counter = (str(s) for s in org.store_ids)

    def buys(store: str, at: str, count: int, amount: str) -> list[dict[str, Any]]:
        return [
            _event(org_id, "purchase", at, store, amount=amount, order_id=f"o-{uuid.uuid4()}")
            for _ in range(count)
        ]

    return [
        _event(org_id, "footfall", LAST_YEAR_AT, shop, count=800),
        *buys(shop, LAST_YEAR_AT, 40, "100.00"),
        _event(org_id, "footfall", PREVIOUS_AT, shop, count=1000),
        *buys(shop, PREVIOUS_AT, 50, "100.00"),
        _event(org_id, "footfall", NOW_AT, shop, count=1200),
        *buys(shop, NOW_AT, 30, "110.00"),
        *buys(shop, NOW_EVENING_AT, 24, "110.00"),
        _event(org_id, "footfall", PREVIOUS_AT, counter, count=300),
        *buys(counter, PREVIOUS_AT, 10, "80.00"),
    ]


def load(container: Container, org: Org) -> None:
    with container.warehouse.lock:
        _load(container.warehouse.connection(), ledger(org))


def cell(html: str, marker: str) -> list[str]:
    """The cells of the row `marker` (an attribute like data-figure="gmv"), as text."""
    found = re.search(rf"<tr[^>]*{marker}[^>]*>(.*?)</tr>", html, re.S)
    assert found, f"no row {marker}"
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", found.group(1), re.S)
    return [unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip()) for c in cells]


def element(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:div|p|span|h1|ul)>', html, re.S)
    assert found, f"no element {element_id}"
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip())


def pdf_text(document: bytes, tmp_path: Path) -> tuple[str, str]:
    """The PDF's text (pdftotext) and its fonts (pdffonts)."""
    path = tmp_path / f"report-{uuid.uuid4().hex}.pdf"
    path.write_bytes(document)
    text = subprocess.run(
        [shutil.which("pdftotext") or "pdftotext", "-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    fonts = subprocess.run(
        [shutil.which("pdffonts") or "pdffonts", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return text, fonts


def test_the_report_is_the_services_answers_for_the_week(container: Container, org: Org) -> None:
    load(container, org)
    owner = _owner(org)
    with session_scope(container.sessions, org.id) as session:
        found = report.weekly_report(session, owner, container.warehouse, "S0", date(2026, 11, 12))
        shop_only = _owner(org, [org.store_ids[0]])
        change = service.gmv_change(session, shop_only, container.warehouse, *WEEK, *PREVIOUS)
        year = service.gmv_change(session, shop_only, container.warehouse, *WEEK, *LAST_YEAR)
        why = causes.store_causes(session, owner, container.warehouse, "S0", *WEEK, *PREVIOUS)
    assert (found.week.first, found.week.last) == WEEK
    assert (found.previous_week.period.first, found.previous_week.period.last) == PREVIOUS
    assert found.last_year is not None
    assert (found.last_year.period.first, found.last_year.period.last) == LAST_YEAR
    assert found.locale == "en" and found.time_zone == "Asia/Shanghai"
    [shop] = change.stores
    split = change.decomposition.stores[service.store_key(shop)]
    assert found.figures == shop.comparison and found.previous_week.figures == shop.base
    assert found.previous_week.decomposition == split
    assert dict(split.parts) == {
        Factor.VISITORS: Decimal("994.84"),
        Factor.CONVERSION: Decimal("-574.90"),
        Factor.ORDER_VALUE: Decimal("520.06"),
    }
    [shop_year] = year.stores
    assert found.last_year.decomposition == year.decomposition.stores[service.store_key(shop_year)]
    assert found.causes == why

    html = report.html(found)
    assert element(html, "report-store") == "Store 0"
    assert element(html, "report-week") == (
        "Week 46: Monday 2026-11-09 – Sunday 2026-11-15 · local days, Asia/Shanghai (UTC+08:00)"
    )
    assert element(html, "card-gmv") == "¥5,940.00"
    assert element(html, "card-visitors") == "1,200"
    assert element(html, "card-conversion") == "4.50%"
    assert element(html, "card-order-value") == "¥110.00"
    assert cell(html, 'data-figure="gmv"') == [
        "GMV",
        "¥5,940.00",
        "¥5,000.00",
        "+¥940.00 (+18.80%)",
        "¥4,000.00",
        "+¥1,940.00 (+48.50%)",
    ]
    assert cell(html, 'data-figure="visitors"') == [
        "Visitors",
        "1,200",
        "1,000",
        "+200 (+20.00%)",
        "800",
        "+400 (+50.00%)",
    ]
    assert cell(html, 'data-figure="conversion"') == [
        "Paying conversion",
        "4.50%",
        "5.00%",
        "-0.50 pts",
        "5.00%",
        "-0.50 pts",
    ]
    assert cell(html, 'data-figure="order_value"')[1:4] == [
        "¥110.00",
        "¥100.00",
        "+¥10.00 (+10.00%)",
    ]
    assert cell(html, 'data-factor="visitors"')[:2] == ["Visitors", "+¥994.84"]
    assert cell(html, 'data-factor="conversion"')[:2] == ["Conversion", "-¥574.90"]
    assert cell(html, 'data-factor="order_value"')[:2] == ["Order value", "+¥520.06"]
    assert cell(html, 'data-factor="change"')[:2] == ["GMV change", "+¥940.00"]
    parts = year.decomposition.stores[service.store_key(shop_year)].parts
    assert element(html, "split-last-year") == (
        "Against the same week last year: +¥1,940.00 = visitors "
        f"{report.yuan(parts[Factor.VISITORS], signed=True)}, conversion "
        f"{report.yuan(parts[Factor.CONVERSION], signed=True)}, order value "
        f"{report.yuan(parts[Factor.ORDER_VALUE], signed=True)}."
    )
    # the causes service's causes, with their amounts
    assert why.causes
    sentences = cause_schemas.store_causes_read(why, translator("en")).causes
    shown = [cell(html, f'data-cause="{i}"') for i in range(len(sentences))]
    assert shown == [[c.text, report.yuan(c.amount, signed=True)] for c in sentences]
    assert shown[0] == ["conversion at Store 0, 12:00–13:00 (local time): −¥2,835.87", "-¥2,835.87"]

    # the shop is alone in its format: the top tier, its cell too small to show figures
    assert element(html, "peer-tier") == "Tier 7 of 7"
    assert element(html, "next-tier") == "Tier 7 is the top tier."
    # 30 days to 15 November: both weeks
    assert cell(html, 'data-metric="gmv"') == [
        "30-day GMV",
        "¥10,940.00",
        "—",
        "—",
        "not graded: fewer peers than the minimum",
    ]
    assert element(html, "quality") == "No events on 6 days of the week."
    # names, never ids; nothing fetched from elsewhere
    for store_id in org.store_ids:
        assert str(store_id) not in html
    assert "<link" not in html and "src=" not in html and "url(" not in html
    assert "http" not in html.replace('lang="en"', "")

    html = report.html(found, "zh-CN")
    assert element(html, "report-week") == (
        "第 46 周：周一 2026-11-09 至 周日 2026-11-15 · 当地日期，Asia/Shanghai (UTC+08:00)"
    )
    assert cell(html, 'data-figure="conversion"')[3] == "-0.50 个百分点"
    assert cell(html, 'data-factor="change"')[:2] == ["GMV 变化", "+¥940.00"]
    assert element(html, "quality") == "本周有 6 天没有任何事件。"


def test_a_week_not_over_and_other_refusals(container: Container, org: Org) -> None:
    # the page footer's CSS string: Jing'an, not Jing&#39;an, and nothing ends the style
    assert report.css_string("Jing'an </style>") == "Jing\\27 an \\3C /style\\3E "
    assert report.week_of(date(2026, 11, 15)) == service.Period(*WEEK)
    assert report.report_week(None, date(2026, 11, 16)) == service.Period(*WEEK)
    assert report.report_week(None, date(2026, 11, 22)) == service.Period(*WEEK)
    with pytest.raises(InvalidReportInput) as refused:
        report.report_week(date(2026, 11, 20), date(2026, 11, 22))
    assert refused.value.field == "week"
    assert str(refused.value) == "the week 2026-11-16 – 2026-11-22 has not ended yet (local days)"
    with pytest.raises(InvalidReportInput) as refused:
        report.check_format("docx")
    assert refused.value.field == "format"


class Inbox:
    """What a real SMTP server (aiosmtpd) received."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[tuple[list[str], EmailMessage]]:
        found = []
        for envelope in self.envelopes:
            content = envelope.content
            assert isinstance(content, bytes)
            parsed = email.message_from_bytes(content, policy=default_policy)
            assert isinstance(parsed, EmailMessage)
            found.append((list(envelope.rcpt_tos), parsed))
        return found


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd's readiness check needs one given)
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _manager(client: TestClient, org: Org, store: uuid.UUID, locale: str | None = None) -> str:
    address = MANAGER.format(uuid.uuid4().hex[:8])
    created = client.post(
        "/api/v1/users",
        headers=org.auth(),
        json={
            "email": address,
            "password": "correct horse battery",
            "role": Role.STORE_MANAGER,
            "store_ids": [str(store)],
        },
    )
    assert created.status_code == 201, created.text
    return address


@needs_poppler
def test_the_cli_mails_the_store_managers_and_saves_the_files(
    client: TestClient,
    container: Container,
    settings: Settings,
    org: Org,
    inbox: tuple[Inbox, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received, port = inbox
    load(container, org)
    manager = _manager(client, org, org.store_ids[0])
    _manager(client, org, org.store_ids[1])  # the counter's: not a recipient
    container.warehouse.close()  # the command opens the embedded warehouse itself
    for name, value in {
        "SECRET_KEY": TEST_SECRET,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "false",
        "SMTP_FROM": "Operations <ops@example.com>",
    }.items():
        monkeypatch.setenv(f"NEWRETAIL_{name}", value)
    base = [*store_args(settings), "diagnosis", "report", "--org", org.slug, "--store", "S0"]
    pdf, html = tmp_path / "week.pdf", tmp_path / "week.html"
    files = ["--pdf", str(pdf), "--html", str(html)]
    given = ["--email", "a@example.com", "--email", "b@example.com"]
    made = runner.invoke(app, [*base, "--week", "2026-11-09", *files, *given, "--json"])
    assert made.exit_code == 0, made.output
    row = json.loads(made.stdout)
    assert row == {
        "store": "Store 0",
        "store_code": "S0",
        "week": {"first_day": "2026-11-09", "last_day": "2026-11-15"},
        "time_zone": "Asia/Shanghai",
        "locale": "en",
        "gmv": "5940.00",
        "html": str(html),
        "pdf": str(pdf),
        "email": {
            "to": ["a@example.com", "b@example.com"],
            "subject": "Weekly report: Store 0, 2026-11-09 – 2026-11-15",
        },
    }
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert 'id="card-gmv">¥5,940.00<' in html.read_text(encoding="utf-8")
    assert received.messages()[0][0] == ["a@example.com", "b@example.com"]

    # no file and no address: to the store's managers
    sent = runner.invoke(app, [*base, "--week", "2026-11-15"])
    assert sent.exit_code == 0, sent.output
    assert f'e-mailed "Weekly report: Store 0, 2026-11-09 – 2026-11-15" to {manager}' in " ".join(
        sent.stdout.split()
    )
    to, message = received.messages()[1]
    assert to == [manager]
    assert message["To"] == manager and message["From"] == "Operations <ops@example.com>"
    assert message["Subject"] == "Weekly report: Store 0, 2026-11-09 – 2026-11-15"
    body = message.get_body(("plain",))
    assert body is not None and "GMV ¥5,940.00, +¥940.00 against the previous week" in str(
        body.get_content()
    )
    alternative = message.get_body(("html",))
    assert alternative is not None and "¥5,940.00" in str(alternative.get_content())
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "weekly-report-S0-2026-11-09.pdf"
    document = attachment.get_content()
    assert isinstance(document, bytes) and document.startswith(b"%PDF-")
    text, _ = pdf_text(document, tmp_path)
    assert "Store 0" in text and "Weekly store report" in text and "¥5,940.00" in text

    refused = runner.invoke(app, [*base, "--email", "not-an-address"])
    assert refused.exit_code == 2 and "email" in refused.output
    monkeypatch.delenv("NEWRETAIL_SMTP_HOST")
    unset = runner.invoke(app, [*base, "--week", "2026-11-09"])
    assert unset.exit_code == 2 and "configuration_error" in unset.output
    assert "smtp_host" in unset.output
    assert len(received.envelopes) == 2


@needs_poppler
def test_the_api_and_the_console_give_html_and_pdf_in_the_organisations_language(
    client: TestClient,
    container: Container,
    org: Org,
    tmp_path: Path,
    inbox: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load(container, org)
    path = "/api/v1/diagnosis/stores/S0/report"
    answer = client.get(path, params={"week": "2026-11-11"}, headers=org.auth())
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert 'id="card-gmv">¥5,940.00<' in answer.text
    assert 'lang="en"' in answer.text
    # the counter sold in the previous week only: no conversion nor order value this week
    counter = client.get(
        "/api/v1/diagnosis/stores/S1/report", params={"week": "2026-11-11"}, headers=org.auth()
    )
    assert counter.status_code == 200, counter.text
    assert element(counter.text, "card-order-value") == "—"
    assert cell(counter.text, 'data-figure="gmv"') == [
        "GMV",
        "¥0.00",
        "¥800.00",
        "-¥800.00 (-100.00%)",
        "—",
        "—",
    ]
    assert element(counter.text, "quality") == "No events at all this week: the store sent nothing."

    # the organisation speaks Chinese: so does its report
    changed = client.patch(
        "/api/v1/organization", headers=org.auth(), json={"default_locale": "zh-CN"}
    )
    assert changed.status_code == 200, changed.text
    pdf = client.get(path, params={"week": "2026-11-11", "format": "pdf"}, headers=org.auth())
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == (
        'attachment; filename="weekly-report-S0-2026-11-09.pdf"'
    )
    assert pdf.content.startswith(b"%PDF-")
    text, fonts = pdf_text(pdf.content, tmp_path)
    assert "门店周报" in text and "Store 0" in text and "较上周 GMV 变化的构成" in text
    assert "NotoSansCJK" in fonts.replace("-", "").replace(" ", "")

    refusals = [
        ({"week": "2026-13-01"}, 422, "week"),
        ({"week": "2099-11-11"}, 422, "week"),
        ({"format": "docx"}, 422, "format"),
        ({"locale": "fr"}, 422, "locale"),
    ]
    for params, status, field in refusals:
        refused = client.get(path, params=params, headers=org.auth())
        assert refused.status_code == status, (params, refused.text)
        assert field in refused.text, params
    future = client.get(
        path, params={"week": "2099-11-11"}, headers={**org.auth(), "Accept-Language": "zh-CN"}
    ).json()
    assert future["field"] == "week" and future["code"] == "diagnosis_invalid_report"
    assert future["message"] == "2099-11-09 至 2099-11-15 这一周尚未结束（当地日期）"
    missing = client.get("/api/v1/diagnosis/stores/NOPE/report", headers=org.auth())
    assert missing.status_code == 404 and missing.json()["field"] == "store"

    # the server e-mails it through its own SMTP settings
    analyst = api_key_for(client, org, Role.ANALYST)
    refused = client.post(f"{path}/mail", headers=org.auth(analyst), json={})
    assert refused.status_code == 403
    mailed = client.post(f"{path}/mail", headers=org.auth(), json={"emails": ["x@example.com"]})
    assert mailed.status_code == 500 and mailed.json()["field"] == "smtp_host"
    received, port = inbox
    monkeypatch.setattr(container.settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(container.settings, "smtp_port", port)
    monkeypatch.setattr(container.settings, "smtp_starttls", False)
    bad = client.post(f"{path}/mail", headers=org.auth(), json={"emails": ["x@"]})
    assert bad.status_code == 422 and bad.json()["field"] == "emails"
    nobody = client.post(f"{path}/mail", headers=org.auth(), json={"week": "2026-11-11"})
    assert nobody.status_code == 422 and nobody.json()["field"] == "email"
    manager = _manager(client, org, org.store_ids[0])
    mailed = client.post(f"{path}/mail", headers=org.auth(), json={"week": "2026-11-11"})
    assert mailed.status_code == 200, mailed.text
    assert mailed.json() == {
        "store": "Store 0",
        "store_code": "S0",
        "first_day": "2026-11-09",
        "last_day": "2026-11-15",
        "locale": "zh-CN",
        "to": [manager],
        "subject": "门店周报：Store 0，2026-11-09 至 2026-11-15",
    }
    [(to, message)] = received.messages()
    assert to == [manager] and message["Subject"] == "门店周报：Store 0，2026-11-09 至 2026-11-15"

    console_login(client, org.owner_email)
    page = client.get(
        "/console/diagnosis/stores/S0/report", params={"week": "2026-11-11", "format": "pdf"}
    )
    assert page.status_code == 200 and page.content.startswith(b"%PDF-")
    assert "门店周报" in pdf_text(page.content, tmp_path)[0]
    bad = client.get(
        "/console/diagnosis/stores/S0/report",
        params={"week": "11/11"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert bad.status_code == 422 and "不是日期" in bad.text
