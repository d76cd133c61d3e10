"""How long events are kept: the organisation's retention settings and their application.

An organisation sets a default period for its warehouse events (null: kept), overrides per
event type, and a period for its failed (rejected) events (null: the server's default,
NEWRETAIL_FAILED_EVENT_RETENTION_DAYS). The server's `event-retention` job applies them to
every organisation; `apply_retention` deletes the events whose time (`ts`) is more than the
period before the run, on the DuckDB or PostgreSQL warehouse alike, deletes the failed
events received more than their period ago, and records what it deleted per event type.

Materialised results that summarise older days (Data Bank snapshots, audience memberships)
are not deleted: they hold no event.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newretail.core.database import scope_session, session_scope, utcnow
from newretail.events import schemas
from newretail.events.models import EventRetention, EventRetentionRun, FailedEvent
from newretail.stores import Stores
from newretail.tenancy.models import Organization
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import EVENT_TABLE, Warehouse
from newretail.warehouse.sql import fetch_rows, run_sql

RUNS_SHOWN = 10


def _settings(session: Session) -> EventRetention | None:
    return session.scalars(select(EventRetention)).one_or_none()


def read_retention(
    session: Session, principal: Principal, server_failed_days: int
) -> schemas.RetentionRead:
    """The organisation's retention settings and its latest runs."""
    principal.require(Permission.READ)
    row = _settings(session)
    runs = session.scalars(
        select(EventRetentionRun).order_by(EventRetentionRun.started_at.desc()).limit(RUNS_SHOWN)
    )
    failed_days = None if row is None else row.failed_days
    return schemas.RetentionRead(
        default_days=None if row is None else row.default_days,
        type_days=dict(sorted((row.type_days if row is not None else {}).items())),
        failed_days=failed_days,
        failed_days_applied=server_failed_days if failed_days is None else failed_days,
        runs=[schemas.RetentionRunRead.model_validate(run) for run in runs],
    )


def update_retention(
    session: Session, principal: Principal, data: schemas.RetentionUpdate
) -> EventRetention:
    """Replace the organisation's retention settings (owners and admins)."""
    principal.require(Permission.MANAGE_ORGANIZATION)
    row = _settings(session)
    if row is None:
        row = EventRetention(organization_id=principal.organization_id)
        session.add(row)
    row.default_days = data.default_days
    row.type_days = dict(sorted(data.type_days.items()))
    row.failed_days = data.failed_days
    row.updated_at = utcnow()
    session.flush()
    return row


def _instant(at: datetime) -> str:
    return f"CAST('{at.isoformat()}' AS TIMESTAMP WITH TIME ZONE)"


def expired_events(
    organization_id: str, default_days: int | None, type_days: dict[str, int], now: datetime
) -> str | None:
    """The SQL condition of the organisation's events past their period (None: none are).

    Type names match events.taxonomy's TYPE_NAME_PATTERN (checked by the schema), so they
    are quoted as they are."""
    clauses = [
        f"(type = '{name}' AND ts < {_instant(now - timedelta(days=days))})"
        for name, days in sorted(type_days.items())
    ]
    if default_days is not None:
        others = ", ".join(f"'{name}'" for name in sorted(type_days))
        not_overridden = f" AND type NOT IN ({others})" if type_days else ""
        clauses.append(f"(ts < {_instant(now - timedelta(days=default_days))}{not_overridden})")
    if not clauses:
        return None
    return f"organization_id = '{uuid.UUID(organization_id)}' AND ({' OR '.join(clauses)})"


def delete_expired_events(warehouse: Warehouse, condition: str) -> dict[str, int]:
    """Delete the warehouse events matching `condition`; the count deleted per type."""
    with warehouse.lock:
        con: Any = warehouse.connection()
        if con.name == "postgres":  # several servers may load: count what was deleted
            rows = fetch_rows(
                con,
                f'WITH gone AS (DELETE FROM "{EVENT_TABLE}" WHERE {condition} '  # noqa: S608
                "RETURNING type) SELECT type, count(*) FROM gone GROUP BY type",
            )
        else:  # the embedded warehouse: this process is its only writer, under the lock
            rows = fetch_rows(
                con,
                f'SELECT type, count(*) FROM "{EVENT_TABLE}" WHERE {condition} '  # noqa: S608
                "GROUP BY type",
            )
            if rows:
                run_sql(con, f'DELETE FROM "{EVENT_TABLE}" WHERE {condition}')  # noqa: S608
    return {str(name): int(count) for name, count in sorted(rows) if count}


def apply_retention(
    session: Session,
    warehouse: Warehouse,
    organization_id: uuid.UUID,
    server_failed_days: int,
    trigger: str,
    actor: str,
    now: datetime | None = None,
) -> EventRetentionRun:
    """Delete the organisation's events and failed events past their periods and record the
    run (`session` is bound to the organisation; the caller commits). A job run that deleted
    nothing is not recorded (the job runs every NEWRETAIL_MAINTENANCE_SECONDS)."""
    started = now or utcnow()
    row = _settings(session)
    failed_days = server_failed_days if row is None or row.failed_days is None else row.failed_days
    result = session.execute(
        delete(FailedEvent).where(FailedEvent.received_at < started - timedelta(days=failed_days))
    )
    failed_deleted = int(getattr(result, "rowcount", 0) or 0)
    deleted: dict[str, int] = {}
    if row is not None:
        condition = expired_events(
            str(organization_id), row.default_days, dict(row.type_days), started
        )
        if condition is not None:
            deleted = delete_expired_events(warehouse, condition)
    run = EventRetentionRun(
        organization_id=organization_id,
        trigger=trigger,
        actor=actor,
        started_at=started,
        finished_at=utcnow(),
        events_deleted=deleted,
        failed_deleted=failed_deleted,
    )
    if trigger != "job" or deleted or failed_deleted:  # a job run that found nothing: no row
        session.add(run)
        session.flush()
    return run


def run_retention(
    session: Session, principal: Principal, warehouse: Warehouse, server_failed_days: int
) -> EventRetentionRun:
    """Apply the organisation's retention now (owners and admins)."""
    principal.require(Permission.MANAGE_ORGANIZATION)
    return apply_retention(
        session, warehouse, principal.organization_id, server_failed_days, "manual", principal.actor
    )


def apply_everywhere(stores: Stores) -> Counter[str]:
    """The job: apply every organisation's retention, one transaction each; the events
    deleted per type (failed events under `failed`), summed over organisations."""
    with session_scope(stores.sessions) as session:
        organisations = list(scope_session(session, None).scalars(select(Organization.id)))
    total: Counter[str] = Counter()
    for organization_id in organisations:
        with session_scope(stores.sessions) as session:
            run = apply_retention(
                scope_session(session, organization_id),
                stores.warehouse,
                organization_id,
                stores.settings.failed_event_retention_days,
                "job",
                "retention job",
            )
            total.update(run.events_deleted)
            if run.failed_deleted:
                total["failed"] += run.failed_deleted
    return total
