"""The re-entry window and the frequency caps: which counter rows a contact moves, and their
retention. The rows live in the operational store (`reach_contact_counter`) so that they hold
across processes and servers; a batch of decisions reads them locked, moves them in memory and
writes them back in one checked upsert (`decision_facts.Counters`).

A contact (a treated or held-out decision) moves up to four counter rows of the member, one
per limit set: the campaign's `entry` (its last contact, for the re-entry window), the
campaign's local day and ISO week, and the organisation-wide local day (scope `all`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete
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


def purge_stale(session: Session, now: datetime) -> int:
    """Delete the counters of every organisation with no contact for `KEPT_FOR` (their day,
    week and re-entry window are over); the number deleted."""
    result = session.execute(
        delete(ReachContactCounter).where(ReachContactCounter.last_at < now - KEPT_FOR),
        execution_options={"include_all_organizations": True},
    )
    return int(getattr(result, "rowcount", 0) or 0)
