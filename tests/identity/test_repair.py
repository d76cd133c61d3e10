"""A merge whose process dies between its commit and the warehouse update is repaired."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.identity.models import IdentityPendingMove
from newretail.identity.resolver import IdentityResolver
from tests.conftest import Org
from tests.identity.conftest import add_events, events_by_member, one

PHONE_1 = ("phone", "+8613800138000")
PHONE_2 = ("phone", "+8613900139000")


class ProcessDied(BaseException):
    """Stands for kill -9: nothing after it runs, no handler catches it."""


def pending(container: Container, org: Org) -> list[str]:
    with session_scope(container.sessions, org.id) as session:
        return sorted(str(m) for m in session.scalars(select(IdentityPendingMove.member_id)))


def test_events_follow_a_merge_whose_warehouse_update_never_ran(
    container: Container, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a merge that completes leaves nothing pending
    device = one(container, org, ("device_id", "d-1"))
    phone_2 = one(container, org, PHONE_2)
    add_events(container, org, [("e0", str(device.member_id), str(device.profile_id))])
    one(container, org, ("device_id", "d-1"), PHONE_2)
    assert events_by_member(container, org) == {str(phone_2.member_id): ["e0"]}
    assert pending(container, org) == []

    anonymous = one(container, org, ("anonymous_id", "a-1"))
    known = one(container, org, PHONE_1)
    add_events(
        container,
        org,
        [
            ("e1", str(anonymous.member_id), str(anonymous.profile_id)),
            ("e2", str(known.member_id), str(known.profile_id)),
        ],
    )

    def die(statements: list[str]) -> None:
        raise ProcessDied

    monkeypatch.setattr(container.identity, "_run_warehouse", die)
    with pytest.raises(ProcessDied):
        one(container, org, ("anonymous_id", "a-1"), PHONE_1)
    monkeypatch.undo()
    # the merge is committed; its events have not moved
    assert events_by_member(container, org) == {
        str(phone_2.member_id): ["e0"],
        str(anonymous.member_id): ["e1"],
        str(known.member_id): ["e2"],
    }
    assert pending(container, org) == [str(anonymous.member_id)]

    restarted = IdentityResolver(container.sessions, container.warehouse)
    # a recent row may belong to another process's update in flight: left alone
    assert restarted.repair_pending_moves(older_than_seconds=60) == 0
    assert pending(container, org) == [str(anonymous.member_id)]
    assert restarted.repair_pending_moves(older_than_seconds=0) == 1
    assert events_by_member(container, org) == {
        str(phone_2.member_id): ["e0"],
        str(known.member_id): ["e1", "e2"],
    }
    assert pending(container, org) == []
    assert restarted.repair_pending_moves(older_than_seconds=0) == 0
