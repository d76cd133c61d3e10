"""The resolver: profiles for unknown identifiers, links, merges, the conflict guard."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.identity.models import IdentityConflict, IdentityLink, IdentityMerge
from newretail.members.models import Member, MemberIdentifier
from tests.conftest import Org
from tests.identity.conftest import member_row, one, resolve

PHONE_1 = ("phone", "+8613800138000")
PHONE_2 = ("phone", "+8613900139000")
DEVICE = ("device_id", "tablet-1")


def _count(container: Container, org: Org, model: type) -> int:
    with session_scope(container.sessions, org.id) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_unknown_identifiers_get_profiles_and_known_ones_are_found_again(
    container: Container, org: Org
) -> None:
    first = resolve(container, org, [("anonymous_id", "a-1")], [PHONE_1], [])
    assert first[2] is None
    anonymous, known = first[0], first[1]
    assert anonymous is not None and known is not None
    assert anonymous.profile_id == anonymous.member_id
    assert member_row(container, org, anonymous.member_id).anonymous is True
    phone_member = member_row(container, org, known.member_id)
    assert (phone_member.anonymous, phone_member.phone) == (False, "+8613800138000")
    container.identity.invalidate()  # answered from the database now, not the cache
    again = resolve(container, org, [("anonymous_id", "a-1")], [PHONE_1])
    assert again == [anonymous, known]
    assert _count(container, org, Member) == 2
    with session_scope(container.sessions, org.id) as session:
        hashes = session.scalars(select(MemberIdentifier.value_hash)).all()
    assert sorted(len(h) for h in hashes) == [64, 64]
    assert "+8613800138000" not in hashes


def test_identify_merges_the_anonymous_profile_into_the_known_member(
    container: Container, org: Org
) -> None:
    anonymous = one(container, org, ("anonymous_id", "a-1"))
    known = one(container, org, PHONE_1)
    both = one(container, org, ("anonymous_id", "a-1"), PHONE_1)
    assert both.profile_id == anonymous.profile_id
    assert both.member_id == known.member_id  # the known member survives
    loser = member_row(container, org, anonymous.member_id)
    assert (loser.merged_into_id, loser.canonical_id) == (known.member_id, known.member_id)
    assert one(container, org, ("anonymous_id", "a-1")).member_id == known.member_id
    container.identity.invalidate()
    assert one(container, org, ("anonymous_id", "a-1")).member_id == known.member_id
    with session_scope(container.sessions, org.id) as session:
        merge = session.scalars(select(IdentityMerge)).one()
    assert (merge.survivor_id, merge.loser_id, merge.reason, merge.actor) == (
        known.member_id,
        anonymous.member_id,
        "auto_link",
        "oneid",
    )
    assert merge.moved["profiles"] == [str(anonymous.member_id)]


def test_two_phones_through_a_shared_device_do_not_merge_one_conflict(
    container: Container, org: Org
) -> None:
    first = one(container, org, PHONE_1, DEVICE)
    second = one(container, org, PHONE_2, DEVICE)
    assert first.member_id != second.member_id
    phone_members = {
        one(container, org, PHONE_1).member_id,
        one(container, org, PHONE_2).member_id,
    }
    assert len(phone_members) == 2
    one(container, org, PHONE_2, DEVICE)  # the same link again: still one conflict
    with session_scope(container.sessions, org.id) as session:
        conflicts = session.scalars(select(IdentityConflict)).all()
    assert [(c.kind, c.identifier_type, c.status) for c in conflicts] == [
        ("unique_type", "phone", "open")
    ]
    with session_scope(container.sessions, org.id) as session:
        active = session.scalars(select(IdentityMerge).where(IdentityMerge.undone_at.is_(None)))
        assert [m.survivor_id in phone_members for m in active] == [True]
    assert one(container, org, DEVICE).member_id in phone_members


def test_the_device_stays_with_the_phone_it_joined_first_whatever_the_hash_order(
    container: Container, org: Org
) -> None:
    """A conflicting link never takes a member apart: the later phone is a conflict."""
    for first_phone, second_phone in ((PHONE_1, PHONE_2), (PHONE_2, PHONE_1)):
        device = ("device_id", f"tablet-{first_phone[1]}")
        first = one(container, org, first_phone, device)  # arrives first, merges at once
        assert first.member_id == one(container, org, first_phone).member_id
        one(container, org, second_phone, device)  # conflicts: recorded, nothing moves
        assert one(container, org, device).member_id == one(container, org, first_phone).member_id
        assert one(container, org, second_phone).member_id != first.member_id
    with session_scope(container.sessions, org.id) as session:
        merges = session.scalars(select(IdentityMerge).order_by(IdentityMerge.created_at)).all()
        conflicts = session.scalars(select(IdentityConflict)).all()
    assert [m.undone_by for m in merges] == [None, None]
    assert (
        sorted((c.kind, c.identifier_type, c.status) for c in conflicts)
        == [("unique_type", "phone", "open")] * 2
    )


def test_an_event_with_two_phones_merges_nothing(container: Container, org: Org) -> None:
    found = one(container, org, PHONE_1, PHONE_2)
    assert one(container, org, PHONE_2).member_id != found.member_id
    assert _count(container, org, IdentityConflict) == 1
    assert _count(container, org, IdentityMerge) == 0


def test_maximum_devices_per_member(container: Container, org: Org) -> None:
    for n in range(12):
        one(container, org, PHONE_1, ("device_id", f"d-{n}"))
    phone = one(container, org, PHONE_1).member_id
    members = {one(container, org, ("device_id", f"d-{n}")).member_id for n in range(12)}
    assert len(members) == 3 and phone in members  # 10 devices join, 2 stay apart
    assert _count(container, org, IdentityConflict) == 2


def test_parallel_threads_resolving_the_same_new_identifiers_agree(
    container: Container, org: Org
) -> None:
    results: list[list[uuid.UUID]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        try:
            barrier.wait()
            found = resolve(
                container,
                org,
                *[[("anonymous_id", f"x-{n}"), ("device_id", f"dev-{n % 5}")] for n in range(30)],
            )
            results.append([r.member_id for r in found if r is not None])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    container.identity.invalidate()
    final = [
        r.member_id
        for r in resolve(container, org, *[[("anonymous_id", f"x-{n}")] for n in range(30)])
        if r is not None
    ]
    assert len(set(final)) == 5  # one member per device
    assert _count(container, org, MemberIdentifier) == 35
    assert _count(container, org, Member) == 35  # no orphan profiles
    assert _count(container, org, IdentityLink) == 30


def test_a_conflict_leaves_other_components_of_the_batch_merged(
    container: Container, org: Org
) -> None:
    """One batch: a link that conflicts and 30 that simply merge."""
    simple = [[("anonymous_id", f"a-{n}"), ("email", f"p{n}@example.com")] for n in range(30)]
    resolve(container, org, *[[i] for pair in simple for i in pair])  # older profiles
    first = one(container, org, PHONE_1, DEVICE)
    resolve(container, org, *simple, [PHONE_2, DEVICE])
    container.identity.invalidate()
    for anonymous, email in simple:
        assert one(container, org, anonymous).member_id == one(container, org, email).member_id
    assert one(container, org, DEVICE).member_id == first.member_id
    assert one(container, org, PHONE_2).member_id != first.member_id
    assert _count(container, org, IdentityConflict) == 1
