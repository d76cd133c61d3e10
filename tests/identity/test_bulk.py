"""Bulk resolution written to the store is what the resolver then finds, and bulk settles
conflicts as the collector's path does: the first link wins."""

from __future__ import annotations

import itertools
import uuid

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.identity.bulk import resolve_links, write_result
from newretail.identity.models import IdentityConflict
from newretail.members.identifiers import member_settings
from newretail.members.models import Member
from tests.conftest import Org, make_org
from tests.identity.conftest import AT, one

Identifier = tuple[str, str]
Link = tuple[Identifier, Identifier]

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


def _event_by_event(
    container: Container, org: Org, links: list[Link]
) -> tuple[set[frozenset[Identifier]], set[frozenset[Identifier]]]:
    """Each link as one event through the collector's path, in order: the members (as sets of
    identifiers) and the conflicts (as pairs of identifiers)."""
    for left, right in links:
        container.identity.resolve_batch(org.id, [[left, right]], AT)
    seen = sorted({identifier for link in links for identifier in link})
    found = container.identity.resolve_batch(org.id, [[i] for i in seen], AT)
    groups: dict[uuid.UUID, set[Identifier]] = {}
    home: dict[uuid.UUID, Identifier] = {}
    for identifier, resolved in zip(seen, found, strict=True):
        assert resolved is not None
        groups.setdefault(resolved.member_id, set()).add(identifier)
        home[resolved.profile_id] = identifier
    with session_scope(container.sessions, org.id) as session:
        rows = session.execute(select(IdentityConflict.member_a, IdentityConflict.member_b))
        conflicts = {frozenset((home[a], home[b])) for a, b in rows if a in home and b in home}
    return {frozenset(g) for g in groups.values()}, conflicts


def _in_bulk(
    container: Container, org: Org, links: list[Link]
) -> tuple[set[frozenset[Identifier]], set[frozenset[Identifier]]]:
    """The same links through bulk resolution (in memory, with the organisation's secret)."""
    with session_scope(container.sessions, org.id) as session:
        secret = member_settings(session, org.id).identifier_secret
    result = resolve_links(secret, container.identity.rules(org.id), links)
    groups = {frozenset(result.identifiers[n] for n in nodes) for nodes in result.groups().values()}
    conflicts = {
        frozenset((result.identifiers[a], result.identifiers[b])) for a, b, _ in result.conflicts
    }
    return groups, conflicts


def test_bulk_keeps_the_device_with_the_phone_it_joined_first_as_events_do(
    container: Container, org: Org
) -> None:
    """The same links give the same members in bulk as event by event, whichever of the two
    phones comes first in the keyed-hash order."""
    for n, (first, second) in enumerate((("00", "01"), ("01", "00"))):
        device = ("device_id", f"tablet-{n}")
        links: list[Link] = [
            (("anonymous_id", f"a-{n}"), device),
            (device, ("phone", f"+86138001380{n}{first}")),
            (device, ("phone", f"+86138001380{n}{second}")),  # the later phone: a conflict
        ]
        members, conflicts = _event_by_event(container, org, links)
        assert frozenset({links[0][0], device, links[1][1]}) in members
        assert conflicts == {frozenset(links[2])}
        assert _in_bulk(container, org, links) == (members, conflicts)


UNIVERSE = (
    [("phone", f"{n}") for n in range(3)]
    + [("email", f"{n}") for n in range(2)]
    + [("device_id", f"{n}") for n in range(3)]
    + [("anonymous_id", f"{n}") for n in range(4)]
)
links_strategy = st.lists(
    st.tuples(st.sampled_from(UNIVERSE), st.sampled_from(UNIVERSE)).filter(
        lambda link: link[0] != link[1]
    ),
    min_size=1,
    max_size=12,
)
_example = itertools.count(1)
_ORGS: dict[int, Org] = {}


def _tagged(identifier: Identifier, example: int) -> Identifier:
    """An identifier of this example only (normalised as the collector would send it)."""
    kind, n = identifier
    if kind == "phone":
        return kind, f"+86139{example:05d}{n}"
    if kind == "email":
        return kind, f"p{n}.{example}@example.com"
    return kind, f"{kind}-{n}-{example}"


@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a DB test takes minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(links=links_strategy)
def test_bulk_resolution_equals_resolving_the_links_one_event_at_a_time(
    container: Container, links: list[Link]
) -> None:
    org = _ORGS.get(id(container))
    if org is None:
        org = _ORGS[id(container)] = make_org(container, "bulk")
    example = next(_example)
    tagged = [(_tagged(a, example), _tagged(b, example)) for a, b in links]
    assert _in_bulk(container, org, tagged) == _event_by_event(container, org, tagged)
