"""The member dimension: members' attributes copied from the operational store to the warehouse.

Rules over attributes (city, gender, age band, tier, points, consent) compile into the same
warehouse query as behaviour, so the warehouse holds a copy of each member's attributes in
`member_dim`. It is refreshed in full (one Arrow table per organisation) before an audience
is estimated or refreshed whenever the operational store changed since the last copy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ibis
import pyarrow as pa
from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from newretail.audiences.tables import (
    CONSENT_CHANNELS,
    DELETING_ENGINES,
    MEMBER_DIM_SCHEMA,
    MEMBER_DIM_SYNC_TABLE,
    MEMBER_DIM_TABLE,
    ensure_audience_tables,
)
from newretail.core.errors import Conflict
from newretail.members.models import (
    ConsentPurpose,
    Member,
    MemberConsent,
    MemberTier,
    PointsLedgerEntry,
)
from newretail.members.points.balance import available_points_by_member
from newretail.warehouse.sql import run_sql


# ---------------------------------------------------------------- the one place for OneID
def merged_into_column() -> Any:
    """Member.merged_into_id when the identity domain provides it (merged members are out)."""
    return getattr(Member, "merged_into_id", None)


def anonymous_column() -> Any:
    """Member.anonymous when the identity domain provides it (no attributes, no consent)."""
    return getattr(Member, "anonymous", None)


def eligible(statement: Any) -> Any:
    """Only members that can be in an audience: not merged into another member."""
    merged = merged_into_column()
    return statement if merged is None else statement.where(merged.is_(None))


# ---------------------------------------------------------------- reading the store
def fingerprint(session: Session) -> str:
    """A cheap summary that changes whenever a member's dimension row may have changed."""
    members = session.execute(
        eligible(
            select(
                func.count(Member.id),
                func.max(func.coalesce(Member.updated_at, Member.created_at)),
                func.coalesce(func.sum(Member.points_available), 0),
                func.max(Member.tier_review_at),
                func.count(Member.tier_id),
            )
        )
    ).one()
    consent = session.execute(
        select(func.count(MemberConsent.id), func.max(MemberConsent.updated_at))
    ).one()
    tiers = session.execute(
        select(func.count(MemberTier.id), func.max(MemberTier.updated_at))
    ).one()
    ledger = session.execute(select(func.max(PointsLedgerEntry.created_at))).one()
    merged, anonymous = merged_into_column(), anonymous_column()
    merges = session.execute(select(func.count(merged))).one() if merged is not None else ()
    unknown = (
        session.execute(eligible(select(func.count(Member.id)).where(anonymous))).one()
        if anonymous is not None
        else ()
    )
    parts = [*members, *consent, *tiers, *ledger, *merges, *unknown]
    return "|".join("" if p is None else str(p) for p in parts)


def member_rows(session: Session, organization_id: str) -> pa.Table:
    """The organisation's eligible members as an Arrow table in the member_dim layout."""
    flags = [
        func.max(
            case(
                (MemberConsent.channel == channel, case((MemberConsent.granted, 1), else_=0)),
                else_=0,
            )
        ).label(channel)
        for channel in CONSENT_CHANNELS
    ]
    consent = (
        select(MemberConsent.member_id, *flags)
        .where(MemberConsent.purpose == ConsentPurpose.MARKETING)
        .group_by(MemberConsent.member_id)
        .subquery()
    )
    anonymous = anonymous_column()
    available = available_points_by_member(datetime.now(UTC))
    statement = eligible(
        select(
            Member.id,
            Member.city,
            Member.gender,
            Member.birth_year,
            MemberTier.name,
            # the one balance rule (members.points.balance), not the stored counter
            func.coalesce(available.c.available, 0).label("points_available"),
            (anonymous if anonymous is not None else literal(False)).label("anonymous"),
            *(consent.c[channel] for channel in CONSENT_CHANNELS),
        )
        .outerjoin(MemberTier, MemberTier.id == Member.tier_id)
        .outerjoin(available, available.c.member_id == Member.id)
        .outerjoin(consent, consent.c.member_id == Member.id)
        .order_by(Member.id)
    )
    rows = session.execute(statement).all()
    width = 7 + len(CONSENT_CHANNELS)  # an organisation without members has empty columns
    columns: list[list[Any]] = (
        [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]
    )
    (ids, cities, genders, births, tiers, points, anonymous_flags, *channels) = columns
    is_anonymous = [bool(a) for a in anonymous_flags]
    data: dict[str, Any] = {
        "organization_id": [organization_id] * len(ids),
        "member_id": [str(i) for i in ids],
        # anonymous profiles have no attributes and no consent
        "city": [None if a else c for a, c in zip(is_anonymous, cities, strict=True)],
        "gender": [None if a else g for a, g in zip(is_anonymous, genders, strict=True)],
        "birth_year": [None if a else b for a, b in zip(is_anonymous, births, strict=True)],
        "tier": [None if a else t for a, t in zip(is_anonymous, tiers, strict=True)],
        "points": [
            0 if a or p is None else int(p) for a, p in zip(is_anonymous, points, strict=True)
        ],
        "anonymous": is_anonymous,
    }
    for channel, values in zip(CONSENT_CHANNELS, channels, strict=True):
        data[f"marketing_{channel}"] = [
            (not a) and bool(v) for a, v in zip(is_anonymous, values, strict=True)
        ]
    return pa.Table.from_pydict(data, schema=MEMBER_DIM_SCHEMA.to_pyarrow())


# ---------------------------------------------------------------- writing the warehouse
@dataclass(frozen=True)
class DimensionSync:
    rows: int
    synced: bool  # False: the copy was current and nothing was written


def stored_fingerprint(con: Any, organization_id: str) -> str | None:
    """The fingerprint of the organisation's latest copy (None: never copied)."""
    ensure_audience_tables(con)
    table = con.table(MEMBER_DIM_SYNC_TABLE)
    latest = (
        table.filter(table.organization_id == organization_id)
        .order_by(ibis.desc("synced_at"))
        .limit(1)
        .fingerprint.to_pyarrow()
        .to_pylist()
    )
    return str(latest[0]) if latest else None


def load_member_dim(con: Any, organization_id: str, rows: pa.Table, mark: str = "") -> int:
    """Replace the organisation's member_dim rows with `rows` (and record the fingerprint)."""
    ensure_audience_tables(con)
    org = str(uuid.UUID(organization_id))  # validated: the only value put into SQL text
    if con.name in DELETING_ENGINES:
        run_sql(con, f"DELETE FROM {MEMBER_DIM_TABLE} WHERE organization_id = '{org}'")  # noqa: S608
    else:
        table = con.table(MEMBER_DIM_TABLE)
        if int(table.filter(table.organization_id == org).count().execute()) > 0:
            raise Conflict(
                f"the {con.name} warehouse cannot replace member_dim rows; load a new table",
                field="warehouse",
            )
    if rows.num_rows:
        _append(con, MEMBER_DIM_TABLE, rows)
    now = datetime.now(UTC)
    sync = pa.table(
        {
            "organization_id": [org],
            "fingerprint": [mark],
            "rows": [rows.num_rows],
            "synced_at": [now],
        },
        schema=con.table(MEMBER_DIM_SYNC_TABLE).schema().to_pyarrow(),
    )
    _append(con, MEMBER_DIM_SYNC_TABLE, sync)
    return int(rows.num_rows)


def _append(con: Any, table: str, rows: pa.Table) -> None:
    if con.name == "pyspark":
        # Spark's memtable path goes through pandas, which turns nullable ints into nulls
        con._session.createDataFrame(rows).write.insertInto(table)
    else:
        con.insert(table, ibis.memtable(rows))


def sync_member_dim(
    session: Session, con: Any, organization_id: str, *, force: bool = False
) -> DimensionSync:
    """Copy the members to member_dim when the operational store changed since the last copy."""
    mark = fingerprint(session)
    if not force and stored_fingerprint(con, organization_id) == mark:
        return DimensionSync(rows=0, synced=False)
    rows = member_rows(session, organization_id)
    return DimensionSync(rows=load_member_dim(con, organization_id, rows, mark), synced=True)
