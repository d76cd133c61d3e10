"""The daily snapshot job (run by newretail.jobs): each organisation's recent local days.

Every run materialises, per organisation, the days up to its local yesterday that the Data
Bank page reads (PAGE_DAYS) and lack a snapshot: a fresh installation gets its trend and
FAST filled by the server itself, and afterwards only the new day is made.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from newretail.core.database import scope_session, session_scope
from newretail.core.localtime import today
from newretail.databank.backfills import PAGE_DAYS, fill_days, missing_days
from newretail.stores import Stores
from newretail.tenancy.models import Organization, Role
from newretail.tenancy.permissions import Principal, PrincipalKind

log = logging.getLogger(__name__)


def local_yesterday(time_zone: str, now: datetime | None = None) -> date:
    """Yesterday in the zone (the last complete local day)."""
    return today(time_zone, now or datetime.now(UTC)) - timedelta(days=1)


def snapshot_all(container: Stores, on: date | None = None) -> int:
    """Materialise the missing recent days of every organisation (only `on` when given).

    Returns how many snapshots were made.
    """
    with session_scope(container.sessions) as session:
        organisations = list(
            scope_session(session, None).execute(select(Organization.id, Organization.time_zone))
        )
    made = 0
    for organization_id, time_zone in organisations:
        last = on or local_yesterday(time_zone)
        first = last if on is not None else last - timedelta(days=PAGE_DAYS - 1)
        try:
            made += len(_fill(container, organization_id, first, last))
        except Exception:  # one organisation's failure does not stop the others
            log.exception("AIPL snapshots %s … %s for %s failed", first, last, organization_id)
    return made


def _fill(container: Stores, organization_id: uuid.UUID, first: date, last: date) -> list[date]:
    days = missing_days(container.warehouse, organization_id, first, last)
    if days:
        principal = Principal.for_role(
            PrincipalKind.USER, organization_id, Role.OWNER, actor="daily snapshot job"
        )
        fill_days(container.sessions, container.warehouse, principal, days)
    return days
