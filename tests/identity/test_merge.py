"""Merges move history to the survivor; undo puts everything back exactly."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope, utcnow
from newretail.identity.errors import AlreadyMerged, MergeRefused, UndoRefused
from newretail.identity.models import IdentityConflict, IdentityMerge
from newretail.members import consent, points, schemas, tiers
from newretail.members.models import ConsentSource, Member, MemberConsent, MemberTier
from newretail.orders.models import Order
from tests.conftest import Org
from tests.identity.conftest import add_events, create_member, events_by_member, member_row, one
from tests.members.conftest import owner_of

PHONE_1 = ("phone", "+8613800138000")
CARD = ("member_card", "CARD-1")


def _order(container: Container, org: Org, member_id: uuid.UUID, amount: str) -> uuid.UUID:
    with session_scope(container.sessions, org.id) as session:
        order = Order(
            organization_id=org.id,
            store_id=org.store_ids[0],
            channel="store",
            member_id=member_id,
            status="paid",
            fulfilment_type="carry_out",
            total_amount=Decimal(amount),
            placed_at=member_row(container, org, member_id).joined_at,
        )
        session.add(order)
        session.flush()
        return order.id


def _two_members_with_history(container: Container, org: Org) -> tuple[uuid.UUID, uuid.UUID]:
    a = create_member(container, org, name="A", phone="138 0013 8000")
    b = create_member(container, org, name="B", member_card="card-1")
    with session_scope(container.sessions, org.id) as session:
        owner = owner_of(org)
        points.adjust_points(session, owner, a, schemas.PointsAdjust(points=30, reason="welcome"))
        points.adjust_points(session, owner, b, schemas.PointsAdjust(points=50, reason="welcome"))
        consent.set_consent(
            session,
            owner,
            b,
            [schemas.ConsentItem(channel="sms", granted=True)],
            source=ConsentSource.API,
        )
    return a, b


def test_unmerge_restores_timelines_orders_points_and_consent_exactly(
    container: Container, org: Org
) -> None:
    a, b = _two_members_with_history(container, org)
    order_a, order_b = _order(container, org, a, "10"), _order(container, org, b, "20")
    web_a = one(container, org, ("anonymous_id", "web-a"), PHONE_1)
    web_b = one(container, org, ("anonymous_id", "web-b"), CARD)
    assert (web_a.member_id, web_b.member_id) == (a, b)
    add_events(
        container,
        org,
        [
            ("m1", str(a), str(a)),
            ("m2", str(a), str(web_a.profile_id)),
            ("m3", str(b), str(b)),
            ("m4", str(b), str(web_b.profile_id)),
            ("m5", str(b), str(web_b.profile_id)),
        ],
    )
    before = events_by_member(container, org)
    assert before == {str(a): ["m1", "m2"], str(b): ["m3", "m4", "m5"]}

    merge = container.identity.merge_members(org.id, b, a, actor="tester")
    assert (merge.survivor_id, merge.loser_id, merge.reason, merge.actor) == (
        a,
        b,
        "manual",
        "tester",
    )
    assert merge.moved["orders"] == [str(order_b)]
    assert sorted(merge.moved["profiles"]) == sorted([str(b), str(web_b.profile_id)])
    assert len(merge.moved["points_lots"]) == 1 and len(merge.moved["points_ledger_entries"]) == 1
    assert len(merge.moved["consents"]) == 1 and merge.moved["coupons"] == []
    assert events_by_member(container, org) == {str(a): ["m1", "m2", "m3", "m4", "m5"]}
    assert one(container, org, ("anonymous_id", "web-b")).member_id == a
    with session_scope(container.sessions, org.id) as session:
        survivor = session.get(Member, a)
        assert survivor is not None
        assert (survivor.points_available, survivor.points_locked) == (80, 0)
        assert points.check_invariants(session, a) == []
        assert session.get(Order, order_b).member_id == a  # type: ignore[union-attr]
        consents = session.scalars(select(MemberConsent.member_id)).all()
        assert consents == [a]

    undone = container.identity.undo_merge(org.id, merge.id, actor="tester")
    assert undone.undone_by == "tester"
    assert events_by_member(container, org) == before
    assert one(container, org, ("anonymous_id", "web-b")).member_id == b
    with session_scope(container.sessions, org.id) as session:
        for member_id, available in ((a, 30), (b, 50)):
            member = session.get(Member, member_id)
            assert member is not None
            assert (member.points_available, member.merged_into_id, member.canonical_id) == (
                available,
                None,
                None,
            )
            assert points.check_invariants(session, member_id) == []
        assert session.get(Order, order_a).member_id == a  # type: ignore[union-attr]
        assert session.get(Order, order_b).member_id == b  # type: ignore[union-attr]
        assert session.scalars(select(MemberConsent.member_id)).all() == [b]
    with pytest.raises(UndoRefused):
        container.identity.undo_merge(org.id, merge.id, actor="tester")
    # the undo separates them: a link between their sides no longer merges them (the
    # shared anonymous id goes to one side, in canonical order)
    again = one(container, org, ("anonymous_id", "web-a"), CARD)
    assert again.member_id in {a, b}
    assert (one(container, org, PHONE_1).member_id, one(container, org, CARD).member_id) == (a, b)


def test_manual_merge_refuses_two_phones_even_forced(container: Container, org: Org) -> None:
    a = create_member(container, org, phone="13800138000")
    c = create_member(container, org, phone="13900139000")
    for force in (False, True):
        with pytest.raises(MergeRefused) as refused:
            container.identity.merge_members(org.id, a, c, actor="admin", force=force)
        assert refused.value.message == "the two sides hold different phone values"
    merge = container.identity.merge_members(
        org.id, a, create_member(container, org, member_card="c-9"), actor="admin"
    )
    with pytest.raises(AlreadyMerged):
        container.identity.merge_members(org.id, merge.loser_id, a, actor="admin")


def test_force_lifts_the_maximum_per_member(container: Container, org: Org) -> None:
    for n in range(11):
        one(container, org, PHONE_1, ("device_id", f"d-{n}"))  # the 11th link is refused
    phone = one(container, org, PHONE_1).member_id
    outside = [
        n for n in range(11) if one(container, org, ("device_id", f"d-{n}")).member_id != phone
    ]
    assert len(outside) == 1  # which one: the canonical order decides
    extra = one(container, org, ("device_id", f"d-{outside[0]}"))
    with pytest.raises(MergeRefused) as refused:
        container.identity.merge_members(org.id, phone, extra.member_id, actor="admin")
    assert refused.value.message == "11 device_id identifiers would exceed the maximum of 10"
    merge = container.identity.merge_members(
        org.id, phone, extra.member_id, actor="admin", force=True
    )
    assert (merge.survivor_id, merge.loser_id) == (phone, extra.member_id)
    one(container, org, PHONE_1, ("device_id", "d-11"))  # automatic links stay bounded
    assert one(container, org, ("device_id", "d-11")).member_id != phone
    members = {one(container, org, ("device_id", f"d-{n}")).member_id for n in range(11)}
    assert members == {phone}  # the forced member stays whole
    with session_scope(container.sessions, org.id) as session:
        conflicts = session.scalars(select(IdentityConflict).order_by(IdentityConflict.created_at))
        assert [(c.status, c.resolved_by) for c in conflicts] == [
            ("merged", "admin"),
            ("open", None),
        ]


def test_undo_of_a_merge_under_a_later_merge_is_refused(container: Container, org: Org) -> None:
    a = create_member(container, org, phone="13800138000")
    b = create_member(container, org, member_card="c-1")
    c = create_member(container, org, email="c@example.com")
    first = container.identity.merge_members(org.id, b, c, actor="admin")
    second = container.identity.merge_members(org.id, a, first.survivor_id, actor="admin")
    assert second.survivor_id == a
    with pytest.raises(UndoRefused):
        container.identity.undo_merge(org.id, first.id, actor="admin")
    container.identity.undo_merge(org.id, second.id, actor="admin")
    container.identity.undo_merge(org.id, first.id, actor="admin")
    with session_scope(container.sessions, org.id) as session:
        rows = session.scalars(select(IdentityMerge).order_by(IdentityMerge.created_at)).all()
        assert [r.undone_by for r in rows] == ["admin", "admin"]
        assert {m.id for m in session.scalars(select(Member)) if m.canonical_id is None} == {
            a,
            b,
            c,
        }


def _tier_name(container: Container, org: Org, member_id: uuid.UUID) -> str | None:
    with session_scope(container.sessions, org.id) as session:
        member = session.get(Member, member_id)
        assert member is not None
        tier = session.get(MemberTier, member.tier_id) if member.tier_id else None
        return tier.name if tier else None


def test_a_merge_gives_the_best_tier_held_or_the_one_the_combined_spend_reaches(
    container: Container, org: Org
) -> None:
    a = create_member(container, org, name="A", phone="138 0013 8000")
    b = create_member(container, org, name="B", member_card="card-1")
    d = create_member(container, org, name="D", phone="139 0013 9000")  # joined before C
    c = create_member(container, org, name="C", email="c@example.com")
    now = utcnow()
    with session_scope(container.sessions, org.id) as session:
        owner = owner_of(org)
        for name, spend in (("Silver", "1000"), ("Gold", "5000")):
            tiers.create_tier(session, owner, schemas.TierCreate(name=name, min_spend=spend))
        for member_id, amount in ((a, "3000"), (b, "2500"), (c, "5000")):
            tiers.record_spend(
                session,
                org.id,
                member_id,
                amount=Decimal(amount),
                occurred_at=now - timedelta(days=30),
                order_id=uuid.uuid4(),
            )
    assert [_tier_name(container, org, m) for m in (a, b, c, d)] == [
        "Silver",
        "Silver",
        "Gold",
        None,
    ]
    # 3,000 + 2,500 reach Gold together
    container.identity.merge_members(org.id, b, a, actor="tester")
    assert _tier_name(container, org, a) == "Gold"
    # D (the survivor: it joined first) has no spend: it takes the Gold that C holds
    merge = container.identity.merge_members(org.id, c, d, actor="tester")
    assert (merge.survivor_id, merge.loser_id) == (d, c)
    assert _tier_name(container, org, d) == "Gold"
