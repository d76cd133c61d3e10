"""Property: without conflicts, the resolved members do not depend on the order in which links
arrive; with conflicts the first link wins (a member is never taken apart), so only the rules
are checked then (test_monotone.py checks that nothing is taken away)."""

from __future__ import annotations

import itertools
import uuid

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.identity.models import IdentityConflict, IdentitySettings, IdentityType
from newretail.members.identifiers import member_settings
from tests.conftest import Org, make_org
from tests.identity.conftest import AT

UNIVERSE = (
    [("phone", f"+86138001380{n:02d}") for n in range(3)]
    + [("email", f"p{n}@example.com") for n in range(2)]
    + [("device_id", f"dev-{n}") for n in range(4)]
    + [("anonymous_id", f"anon-{n}") for n in range(5)]
)
events = st.lists(
    st.lists(st.sampled_from(UNIVERSE), min_size=1, max_size=3, unique=True),
    min_size=1,
    max_size=14,
)
_example = itertools.count()
_ORGS: dict[int, list[Org]] = {}


def _same_rules(container: Container, orgs: list[Org]) -> None:
    """Both organisations hash alike and allow 2 devices and 5 profiles per member."""
    with session_scope(container.sessions, orgs[0].id) as session:
        secret = member_settings(session, orgs[0].id).identifier_secret
    for org in orgs:
        with session_scope(container.sessions, org.id) as session:
            member_settings(session, org.id).identifier_secret = secret
            session.add(
                IdentityType(
                    organization_id=org.id,
                    name="device_id",
                    unique_per_member=False,
                    max_per_member=2,
                )
            )
            session.add(IdentitySettings(organization_id=org.id, max_group_size=5))
    container.identity.invalidate()


def _partition(
    container: Container, org: Org, identifiers: set[tuple[str, str]]
) -> set[frozenset[tuple[str, str]]]:
    ordered = sorted(identifiers)
    found = container.identity.resolve_batch(org.id, [[i] for i in ordered], AT)
    groups: dict[uuid.UUID, set[tuple[str, str]]] = {}
    for identifier, resolved in zip(ordered, found, strict=True):
        assert resolved is not None
        groups.setdefault(resolved.member_id, set()).add(identifier)
    return {frozenset(g) for g in groups.values()}


def _conflicts(container: Container, org: Org) -> int:
    with session_scope(container.sessions, org.id) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(IdentityConflict)
                .where(IdentityConflict.status == "open")
            )
            or 0
        )


@settings(
    max_examples=60,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a DB test takes minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=events, data=st.data())
def test_resolved_members_do_not_depend_on_arrival_order(
    container: Container, sequence: list[list[tuple[str, str]]], data: st.DataObject
) -> None:
    tag = f"x{next(_example)}-{uuid.uuid4().hex[:6]}"  # examples never share identifiers
    orgs = _ORGS.get(id(container))
    if orgs is None:
        orgs = _ORGS[id(container)] = [make_org(container, "po"), make_org(container, "pp")]
        _same_rules(container, orgs)
    conflicts_before = [_conflicts(container, org) for org in orgs]
    tagged = [[(kind, f"{value}.{tag}") for kind, value in event] for event in sequence]
    shuffled = data.draw(st.permutations(tagged))
    seen = {identifier for event in tagged for identifier in event}
    partitions = []
    for org, order in zip(orgs, (tagged, shuffled), strict=True):
        chunk = data.draw(st.integers(min_value=1, max_value=4))
        for start in range(0, len(order), chunk):
            container.identity.resolve_batch(org.id, order[start : start + chunk], AT)
        container.identity.invalidate(org.id)
        partitions.append(_partition(container, org, seen))
    new_conflicts = [
        _conflicts(container, o) - n for o, n in zip(orgs, conflicts_before, strict=True)
    ]
    if new_conflicts == [0, 0]:
        assert partitions[0] == partitions[1]
    for group in partitions[0] | partitions[1]:  # never two phones or two e-mails in one member
        for kind in ("phone", "email"):
            assert len([i for i in group if i[0] == kind]) <= 1
        assert len([i for i in group if i[0] == "device_id"]) <= 2
        assert len(group) <= 5
