"""The re-entry window and the frequency caps, held in the operational store by guarded
upserts so that they hold across processes and servers.

A contact (a treated or held-out decision) moves up to four counter rows of the member, one
per limit set: the campaign's `entry` (its last contact, for the re-entry window), the
campaign's local day and ISO week, and the organisation-wide local day (scope `all`). Each
move is one `INSERT … ON CONFLICT DO UPDATE … WHERE <limit holds> RETURNING count`: a row
refused by its WHERE returns nothing, so the limit is checked in the statement that spends
it, never read first. On PostgreSQL the upsert locks the member's row until the transaction
ends, so two servers deciding for the same member at once are serialised there; SQLite
serialises writers. The caller takes them in a savepoint and rolls it back when a later
check refuses, so only real contacts count.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newretail.reach.decide import CompiledRule, Reason, day_period, week_period
from newretail.reach.models import ReachContactCounter

ALL_CAMPAIGNS = "all"
ENTRY = "entry"
# no counter matters after this long without a contact: a day or an ISO week is over, and a
# re-entry window is at most 7 days (trigger_schemas.TriggerRuleIn.reentry_minutes)
KEPT_FOR = timedelta(days=8)


@dataclass(frozen=True)
class Counter:
    """One counter row a contact moves, the limit it holds and the reason it refuses with."""

    scope: str
    period: str
    reason: Reason
    limit: int | None = None  # at most this many contacts in the period
    cutoff: datetime | None = None  # the last contact no later than this (re-entry window)


def counters_of(
    rule: CompiledRule, day: date, at: datetime, global_daily_cap: int | None
) -> list[Counter]:
    """The counters a contact of the rule's campaign on this local day moves, in check order
    (the re-entry window first, then the caps): those of the limits set, so a contact with
    no window and no cap writes nothing (a cap set later counts from then on)."""
    campaign = str(rule.campaign_id)
    counters = []
    if rule.reentry_minutes:
        cutoff = at - timedelta(minutes=rule.reentry_minutes)
        counters.append(Counter(campaign, ENTRY, Reason.REENTRY_WINDOW, cutoff=cutoff))
    limits = [
        (campaign, day_period(day), rule.daily_cap),
        (campaign, week_period(day), rule.weekly_cap),
        (ALL_CAMPAIGNS, day_period(day), global_daily_cap),
    ]
    counters.extend(
        Counter(scope, period, Reason.FREQUENCY_CAP, limit=limit)
        for scope, period, limit in limits
        if limit is not None
    )
    return counters


def take(
    session: Session,
    organization_id: uuid.UUID,
    member_id: uuid.UUID,
    counter: Counter,
    at: datetime,
) -> bool:
    """Count one contact on the row if its limit allows it (False: refused)."""
    if counter.limit is not None and counter.limit < 1:
        return False
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ReachContactCounter.__table__
    statement = dialect.insert(ReachContactCounter).values(
        id=uuid.uuid4(),
        created_at=at,
        organization_id=organization_id,
        member_id=member_id,
        scope=counter.scope,
        period=counter.period,
        count=1,
        last_at=at,
    )
    allowed: list[ColumnElement[bool]] = []
    if counter.limit is not None:
        allowed.append(table.c.count < counter.limit)
    if counter.cutoff is not None:
        allowed.append(table.c.last_at <= counter.cutoff)
    upsert = statement.on_conflict_do_update(
        index_elements=["organization_id", "member_id", "scope", "period"],
        set_={"count": table.c.count + 1, "last_at": at},
        where=and_(*allowed) if allowed else None,
    ).returning(table.c.count)
    return session.execute(upsert).first() is not None


def first_refused(
    session: Session,
    organization_id: uuid.UUID,
    member_id: uuid.UUID,
    counters: list[Counter],
    at: datetime,
) -> Reason | None:
    """Take every counter in order; the reason of the first that refuses (the caller rolls
    back what the ones before it took)."""
    for counter in counters:
        if not take(session, organization_id, member_id, counter, at):
            return counter.reason
    return None


def purge_stale(session: Session, now: datetime) -> int:
    """Delete the counters of every organisation with no contact for `KEPT_FOR` (their day,
    week and re-entry window are over); the number deleted."""
    result = session.execute(
        delete(ReachContactCounter).where(ReachContactCounter.last_at < now - KEPT_FOR),
        execution_options={"include_all_organizations": True},
    )
    return int(getattr(result, "rowcount", 0) or 0)
