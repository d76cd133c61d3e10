"""The scheduled refresh job (run by newretail.jobs): audiences whose refresh time has come."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import select

from newretail.audiences import refreshing
from newretail.audiences import rules as r
from newretail.audiences.conditions import SavedAudience
from newretail.audiences.models import Audience
from newretail.core.database import scope_session, session_scope, utcnow
from newretail.stores import Stores
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind

log = logging.getLogger(__name__)


def _references(rules: dict[str, object]) -> int:
    try:
        found = r.conditions(r.parse_rules(rules))
    except r.RuleError:
        return 0
    return sum(isinstance(c.condition, SavedAudience) for c in found)


def refresh_due(
    container: Stores, now: datetime | None = None, stopping: threading.Event | None = None
) -> int:
    """Refresh every scheduled audience whose time has come; returns how many were refreshed.

    Audiences made of other saved audiences go after those without references.
    """
    moment = now or utcnow()
    with session_scope(container.sessions) as session:
        due = [
            (a.organization_id, a.id, _references(a.rules))
            for a in scope_session(session, None).scalars(
                select(Audience).where(
                    Audience.refresh_hours.is_not(None),
                    Audience.next_refresh_at.is_not(None),
                    Audience.next_refresh_at <= moment,
                )
            )
        ]
    refreshed = 0
    for organization_id, audience_id, _ in sorted(due, key=lambda item: item[2]):
        if stopping is not None and stopping.is_set():
            break
        try:
            with session_scope(container.sessions, organization_id) as session:
                principal = Principal.for_role(
                    PrincipalKind.USER, organization_id, Role.OWNER, actor="audience refresh job"
                )
                refreshing.refresh_audience(
                    session, principal, container.warehouse, audience_id, trigger="schedule"
                )
            refreshed += 1
        except Exception:  # one audience's failure does not stop the others
            log.exception("refreshing audience %s of %s failed", audience_id, organization_id)
    return refreshed
