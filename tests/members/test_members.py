"""Members: identifier normalisation and hashing, lookup across channels, consent history."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.events.models import OutboxMessage
from newretail.members import consent, schemas, service
from newretail.members.errors import IdentifierTaken, InvalidIdentifier
from newretail.members.identifiers import member_settings, normalise, normalise_phone
from newretail.members.models import ConsentChannel, ConsentSource, MemberIdentifier
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import Org
from tests.members.conftest import org_session, owner_of


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("138 0013 8000", "+8613800138000"),
        ("13800138000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("+8613800138000", "+8613800138000"),
        ("(021) 6321 1234", "+862163211234"),
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_phones_are_normalised_to_e164_with_china_as_default(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "not a phone", "+86 999"])
def test_invalid_phones_are_refused_with_the_field(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        normalise_phone(raw)
    assert (raised.value.code, raised.value.field) == ("invalid_identifier", "phone")


def test_cards_are_upper_cased_and_emails_lower_cased() -> None:
    assert normalise("member_card", " vip-0001 ") == "VIP-0001"
    assert normalise("email", "Li.Lei@Example.COM") == "li.lei@example.com"


def test_identifiers_are_stored_as_keyed_hashes_only(container: Container, org: Org) -> None:
    with org_session(container, org) as session:
        member = service.create_member(
            session,
            owner_of(org),
            schemas.MemberCreate(
                name="Han Meimei", phone="138 0013 8000", member_card="vip-0001", city="Shanghai"
            ),
        )
        member_id = member.id
        assert member.phone == "+8613800138000"
    with org_session(container, org) as session:
        secret = member_settings(session, org.id).identifier_secret
        assert len(secret) == 32
        rows = session.scalars(
            select(MemberIdentifier).where(MemberIdentifier.member_id == member_id)
        ).all()
        stored = {(r.identifier_type, r.value_hash) for r in rows}
        expected_phone = hmac.new(secret, b"phone:+8613800138000", hashlib.sha256).hexdigest()
        expected_card = hmac.new(secret, b"member_card:VIP-0001", hashlib.sha256).hexdigest()
        assert stored == {("phone", expected_phone), ("member_card", expected_card)}
        every_value = " ".join(f"{r.identifier_type} {r.value_hash}" for r in rows)
        for raw in ("13800138000", "8613800138000", "VIP-0001", "vip-0001"):
            assert raw not in every_value


def test_lookup_finds_the_same_member_across_formats(container: Container, org: Org) -> None:
    with org_session(container, org) as session:
        owner = owner_of(org)
        created = service.create_member(
            session, owner, schemas.MemberCreate(name="Li Lei", phone="+8613800138000")
        )
        for raw in ("138 0013 8000", "+8613800138000", "13800138000", "+86 138-0013-8000"):
            found = service.find_member(session, owner, "phone", raw)
            assert found is not None
            assert found.id == created.id
        assert service.find_member(session, owner, "phone", "13900139000") is None


def test_the_same_phone_in_another_organisation_is_another_member(
    container: Container, org: Org, other_org: Org
) -> None:
    with org_session(container, org) as session:
        first = service.create_member(
            session, owner_of(org), schemas.MemberCreate(phone="13800138000")
        )
        first_id = first.id
    with org_session(container, other_org) as session:
        assert service.find_member(session, owner_of(other_org), "phone", "13800138000") is None
        second = service.create_member(
            session, owner_of(other_org), schemas.MemberCreate(phone="13800138000")
        )
        assert second.id != first_id


def test_a_taken_identifier_is_a_conflict(container: Container, org: Org) -> None:
    with org_session(container, org) as session:
        service.create_member(session, owner_of(org), schemas.MemberCreate(phone="13800138000"))
    with pytest.raises(IdentifierTaken) as raised, org_session(container, org) as session:
        service.create_member(session, owner_of(org), schemas.MemberCreate(phone="138 0013 8000"))
    assert (raised.value.status_code, raised.value.field) == (409, "phone")


def test_get_or_create_finds_one_member_across_pos_and_online(
    container: Container, org: Org
) -> None:
    cashier = Principal.for_role(
        PrincipalKind.API_KEY, org.id, Role.STORE_MANAGER, "pos", frozenset(org.store_ids)
    )
    with org_session(container, org) as session:
        at_pos, created = service.get_or_create_member(
            session,
            cashier,
            schemas.MemberCreate(phone="138 0013 8000", join_store_id=org.store_ids[0]),
        )
        assert created is True
        assert (at_pos.join_channel, at_pos.join_brand_id) == ("store", org.brand_id)
        online, created_online = service.get_or_create_member(
            session,
            cashier,
            schemas.MemberCreate(phone="+8613800138000", account_id="tmall-778"),
        )
        assert created_online is False
        assert online.id == at_pos.id
        by_account = service.find_member(session, cashier, "account_id", "tmall-778")
        assert by_account is not None
        assert by_account.id == at_pos.id
        joins = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.member_id == at_pos.id, OutboxMessage.event_type == "member_join"
            )
        ).all()
        assert [(j.store_id, j.brand_id, j.channel) for j in joins] == [
            (org.store_ids[0], org.brand_id, "store")
        ]


def test_consent_changes_are_kept_with_source_and_actor(container: Container, org: Org) -> None:
    owner = owner_of(org)
    with org_session(container, org) as session:
        member_id = service.create_member(session, owner, schemas.MemberCreate(name="Wang")).id
        sms = schemas.ConsentItem(channel=ConsentChannel.SMS, granted=True)
        consent.set_consent(session, owner, member_id, [sms], source=ConsentSource.POS)
        # an unchanged value is no change
        consent.set_consent(session, owner, member_id, [sms], source=ConsentSource.API)
        withdrawn = schemas.ConsentItem(channel=ConsentChannel.SMS, granted=False)
        wechat = schemas.ConsentItem(channel=ConsentChannel.WECHAT, granted=True)
        result = consent.set_consent(
            session, owner, member_id, [withdrawn, wechat], source=ConsentSource.CONSOLE
        )
        assert [(c.channel, c.granted, c.source) for c in result.consents] == [
            ("sms", False, "console"),
            ("wechat", True, "console"),
        ]
        assert sorted((h.channel, h.granted, h.source, h.actor) for h in result.history) == [
            ("sms", False, "console", "tester"),
            ("sms", True, "pos", "tester"),
            ("wechat", True, "console", "tester"),
        ]
        events = session.scalars(
            select(OutboxMessage.properties).where(
                OutboxMessage.member_id == member_id,
                OutboxMessage.event_type == "consent_changed",
            )
        ).all()
        assert len(events) == 3


def test_members_of_other_organisations_are_not_found(
    container: Container, org: Org, other_org: Org
) -> None:
    with org_session(container, org) as session:
        member_id = service.create_member(session, owner_of(org), schemas.MemberCreate()).id
    with org_session(container, other_org) as session:
        with pytest.raises(Exception) as raised:
            service.get_member(session, owner_of(other_org), member_id)
        assert getattr(raised.value, "code", None) == "not_found"
    assert uuid.UUID(str(member_id)) == member_id
