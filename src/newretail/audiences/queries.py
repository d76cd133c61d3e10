"""The audiences' warehouse read models: the stored members of a version, the rows of a new
version, and the insight counts of an audience per dimension."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import ibis

from newretail.audiences.compiler import CompileContext, Expr, age_band, universe, utc_instant
from newretail.audiences.tables import AUDIENCE_MEMBER_TABLE
from newretail.databank import snapshots as databank_snapshots
from newretail.warehouse.connection import EVENT_TABLE

INSIGHT_DIMENSIONS = ("city", "gender", "age_band", "tier", "preferred_channel", "aipl_stage")
PREFERRED_CHANNEL_DAYS = 365


def stored_members(con: Any, organization_id: str, audience_id: str, version: str) -> Expr:
    """The stored members of one version of an audience (member_id, since)."""
    table = con.table(AUDIENCE_MEMBER_TABLE)
    return table.filter(
        table.organization_id == organization_id,
        table.audience_id == audience_id,
        table.version == version,
    ).select("member_id", "since")


def member_memberships(con: Any, organization_id: str, member_id: str) -> Expr:
    """Every stored membership row of one member (audience_id, version, since), any version."""
    table = con.table(AUDIENCE_MEMBER_TABLE)
    return table.filter(
        table.organization_id == organization_id, table.member_id == member_id
    ).select("audience_id", "version", "since")


def refreshed_rows(
    members: Expr,
    previous: Expr | None,
    organization_id: str,
    audience_id: str,
    version: str,
    now: datetime,
) -> Expr:
    """The new version's rows; a member kept from the previous version keeps its `since`."""
    stamp = utc_instant(now)
    if previous is None:
        since: Any = stamp
        joined = members
    else:
        old = previous.rename(p_member="member_id", p_since="since")
        joined = members.left_join(old, members.member_id == old.p_member)
        since = ibis.coalesce(joined.p_since, stamp)
    return joined.select(
        organization_id=ibis.literal(organization_id, type="string"),
        audience_id=ibis.literal(audience_id, type="string"),
        version=ibis.literal(version, type="string"),
        member_id=joined.member_id,
        since=since,
    )


def insight_rows(
    con: Any,
    members: Expr,
    context: CompileContext,
    dimension: str,
    stage_brand: str | None,
) -> Expr:
    """Members of an audience per value of one dimension (columns `value`, `members`)."""
    if dimension not in INSIGHT_DIMENSIONS:
        raise ValueError(dimension)
    ids = members.select(a_member="member_id")
    if dimension in ("city", "gender", "age_band", "tier"):
        dim = universe(con, context.organization_id)
        joined = ids.inner_join(dim, ids.a_member == dim.member_id)
        if dimension == "age_band":
            value = age_band(joined.birth_year, context.as_of)
        elif dimension == "gender":
            value = joined.gender.fill_null("unknown")
        else:
            value = joined[dimension]
    elif dimension == "aipl_stage":
        if stage_brand is None:
            joined = ids
            value = ibis.null().cast("string")
        else:
            snapshot = databank_snapshots.stage_table(
                con, context.organization_id, context.brands, context.as_of, context.config
            )
            stages = snapshot.filter(snapshot.brand_id == stage_brand).select(
                s_member="member_id", stage="stage"
            )
            joined = ids.left_join(stages, ids.a_member == stages.s_member)
            value = joined.stage
    else:
        preferred = preferred_channels(con, ids, context)
        joined = ids.left_join(preferred, ids.a_member == preferred.c_member)
        value = joined.channel
    return joined.group_by(value=value).aggregate(members=joined.count())


def preferred_channels(con: Any, ids: Expr, context: CompileContext) -> Expr:
    """Per member, the channel of most events in the last year (ties: the first by name)."""
    event = con.table(EVENT_TABLE)
    start = context.as_of - timedelta(days=PREFERRED_CHANNEL_DAYS - 1)
    scan = event.filter(
        event.organization_id == context.organization_id,
        event.member_id.notnull(),
        event.channel.notnull(),
        event.ts >= utc_instant(context.day_start(start)),
        event.ts < utc_instant(context.day_end(context.as_of)),
    )
    scan = scan.semi_join(ids, scan.member_id == ids.a_member)
    counts = scan.group_by(c_member=scan.member_id, channel=scan.channel).aggregate(
        events=scan.count()
    )
    window = ibis.window(
        group_by=counts.c_member, order_by=[counts.events.desc(), counts.channel.asc()]
    )
    ranked = counts.mutate(position=ibis.row_number().over(window))
    return ranked.filter(ranked.position == 0).select("c_member", "channel")
