"""The demo member seeding: realistic rows that keep the ledger invariants."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.demo.members import seed_members
from newretail.members import points, service
from newretail.members.models import EarnRule, Member, MemberIdentifier, MemberTier
from tests.conftest import Org
from tests.members.conftest import org_session, owner_of


def test_seed_members_creates_findable_members(container: Container, org: Org) -> None:
    with org_session(container, org) as session:
        assert seed_members(session, org.id, 300, random.Random(7)) == 300
        assert seed_members(session, org.id, 300, random.Random(7)) == 0  # once only
    with org_session(container, org) as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 300
        assert session.scalar(select(func.count()).select_from(MemberIdentifier)) == 300
        assert [
            t.name for t in session.scalars(select(MemberTier).order_by(MemberTier.min_spend))
        ] == [
            "Member",
            "Silver",
            "Gold",
        ]
        assert session.scalar(select(func.count()).select_from(EarnRule)) == 1
        cities = set(session.scalars(select(Member.city)))
        assert cities <= {"Shanghai", "Beijing", "Hangzhou", "Shenzhen"}
        sample = session.scalars(select(Member).order_by(Member.id).limit(25)).all()
        for member in sample:
            assert member.phone is not None and member.phone.startswith("+8613")
            found = service.find_member(session, owner_of(org), "phone", member.phone[3:])
            assert found is not None and found.id == member.id
            assert points.check_invariants(session, member.id) == []
