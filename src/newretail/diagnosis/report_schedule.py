"""The weekly store reports the server e-mails by itself (docs/diagnosis.md, "Weekly report").

From `NEWRETAIL_WEEKLY_REPORT_HOUR` on Monday, in each store's local time, until the end of
Wednesday (a server that was down on Monday catches up), every store manager — a user whose
grant covers the store — receives the last week's report of each of their stores, in their own
language (the organisation's when they chose none), HTML with the PDF attached.

Each e-mail goes once: its delivery (store, week, address) is claimed in the operational store
in a transaction of its own before the e-mail is sent, so a restart or a second server does not
send it again. The outcome is recorded afterwards; one the SMTP server refused is tried again at
the next run, up to MAX_ATTEMPTS in all, and a claim left by a server that died while sending
is taken over after STALE_CLAIM.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.database import insert_once, scope_session, session_scope, utcnow
from newretail.core.errors import Unavailable
from newretail.core.i18n import LOCALES
from newretail.core.localtime import to_local
from newretail.core.settings import Settings
from newretail.diagnosis import peers, report
from newretail.diagnosis.models import DeliveryState, ReportDelivery
from newretail.diagnosis.peers import PeerReport
from newretail.diagnosis.service import Period
from newretail.tenancy import service as tenancy_service
from newretail.tenancy import users as tenancy_users
from newretail.tenancy.models import ChannelType, Role, Store, StoreStatus
from newretail.tenancy.permissions import Principal, PrincipalKind
from newretail.warehouse.connection import Warehouse

log = logging.getLogger(__name__)

CATCH_UP_DAYS = 3  # Monday to Wednesday
MAX_ATTEMPTS = 3
STALE_CLAIM = timedelta(minutes=30)
ERROR_CHARS = 500


def due_week(now_local: datetime, hour: int) -> Period | None:
    """The week whose report is due at this local moment: the last complete week, from `hour`
    on Monday until the end of Wednesday; None at any other time."""
    monday = now_local.date() - timedelta(days=now_local.weekday())
    into = (now_local.date() - monday).days
    if into >= CATCH_UP_DAYS or (into == 0 and now_local.hour < hour):
        return None
    return report.week_of(monday - timedelta(days=report.WEEK_DAYS))


@dataclass(frozen=True)
class Due:
    """One report to e-mail: a store's week to one manager, in their language."""

    store_id: uuid.UUID
    week: Period
    email: str
    locale: str


def _claim(session: Session, organization_id: uuid.UUID, due: Due, now: datetime) -> bool:
    """Take the delivery for this server: a new one, one that failed with attempts left, or a
    claim gone stale. False when it was sent, is being sent, or has no attempts left."""
    key = (
        ReportDelivery.store_id == due.store_id,
        ReportDelivery.week_first == due.week.first,
        ReportDelivery.email == due.email,
    )
    row = ReportDelivery(
        organization_id=organization_id,
        store_id=due.store_id,
        week_first=due.week.first,
        email=due.email,
        locale=due.locale,
        state=DeliveryState.SENDING,
        attempts=1,
        updated_at=now,
    )
    found = insert_once(session, row, lambda: session.scalar(select(ReportDelivery).where(*key)))
    if found is row:
        return True
    failed = found.state == DeliveryState.FAILED
    stale = found.state == DeliveryState.SENDING and found.updated_at < now - STALE_CLAIM
    if not (failed or stale) or found.attempts >= MAX_ATTEMPTS:
        return False
    # only one server wins the row as it was read
    taken = session.execute(
        update(ReportDelivery)
        .where(
            ReportDelivery.id == found.id,
            ReportDelivery.state == found.state,
            ReportDelivery.attempts == found.attempts,
        )
        .values(
            state=DeliveryState.SENDING,
            attempts=found.attempts + 1,
            locale=due.locale,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(taken, "rowcount", 0))


def _record(session: Session, due: Due, error: str | None) -> None:
    session.execute(
        update(ReportDelivery)
        .where(
            ReportDelivery.store_id == due.store_id,
            ReportDelivery.week_first == due.week.first,
            ReportDelivery.email == due.email,
        )
        .values(
            state=DeliveryState.FAILED if error else DeliveryState.SENT,
            error=error[:ERROR_CHARS] if error else None,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


def _reported(store: Store) -> bool:
    return store.status != StoreStatus.CLOSED and store.channel_type != ChannelType.WAREHOUSE


def _due(
    session: Session, principal: Principal, default_locale: str, hour: int, now: datetime
) -> list[Due]:
    """The reports due now: each reported store's week to each of its managers."""
    found: list[Due] = []
    stores = tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    for store in stores:
        if not _reported(store):
            continue
        week = due_week(to_local(now, store.time_zone), hour)
        if week is None:
            continue
        for user in tenancy_users.store_users(session, principal, store.id):
            locale = user.locale if user.locale in LOCALES else default_locale
            found.append(Due(store.id, week, user.email, locale))
    return found


def send_due(
    sessions: sessionmaker[Session],
    warehouse: Warehouse,
    settings: Settings,
    now: datetime | None = None,
    only: Collection[uuid.UUID] | None = None,
) -> int:
    """E-mail every report due now, in every organisation (or `only` those); returns how many
    were sent. Does nothing without a report hour or an SMTP server."""
    hour = settings.weekly_report_hour
    if hour is None or not settings.smtp_host:
        return 0
    moment = now or utcnow()
    with session_scope(sessions) as session:
        organisations = [
            (o.id, o.default_locale if o.default_locale in LOCALES else "en")
            for o in tenancy_service.list_organizations(scope_session(session, None))
            if only is None or o.id in only
        ]
    sent = 0
    for organization_id, default_locale in organisations:
        try:
            sent += _send_organisation(
                sessions, warehouse, settings, organization_id, default_locale, hour, moment
            )
        except Exception:  # one organisation's failure does not stop the others
            log.exception("weekly reports of %s failed", organization_id)
    return sent


def _send_organisation(
    sessions: sessionmaker[Session],
    warehouse: Warehouse,
    settings: Settings,
    organization_id: uuid.UUID,
    default_locale: str,
    hour: int,
    now: datetime,
) -> int:
    principal = Principal.for_role(
        PrincipalKind.USER, organization_id, Role.OWNER, actor="weekly report schedule"
    )
    with session_scope(sessions, organization_id) as session:
        planned = _due(session, principal, default_locale, hour, now)
    made: dict[tuple[uuid.UUID, date, str], report.WeeklyReport] = {}
    tiers: dict[date, PeerReport] = {}
    sent = 0
    for due in planned:
        with session_scope(sessions, organization_id) as session:
            if not _claim(session, organization_id, due, now):
                continue
        error: str | None = None
        try:
            key = (due.store_id, due.week.first, due.locale)
            if key not in made:
                with session_scope(sessions, organization_id) as session:
                    if due.week.last not in tiers:
                        tiers[due.week.last] = peers.peer_tiers(
                            session,
                            principal,
                            warehouse,
                            peers.configured(settings),
                            last_day=due.week.last,
                        )
                    made[key] = report.weekly_report(
                        session,
                        principal,
                        warehouse,
                        str(due.store_id),
                        due.week.first,
                        peers.configured(settings),
                        due.locale,
                        tiers=tiers[due.week.last],
                    )
            report.send(settings, made[key], [due.email])
            sent += 1
        except Unavailable as exc:  # the SMTP server did not take it
            error = str(exc)
            log.warning("weekly report to %s not sent: %s", due.email, error)
        with session_scope(sessions, organization_id) as session:
            _record(session, due, error)
    return sent
