"""The member dimension: copied when the store changed, without merged members."""

from __future__ import annotations

import uuid

from newretail.audiences import dimensions
from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.members.models import Member
from newretail.members.points import spending
from tests.audiences.world import make_members
from tests.conftest import Org


def _rows(container: Container, org: Org) -> dict[str, dict[str, object]]:
    con = container.warehouse.connection()
    with container.warehouse.lock:
        table = con.table("member_dim")
        rows = table.filter(table.organization_id == str(org.id)).to_pyarrow().to_pylist()
    return {str(r["member_id"]): r for r in rows}


def _sync(container: Container, org: Org) -> dimensions.DimensionSync:
    with session_scope(container.sessions, org.id) as session:
        con = container.warehouse.connection()
        with container.warehouse.lock:
            return dimensions.sync_member_dim(session, con, str(org.id))


def test_sync_copies_attributes_skips_merged_and_blanks_anonymous(
    container: Container, org: Org
) -> None:
    ids = make_members(container, org, 4)
    assert _sync(container, org) == dimensions.DimensionSync(rows=4, synced=True)
    assert _sync(container, org) == dimensions.DimensionSync(rows=0, synced=False)
    rows = _rows(container, org)
    assert rows[ids[0]]["city"] == "Beijing" and rows[ids[0]]["tier"] == "Gold"
    assert (rows[ids[0]]["marketing_sms"], rows[ids[1]]["marketing_sms"]) == (True, False)
    assert rows[ids[1]]["birth_year"] == 1991
    with session_scope(container.sessions, org.id) as session:
        merged = session.get(Member, uuid.UUID(ids[1]))
        anonymous = session.get(Member, uuid.UUID(ids[2]))
        assert merged is not None and anonymous is not None
        merged.merged_into_id = uuid.UUID(ids[0])
        anonymous.anonymous = True
    assert _sync(container, org) == dimensions.DimensionSync(rows=3, synced=True)
    rows = _rows(container, org)
    assert sorted(rows) == sorted([ids[0], ids[2], ids[3]])
    assert (rows[ids[2]]["anonymous"], rows[ids[2]]["city"], rows[ids[2]]["tier"]) == (
        True,
        None,
        None,
    )
    assert rows[ids[2]]["marketing_sms"] is False  # an anonymous profile has no consent


def test_points_follow_the_one_balance_rule_not_the_stored_counter(
    container: Container, org: Org
) -> None:
    [member_id] = make_members(container, org, 1)
    with session_scope(container.sessions, org.id) as session:
        spending.grant_points(
            session, org.id, uuid.UUID(member_id), points=300, actor="test", reason="welcome"
        )
        member = session.get(Member, uuid.UUID(member_id))
        assert member is not None
        member.points_available = 5  # a stale counter (the jobs restate it later)
    _sync(container, org)
    assert _rows(container, org)[member_id]["points"] == 300
