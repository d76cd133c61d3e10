"""Member use cases: profiles, identifiers and lookup across channels (consent: consent.py).

Callers own the transaction (services flush, never commit). Sessions are scoped to the
principal's organisation, so another organisation's members are never found.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from newretail.core import domain_events
from newretail.core.database import (
    apply_changes,
    flush_or_raise,
    get_or_raise,
    partial_changes,
    utcnow,
    where_given,
)
from newretail.core.pagination import numbered_page, paginate
from newretail.events import outbox
from newretail.identity.organization_rules import load_rules
from newretail.members import schemas, tiers
from newretail.members.erasure import TOMBSTONE_STATUS
from newretail.members.errors import (
    IdentifierTaken,
    InvalidIdentifier,
    MemberNotFound,
    NoMemberWithIdentifier,
    RequiredValue,
    UnknownIdentifierType,
    UnknownReference,
)
from newretail.members.identifiers import hash_for, identifier_hash, member_settings, normalise
from newretail.members.models import (
    IdentifierType,
    Member,
    MemberIdentifier,
    MemberTier,
)
from newretail.members.profile_events import MemberCorrected
from newretail.tenancy.models import Brand, Store
from newretail.tenancy.permissions import Permission, Principal

TIER_REVIEW_PERIOD = timedelta(days=365)
LOOKUP_FIELDS = (
    IdentifierType.PHONE,
    IdentifierType.MEMBER_CARD,
    IdentifierType.ACCOUNT_ID,
    IdentifierType.EMAIL,
)


def _require_any(principal: Principal, *permissions: Permission) -> None:
    if not any(principal.can(p) for p in permissions):
        principal.require(permissions[0])


# ---------------------------------------------------------------- identifiers
def _identifier_values(data: schemas._MemberFields) -> dict[IdentifierType, str]:
    """Normalised identifiers present in the input (phone, e-mail, card, account)."""
    values: dict[IdentifierType, str] = {}
    for kind in LOOKUP_FIELDS:
        raw = getattr(data, str(kind), None)
        if raw:
            values[kind] = normalise(kind, raw)
    return values


def _set_identifier(
    session: Session, member: Member, kind: IdentifierType, normalised: str
) -> None:
    """Give the member this identifier (replacing its previous value of the type)."""
    secret = member_settings(session, member.organization_id).identifier_secret
    value_hash = identifier_hash(secret, kind, normalised)
    owner = session.scalar(
        select(MemberIdentifier).where(
            MemberIdentifier.identifier_type == kind, MemberIdentifier.value_hash == value_hash
        )
    )

    def taken() -> IdentifierTaken:
        return IdentifierTaken(field=str(kind), kind=str(kind))

    if owner is not None:
        if owner.member_id == member.id:
            return
        raise taken()
    for old in session.scalars(
        select(MemberIdentifier).where(
            MemberIdentifier.member_id == member.id, MemberIdentifier.identifier_type == kind
        )
    ):
        session.delete(old)
    session.flush()
    session.add(
        MemberIdentifier(
            organization_id=member.organization_id,
            member_id=member.id,
            identifier_type=kind,
            value_hash=value_hash,
        )
    )
    flush_or_raise(session, taken)  # taken concurrently


def find_member_by_hash(
    session: Session, identifier_type: IdentifierType | str, value_hash: str
) -> Member | None:
    """The canonical member of the identifier's profile (OneID: merged members forward)."""
    statement = (
        select(Member)
        .join(MemberIdentifier, MemberIdentifier.member_id == Member.id)
        .where(
            MemberIdentifier.identifier_type == str(identifier_type),
            MemberIdentifier.value_hash == value_hash,
        )
    )
    member = session.scalar(statement)
    if member is not None and member.canonical_id is not None:
        return session.get(Member, member.canonical_id) or member
    return member


def find_member(
    session: Session, principal: Principal, identifier_type: IdentifierType | str, raw_value: str
) -> Member | None:
    """The member with this identifier in any format ("138 0013 8000" = "+8613800138000")."""
    _require_any(principal, Permission.READ, Permission.SELL)
    custom = identifier_type not in set(IdentifierType)  # an organisation's custom type
    if custom and identifier_type not in load_rules(session, principal.organization_id).types:
        raise UnknownIdentifierType(field="type")
    value_hash = hash_for(session, principal.organization_id, identifier_type, raw_value)
    return find_member_by_hash(session, identifier_type, value_hash)


def lookup_member(
    session: Session, principal: Principal, identifier_type: IdentifierType | str, raw_value: str
) -> Member:
    """Like find_member, but a missing member is a 404."""
    member = find_member(session, principal, identifier_type, raw_value)
    if member is None:
        raise NoMemberWithIdentifier(field="value")
    return member


# ---------------------------------------------------------------- members
def _check_references(session: Session, data: schemas.MemberCreate) -> None:
    if data.join_store_id is not None and session.get(Store, data.join_store_id) is None:
        raise UnknownReference(field="join_store_id", reason="store")
    if data.join_brand_id is not None and session.get(Brand, data.join_brand_id) is None:
        raise UnknownReference(field="join_brand_id", reason="brand")


def create_member(
    session: Session,
    principal: Principal,
    data: schemas.MemberCreate,
) -> Member:
    """Create a member with its identifiers; enqueues `member_join`."""
    _require_any(principal, Permission.MANAGE_MEMBERS, Permission.SELL)
    return _create_member(session, principal.organization_id, data)


def _create_member(
    session: Session, organization_id: uuid.UUID, data: schemas.MemberCreate
) -> Member:
    identifiers = _identifier_values(data)
    _check_references(session, data)
    store = session.get(Store, data.join_store_id) if data.join_store_id else None
    channel = data.join_channel or (store.channel_type if store else None)
    brand_id = data.join_brand_id or (store.brand_id if store else None)
    joined_at = data.joined_at or utcnow()
    member = Member(
        id=uuid.uuid4(),
        organization_id=organization_id,
        name=data.name,
        gender=data.gender,
        birth_year=data.birth_year,
        city=data.city,
        phone=identifiers.get(IdentifierType.PHONE),
        email=identifiers.get(IdentifierType.EMAIL),
        joined_at=joined_at,
        join_store_id=data.join_store_id,
        join_channel=channel,
        join_brand_id=brand_id,
        tier_id=None,
        tier_review_at=joined_at + TIER_REVIEW_PERIOD,
        points_available=0,
        points_locked=0,
    )
    default_tier = tiers.qualifying_tier(session, tiers.ZERO)
    member.tier_id = default_tier.id if default_tier else None
    session.add(member)
    session.flush()
    for kind, value in identifiers.items():
        _set_identifier(session, member, kind, value)
    outbox.enqueue(
        session,
        organization_id,
        "member_join",
        occurred_at=joined_at,
        brand_id=brand_id,
        store_id=data.join_store_id,
        channel=channel,
        member_id=member.id,
    )
    return member


def get_or_create_member(
    session: Session, principal: Principal, data: schemas.MemberCreate
) -> tuple[Member, bool]:
    """The member any given identifier finds (phone first), or a new one; True if created.

    Identifiers of a type the found member does not have yet are added to it; a value that
    conflicts with the member's own (a second phone) or with another member is left alone.
    """
    _require_any(principal, Permission.MANAGE_MEMBERS, Permission.SELL)
    identifiers = _identifier_values(data)
    secret = member_settings(session, principal.organization_id).identifier_secret
    for attempt in range(2):
        found = _found_and_completed(session, secret, identifiers)
        if found is not None:
            return found, False
        try:
            with session.begin_nested():
                return _create_member(session, principal.organization_id, data), True
        except IdentifierTaken:  # OneID or another till enrolled the same phone meanwhile
            if attempt:
                raise
    raise RuntimeError("unreachable")


def _found_and_completed(
    session: Session, secret: bytes, identifiers: dict[IdentifierType, str]
) -> Member | None:
    for kind, value in identifiers.items():
        member = find_member_by_hash(session, kind, identifier_hash(secret, kind, value))
        if member is None:
            continue
        held = set(
            session.scalars(
                select(MemberIdentifier.identifier_type).where(
                    MemberIdentifier.member_id == member.id
                )
            )
        )
        for other_kind, other_value in identifiers.items():
            if other_kind in held:
                continue
            owner = find_member_by_hash(
                session, other_kind, identifier_hash(secret, other_kind, other_value)
            )
            if owner is None:
                _set_identifier(session, member, other_kind, other_value)
        return member
    return None


def get_member(session: Session, principal: Principal, member_id: uuid.UUID) -> Member:
    """The member with this id; 404 outside the organisation."""
    principal.require(Permission.READ)
    return get_or_raise(session, Member, member_id, lambda: MemberNotFound(field="member_id"))


@dataclass(frozen=True)
class MemberFilter:
    tier: str | None = None  # a tier id or name
    city: str | None = None
    q: str | None = None


def _tier_id(session: Session, ref: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ref)
    except ValueError:
        return session.scalar(select(MemberTier.id).where(MemberTier.name == ref))


def _filtered_members(session: Session, principal: Principal, filters: MemberFilter) -> Select[Any]:
    statement = where_given(select(Member), (Member.city, filters.city))
    if filters.tier:
        statement = statement.where(Member.tier_id == _tier_id(session, filters.tier))
    if filters.q:
        matches = [Member.name.ilike(f"%{filters.q}%")]
        for kind in (IdentifierType.PHONE, IdentifierType.MEMBER_CARD, IdentifierType.EMAIL):
            try:
                value_hash = hash_for(session, principal.organization_id, kind, filters.q)
            except InvalidIdentifier:
                continue
            home = aliased(Member)
            matches.append(  # the canonical member of the identifier's profile
                Member.id.in_(
                    select(func.coalesce(home.canonical_id, home.id))
                    .join(MemberIdentifier, MemberIdentifier.member_id == home.id)
                    .where(
                        MemberIdentifier.identifier_type == kind,
                        MemberIdentifier.value_hash == value_hash,
                    )
                )
            )
        statement = statement.where(or_(*matches))
    # merged members and erased members' tombstones are hidden
    return statement.where(Member.merged_into_id.is_(None), Member.status != TOMBSTONE_STATUS)


def list_members(
    session: Session, principal: Principal, filters: MemberFilter, limit: int, cursor: str | None
) -> tuple[list[Member], str | None]:
    """Members filtered by tier, city and q (a name substring, or an exact phone/card/e-mail)."""
    principal.require(Permission.READ)
    return paginate(session, _filtered_members(session, principal, filters), Member, limit, cursor)


def member_page(
    session: Session, principal: Principal, filters: MemberFilter, page: int, per_page: int
) -> tuple[list[Member], int]:
    """One numbered page of the filtered members, oldest first, and how many match."""
    principal.require(Permission.READ)
    statement = _filtered_members(session, principal, filters).order_by(
        Member.created_at, Member.id
    )
    return numbered_page(session, statement, page, per_page)


def update_member(
    session: Session, principal: Principal, member_id: uuid.UUID, data: schemas.MemberUpdate
) -> Member:
    """Change a member's profile, identifiers or status (audited by privacy as a
    correction: `MemberCorrected`)."""
    principal.require(Permission.MANAGE_MEMBERS)
    member = get_member(session, principal, member_id)
    changes = partial_changes(data, ("status",), RequiredValue)
    identifiers = _identifier_values(data)
    for kind in LOOKUP_FIELDS:
        changes.pop(str(kind), None)
    apply_changes(member, changes)
    for kind, value in identifiers.items():
        _set_identifier(session, member, kind, value)
        member.anonymous = False  # a phone, card, account or e-mail makes a profile known
        if kind == IdentifierType.PHONE:
            member.phone = value
        elif kind == IdentifierType.EMAIL:
            member.email = value
    session.flush()
    fields = tuple(sorted(data.model_fields_set))
    if fields:
        domain_events.publish(
            session, MemberCorrected(member.organization_id, member.id, fields, principal)
        )
    return member


def delete_member(session: Session, principal: Principal, member_id: uuid.UUID) -> None:
    """Erase a member with identifiers, consent, points and spend."""
    principal.require(Permission.MANAGE_MEMBERS)
    session.delete(get_member(session, principal, member_id))
    session.flush()


def member_tier_names(session: Session, members: Sequence[Member]) -> dict[uuid.UUID, str]:
    """Tier names by tier id (member lists show them)."""
    return {t.id: t.name for t in tiers.all_tiers(session)}
