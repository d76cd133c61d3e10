"""Bulk resolution written to the store is what the resolver then finds."""

from __future__ import annotations

from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.identity.bulk import resolve_links, write_result
from newretail.members.identifiers import member_settings
from newretail.members.models import Member
from tests.conftest import Org
from tests.identity.conftest import AT, one

LINKS = [
    (("anonymous_id", "a1"), ("device_id", "d1")),
    (("device_id", "d1"), ("phone", "+8613800138000")),
    (("anonymous_id", "a2"), ("device_id", "d1")),
    (("device_id", "d1"), ("phone", "+8613900139000")),  # a second phone: refused
    (("anonymous_id", "a3"), ("email", "x@example.com")),
]


def test_written_groups_are_members_the_resolver_finds(container: Container, org: Org) -> None:
    with session_scope(container.sessions, org.id) as session:
        secret = member_settings(session, org.id).identifier_secret
    result = resolve_links(secret, container.identity.rules(org.id), LINKS)
    assert [
        (result.identifiers[a][0], result.identifiers[b][0], t) for a, b, t in result.conflicts
    ] == [("device_id", "phone", "phone")]
    with session_scope(container.sessions, org.id) as session:
        assert write_result(session, org.id, result, AT) == 3
    device = one(container, org, ("device_id", "d1")).member_id
    phones = {
        one(container, org, ("phone", p)).member_id for p in ("+8613800138000", "+8613900139000")
    }
    assert len(phones) == 2 and device in phones  # d1 joins the phone first in canonical order
    assert {one(container, org, ("anonymous_id", a)).member_id for a in ("a1", "a2")} == {device}
    email = one(container, org, ("email", "x@example.com")).member_id
    assert one(container, org, ("anonymous_id", "a3")).member_id == email
    with session_scope(container.sessions, org.id) as session:
        rows = session.execute(select(Member.phone, Member.email, Member.anonymous)).all()
        assert sorted(rows, key=str) == sorted(
            [
                ("+8613800138000", None, False),
                ("+8613900139000", None, False),
                (None, "x@example.com", False),
            ],
            key=str,
        )
        assert session.scalar(select(func.count()).select_from(Member)) == 3
