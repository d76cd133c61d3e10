"""The server's background jobs, across domains (intervals come from the settings)."""

from __future__ import annotations

import threading
from collections import Counter

import httpx

from newretail.audiences.tasks import refresh_due
from newretail.bootstrap import Container
from newretail.core.database import scope_session, session_scope, utcnow
from newretail.core.jobs import Job
from newretail.databank.tasks import snapshot_all
from newretail.diagnosis import report_schedule
from newretail.events import retention
from newretail.events.outbox import relay_once
from newretail.marketing import coupons
from newretail.members import points, tiers
from newretail.privacy import erasure
from newretail.reach import contact_caps, sender
from newretail.reach.secret_box import SecretBox

REPORT_CHECK_SECONDS = 600  # the weekly reports go within 10 minutes of their hour


def relay_outbox(container: Container, stopping: threading.Event) -> int:
    """Publish committed commerce facts to the warehouse, a batch at a time until shutdown."""
    total = 0
    while not stopping.is_set() and (
        published := relay_once(container.sessions, container.warehouse)
    ):
        total += published
    return total


def member_maintenance(container: Container, stopping: threading.Event) -> tuple[int, int, int]:
    """Unlock points past the return window, expire points, review tiers due for review."""
    with session_scope(container.sessions) as session:
        unlocked = points.release_locked_points(session)
        expired = points.expire_points(session)
        reviewed = tiers.review_tiers(session)
    return unlocked, expired, reviewed


def event_retention(container: Container, stopping: threading.Event) -> Counter[str]:
    """Delete every organisation's events and failed events past their retention periods."""
    return retention.apply_everywhere(container)


def coupon_expiry(container: Container, stopping: threading.Event) -> int:
    """Expire unused coupons past their validity; free holds that lapsed."""
    with session_scope(container.sessions) as session:
        return coupons.expire_due(scope_session(session, None), "expiry job")


def daily_snapshots(container: Container, stopping: threading.Event) -> int:
    """Materialise the missing recent AIPL snapshots (local days) of every organisation."""
    return snapshot_all(container)


def scheduled_audiences(container: Container, stopping: threading.Event) -> int:
    """Refresh the audiences whose scheduled refresh time has come."""
    return refresh_due(container, stopping=stopping)


def identity_repair(container: Container, stopping: threading.Event) -> int:
    """Move the warehouse events of merges whose warehouse update a crash interrupted."""
    return container.identity.repair_pending_moves()


def erasure_warehouse(container: Container, stopping: threading.Event) -> int:
    """Finish the warehouse step of erasures that a failure left pending."""
    return erasure.finish_pending(container.sessions, container.warehouse)


def reach_counter_retention(container: Container, stopping: threading.Event) -> int:
    """Delete the reach contact counters whose days, weeks and re-entry windows are over."""
    with session_scope(container.sessions) as session:
        return contact_caps.purge_stale(scope_session(session, None), utcnow())


def webhook_sender(container: Container, stopping: threading.Event) -> int:
    """Send the due webhook deliveries of every organisation, a batch at a time."""
    box, sessions = SecretBox.from_settings(container.settings), container.sessions
    total = 0
    made: list[httpx.Client] = []  # a client only once a delivery is due

    def client() -> httpx.Client:
        if not made:
            made.append(sender.new_client())
        return made[0]

    try:
        while not stopping.is_set() and (sent := sender.deliver_due(sessions, box, client)):
            total += sent
    finally:
        for opened in made:
            opened.close()
    return total


def weekly_reports(container: Container, stopping: threading.Event) -> int:
    """E-mail the store managers the weekly store reports that are due."""
    return report_schedule.send_due(container.sessions, container.warehouse, container.settings)


def server_jobs(container: Container) -> list[Job[Container]]:
    settings = container.settings
    return [
        Job("outbox-relay", settings.outbox_relay_seconds, relay_outbox),
        Job("member-maintenance", settings.maintenance_seconds, member_maintenance),
        Job("coupon-expiry", settings.maintenance_seconds, coupon_expiry),
        Job("event-retention", settings.maintenance_seconds, event_retention),
        Job("databank-daily-snapshots", settings.maintenance_seconds, daily_snapshots),
        Job("audience-refresh", min(settings.maintenance_seconds, 300), scheduled_audiences),
        Job("identity-repair", min(settings.maintenance_seconds, 60), identity_repair),
        Job("erasure-warehouse", min(settings.maintenance_seconds, 60), erasure_warehouse),
        Job("webhook-sender", settings.webhook_send_seconds, webhook_sender),
        Job("reach-counter-retention", settings.maintenance_seconds, reach_counter_retention),
        Job(
            "weekly-reports",
            REPORT_CHECK_SECONDS if settings.weekly_report_hour is not None else 0,
            weekly_reports,
        ),
    ]
