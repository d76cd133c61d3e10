"""FAST over several weeks, one pushed-down query per measure (not one per week).

F: members in AIPL on each week end (materialised snapshots). A: members whose stage
deepened from the day a week before each week end to the week end. S: members who joined
the brand's membership by the end of the week end (local day). T: those members with a
thriving event in the N local days up to the week end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import ibis

from newretail.databank import queries
from newretail.databank.config import STAGE_RANK, DatabankConfig
from newretail.databank.localdays import day_start
from newretail.warehouse.connection import EVENT_TABLE

Expr = Any  # an Ibis table expression


def _rank(stage: Any) -> Any:
    return ibis.cases(*((stage == s.value, rank) for s, rank in STAGE_RANK.items()), else_=0)


def fertility(con: Any, organization_id: str, days: Expr) -> Expr:
    """Members in AIPL per date and brand (`days`: materialised dates, column `date`)."""
    snapshot = queries.stored_snapshots(con, organization_id, days)
    return snapshot.group_by("date", "brand_id").aggregate(members=snapshot.count())


def deepened(con: Any, organization_id: str, days: Expr, week_ends: Sequence[date]) -> Expr:
    """Per week end and brand: members whose stage deepened during the week before it."""
    snapshot = queries.stored_snapshots(con, organization_id, days)
    weeks = ibis.memtable(
        {"week_end": list(week_ends), "week_start": [e - timedelta(days=7) for e in week_ends]}
    )
    weeks = weeks.select(
        week_end=weeks.week_end.cast("date"), week_start=weeks.week_start.cast("date")
    )
    before = snapshot.inner_join(weeks, snapshot.date == weeks.week_start).select(
        "week_end", "brand_id", "member_id", from_rank=_rank(snapshot.stage)
    )
    after = snapshot.select(
        a_date="date", a_brand="brand_id", a_member="member_id", to_rank=_rank(snapshot.stage)
    )
    joined = before.inner_join(
        after,
        [
            before.week_end == after.a_date,
            before.brand_id == after.a_brand,
            before.member_id == after.a_member,
        ],
    )
    moved = joined.filter(joined.to_rank > joined.from_rank)
    return moved.group_by("week_end", "brand_id").aggregate(members=moved.count())


def membership(
    con: Any,
    organization_id: str,
    brands: Sequence[str],
    week_ends: Sequence[date],
    config: DatabankConfig,
) -> Expr:
    """Per week end and brand: members (joined by then) and those thriving in the window."""
    zone = config.time_zone
    ends = {e: day_start(e + timedelta(days=1), zone) for e in week_ends}
    starts = {e: day_start(config.window_start(e, config.thriving_days), zone) for e in week_ends}
    weeks = ibis.memtable(
        {
            "week_end": list(week_ends),
            "until": [ends[e] for e in week_ends],
            "since": [starts[e] for e in week_ends],
        }
    )
    weeks = weeks.select(
        week_end=weeks.week_end.cast("date"),
        until=weeks.until.cast("timestamp('UTC')"),
        since=weeks.since.cast("timestamp('UTC')"),
    )
    joined_at = _first_event(
        con, organization_id, brands, config.membership_events, max(ends.values())
    )
    members = joined_at.inner_join(weeks, joined_at.first_ts < weeks.until).select(
        "week_end", "brand_id", "member_id"
    )
    active = _thriving(
        con, organization_id, brands, config, min(starts.values()), max(ends.values())
    )
    active = (
        active.inner_join(weeks, [active.ts >= weeks.since, active.ts < weeks.until])
        .select(t_week="week_end", t_brand="brand_id", t_member="member_id")
        .distinct()
    )
    both = members.left_join(
        active,
        [
            members.week_end == active.t_week,
            members.brand_id == active.t_brand,
            members.member_id == active.t_member,
        ],
    )
    return both.group_by("week_end", "brand_id").aggregate(
        members=both.count(), thriving=both.t_member.notnull().sum()
    )


def _member_events(con: Any, organization_id: str, types: Sequence[str], until: Any) -> Expr:
    event = con.table(EVENT_TABLE)
    return event.filter(
        event.organization_id == organization_id,
        event.member_id.notnull(),
        event.type.isin(list(types)) if types else ibis.literal(False),
        event.ts < until,
    )


def _for_brands(events: Expr, brands: Sequence[str], columns: Sequence[str]) -> Expr:
    """One row per brand the event counts for (no brand: every brand of the organisation)."""
    specific = events.filter(events.brand_id.notnull()).select(*columns)
    if not brands:
        return specific
    brand_table = ibis.memtable({"brand_key": [str(b) for b in brands]})
    generic = events.filter(events.brand_id.isnull()).cross_join(brand_table)
    rest = [c for c in columns if c != "brand_id"]
    generic = generic.select(*rest, brand_id=generic.brand_key.cast("string")).select(*columns)
    return specific.union(generic, distinct=False)


def _first_event(
    con: Any, organization_id: str, brands: Sequence[str], types: Sequence[str], until: Any
) -> Expr:
    events = _member_events(con, organization_id, types, until)
    first = events.group_by("brand_id", "member_id").aggregate(first_ts=events.ts.min())
    expanded = _for_brands(first, brands, ("brand_id", "member_id", "first_ts"))
    # a member who joined with and without the brand: once, at the earlier time
    return expanded.group_by("brand_id", "member_id").aggregate(first_ts=expanded.first_ts.min())


def _thriving(
    con: Any,
    organization_id: str,
    brands: Sequence[str],
    config: DatabankConfig,
    since: Any,
    until: Any,
) -> Expr:
    events = _member_events(con, organization_id, config.thriving_events, until)
    events = events.filter(events.ts >= since)
    return _for_brands(events, brands, ("brand_id", "member_id", "ts"))
