"""The weekly store reports the server e-mails by itself: due from the report hour on Monday
(the store's local time) to the end of Wednesday; each store manager gets each of their stores'
reports once, in their own language, through a real SMTP server (aiosmtpd); one the SMTP server
refused is sent at a later run, and a second run or server sends nothing twice."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.diagnosis.models import ReportDelivery
from newretail.diagnosis.report_schedule import due_week, send_due
from newretail.diagnosis.service import Period
from newretail.tenancy.models import Role
from tests.conftest import Org
from tests.diagnosis.test_weekly_report import MANAGER, Inbox, inbox, load

__all__ = ["inbox"]  # the fixture

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = Period(date(2026, 11, 9), date(2026, 11, 15))
MONDAY_8AM = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """SQLite only: the report's services are tested on PostgreSQL in their own tests; the
    claim is one insert of a unique row, as every other insert_once."""
    return sqlite_url


def test_the_report_is_due_from_the_hour_on_monday_to_the_end_of_wednesday() -> None:
    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)

    assert due_week(at(15, 23, 59), 8) is None  # Sunday: the week is not over
    assert due_week(at(16, 7, 59), 8) is None
    assert due_week(at(16, 8), 8) == WEEK
    assert due_week(at(18, 23, 59), 8) == WEEK
    assert due_week(at(19, 0), 8) is None  # Thursday: too late to be news
    assert due_week(at(16, 0), 0) == WEEK


def _manager(client: TestClient, org: Org, store: uuid.UUID, locale: str | None) -> str:
    address = MANAGER.format(uuid.uuid4().hex[:8])
    created = client.post(
        "/api/v1/users",
        headers=org.auth(),
        json={
            "email": address,
            "password": "correct horse battery",
            "role": Role.STORE_MANAGER,
            "store_ids": [str(store)],
            "locale": locale,
        },
    )
    assert created.status_code == 201, created.text
    return address


def _deliveries(container: Container, org: Org) -> list[tuple[str, str, str, int]]:
    with session_scope(container.sessions, org.id) as session:
        rows = session.scalars(select(ReportDelivery).order_by(ReportDelivery.email)).all()
        return [(r.email, r.locale, r.state, r.attempts) for r in rows]


def test_each_manager_gets_their_stores_reports_once_in_their_language(
    client: TestClient,
    container: Container,
    org: Org,
    inbox: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received, port = inbox
    load(container, org)
    shop, counter = org.store_ids
    english = _manager(client, org, shop, None)  # the organisation's language: English
    chinese = _manager(client, org, shop, "zh-CN")
    both = _manager(client, org, counter, "en")
    settings = container.settings
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", port)
    monkeypatch.setattr(settings, "smtp_starttls", False)

    def run(at: datetime) -> int:
        # this organisation only: the test database holds other tests' organisations
        return send_due(container.sessions, container.warehouse, settings, at, {org.id})

    def mails() -> list[tuple[list[str], str]]:
        return sorted((to, str(message["Subject"])) for to, message in received.messages())

    assert run(MONDAY_8AM) == 0  # no report hour set: no schedule
    monkeypatch.setattr(settings, "weekly_report_hour", 8)
    assert run(MONDAY_8AM - timedelta(minutes=1)) == 0
    assert mails() == []

    # the SMTP server refuses (nothing listens on the port): recorded, tried again later
    monkeypatch.setattr(settings, "smtp_port", 9)
    assert run(MONDAY_8AM) == 0
    assert _deliveries(container, org) == sorted(
        [(english, "en", "failed", 1), (chinese, "zh-CN", "failed", 1), (both, "en", "failed", 1)]
    )
    monkeypatch.setattr(settings, "smtp_port", port)
    assert run(MONDAY_8AM + timedelta(minutes=10)) == 3
    assert run(MONDAY_8AM + timedelta(minutes=20)) == 0  # sent: never twice
    assert _deliveries(container, org) == sorted(
        [(english, "en", "sent", 2), (chinese, "zh-CN", "sent", 2), (both, "en", "sent", 2)]
    )
    assert mails() == sorted(
        [
            ([english], "Weekly report: Store 0, 2026-11-09 – 2026-11-15"),
            ([chinese], "门店周报：Store 0，2026-11-09 至 2026-11-15"),
            ([both], "Weekly report: Store 1, 2026-11-09 – 2026-11-15"),
        ]
    )
    # the next Monday brings the next week's reports
    assert run(MONDAY_8AM + timedelta(days=7)) == 3
    assert len(mails()) == 6
