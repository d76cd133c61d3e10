"""The daily snapshot job (run by newretail.jobs): yesterday's AIPL snapshot per organisation."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import scope_session, session_scope
from newretail.databank import service
from newretail.databank.schemas import SnapshotCreate
from newretail.databank.snapshots import SnapshotMode, materialised_dates, organisation_key
from newretail.tenancy.models import Organization, Role
from newretail.tenancy.permissions import Principal, PrincipalKind

log = logging.getLogger(__name__)


def yesterday_utc() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def snapshot_all(container: Container, on: date) -> int:
    """Materialise `on` for every organisation that lacks it; returns how many were made."""
    with session_scope(container.sessions) as session:
        organisations = list(scope_session(session, None).scalars(select(Organization.id)))
    made = 0
    for organization_id in organisations:
        con = container.warehouse.connection()
        with container.warehouse.lock:
            done = on in materialised_dates(con, organisation_key(organization_id), on, on)
        if done:
            continue
        try:
            with session_scope(container.sessions, organization_id) as session:
                principal = Principal.for_role(
                    PrincipalKind.USER, organization_id, Role.OWNER, actor="daily snapshot job"
                )
                service.run_snapshots(
                    session,
                    principal,
                    container.warehouse,
                    SnapshotCreate(date=on, mode=SnapshotMode.AUTO),
                )
            made += 1
        except Exception:  # one organisation's failure does not stop the others
            log.exception("AIPL snapshot of %s for %s failed", on, organization_id)
    return made
