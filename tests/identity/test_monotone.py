"""Property: no sequence of identify / alias / track calls takes an identifier or an event
away from a member; only an operator's unmerge (or an erasure) does."""

from __future__ import annotations

import itertools
import uuid

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from newretail.bootstrap import Container
from tests.conftest import Org, make_org
from tests.identity.conftest import AT, add_events, events_by_member

ACCOUNTS = [("account_id", f"acct-{n}") for n in range(3)]
PHONES = [("phone", f"+86138001380{n:02d}") for n in range(2)]
EMAILS = [("email", f"p{n}@example.com") for n in range(2)]
ANONYMOUS = [("anonymous_id", f"anon-{n}") for n in range(4)]
DEVICES = [("device_id", f"dev-{n}") for n in range(2)]
Identifier = tuple[str, str]

# what each Segment call links: identify (userId, anonymousId, traits), alias (userId,
# previousId), track (userId or anonymousId, the device in context)
identify = st.tuples(
    st.sampled_from(ACCOUNTS),
    st.one_of(st.none(), st.sampled_from(ANONYMOUS)),
    st.one_of(st.none(), st.sampled_from(PHONES)),
    st.one_of(st.none(), st.sampled_from(EMAILS)),
).map(lambda t: [i for i in t if i is not None])
alias = st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(ANONYMOUS)).map(list)
track = st.tuples(
    st.sampled_from(ACCOUNTS + ANONYMOUS), st.one_of(st.none(), st.sampled_from(DEVICES))
).map(lambda t: [i for i in t if i is not None])
calls = st.lists(st.one_of(identify, alias, track), min_size=2, max_size=12)
_example = itertools.count()
_ORGS: dict[int, Org] = {}


def _members(
    container: Container, org: Org, identifiers: list[Identifier]
) -> dict[Identifier, uuid.UUID]:
    found = container.identity.resolve_batch(org.id, [[i] for i in identifiers], AT)
    members: dict[Identifier, uuid.UUID] = {}
    for identifier, resolved in zip(identifiers, found, strict=True):
        assert resolved is not None
        members[identifier] = resolved.member_id
    return members


@settings(
    max_examples=40,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=calls, data=st.data())
def test_no_call_takes_identifiers_or_events_away_from_a_member(
    container: Container, sequence: list[list[Identifier]], data: st.DataObject
) -> None:
    tag = f"m{next(_example)}-{uuid.uuid4().hex[:6]}"  # examples never share identifiers
    org = _ORGS.get(id(container))
    if org is None:
        org = _ORGS[id(container)] = make_org(container, "mono")
    tagged = [[(kind, f"{value}.{tag}") for kind, value in call] for call in sequence]
    seen: list[Identifier] = []
    before: list[tuple[set[Identifier], set[str]]] = []  # each member: identifiers, events
    position = 0
    while position < len(tagged):
        size = data.draw(st.integers(min_value=1, max_value=3))  # the loader's batches
        batch = tagged[position : position + size]
        resolved = container.identity.resolve_batch(org.id, batch, AT)
        add_events(
            container,
            org,
            [
                (f"{tag}-{position + n}", str(r.member_id), str(r.profile_id))
                for n, r in enumerate(resolved)
                if r is not None
            ],
        )
        position += len(batch)
        seen += [i for call in batch for i in call if i not in seen]
        member_of = _members(container, org, seen)
        events = {
            member: {e for e in found if e.startswith(f"{tag}-")}
            for member, found in events_by_member(container, org).items()
        }
        now: dict[uuid.UUID, tuple[set[Identifier], set[str]]] = {}
        for identifier, member in member_of.items():
            now.setdefault(member, (set(), set(events.get(str(member), set()))))[0].add(identifier)
        for identifiers, member_events in before:
            holders = {member_of[i] for i in identifiers}
            assert len(holders) == 1, f"{identifiers} split over {len(holders)} members"
            holder = now[holders.pop()]
            assert identifiers <= holder[0]
            assert member_events <= holder[1], f"events {member_events - holder[1]} moved away"
        before = list(now.values())
