"""Identity use cases for operators: merges and undos, conflicts, identifier rules.

Merges and undos run in the caller's transaction (the request, the CLI command); once it
commits, the warehouse events follow under the warehouse lock and the resolver's cache learns
the new members (after-commit hooks). Nothing here commits.
"""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from newretail.core.database import get_or_not_found, utcnow, where_given
from newretail.core.errors import Forbidden, InvalidInput
from newretail.core.pagination import paginate
from newretail.identity import schemas
from newretail.identity.errors import ConflictClosed
from newretail.identity.models import (
    ConflictStatus,
    IdentityConflict,
    IdentityMerge,
    IdentitySettings,
    IdentityType,
)
from newretail.identity.organization_rules import load_rules
from newretail.identity.resolver import IdentityResolver
from newretail.identity.rules import BUILTIN_RULES
from newretail.members.profile_graph import Member, MemberIdentifier
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Permission, Principal


def _member(session: Session, member_id: uuid.UUID, field: str) -> Member:
    return get_or_not_found(session, Member, member_id, "member", field=field)


# ---------------------------------------------------------------- merges
def merge_members(
    session: Session, resolver: IdentityResolver, principal: Principal, data: schemas.MergeCreate
) -> IdentityMerge:
    """Merge two members by hand (audited; the older / known member survives)."""
    principal.require(Permission.MANAGE_MEMBERS)
    if data.force and principal.role not in (Role.OWNER, Role.ADMIN):
        raise Forbidden("only owners and admins may force a merge", field="force")
    _member(session, data.member_id, "member_id")
    _member(session, data.other_member_id, "other_member_id")
    if data.member_id == data.other_member_id:
        raise InvalidInput("give two different members", field="other_member_id")
    return resolver.merge_members(
        principal.organization_id,
        data.member_id,
        data.other_member_id,
        actor=principal.actor,
        force=data.force,
        session=session,
    )


def undo_merge(
    session: Session, resolver: IdentityResolver, principal: Principal, merge_id: uuid.UUID
) -> IdentityMerge:
    """Undo a merge: both members, their events, orders, points and consent come back."""
    principal.require(Permission.MANAGE_MEMBERS)
    get_or_not_found(session, IdentityMerge, merge_id, "merge", field="merge_id")
    return resolver.undo_merge(
        principal.organization_id, merge_id, actor=principal.actor, session=session
    )


def list_merges(
    session: Session,
    principal: Principal,
    member_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[IdentityMerge], str | None]:
    """The merge audit, oldest first; optionally only merges involving one member."""
    principal.require(Permission.READ)
    statement = select(IdentityMerge)
    if member_id is not None:
        statement = statement.where(
            or_(IdentityMerge.survivor_id == member_id, IdentityMerge.loser_id == member_id)
        )
    return paginate(session, statement, IdentityMerge, limit, cursor)


# ---------------------------------------------------------------- conflicts
def list_conflicts(
    session: Session,
    principal: Principal,
    status: ConflictStatus | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[IdentityConflict], str | None]:
    """Links that were not merged because a rule forbids it, oldest first."""
    principal.require(Permission.READ)
    statement = where_given(select(IdentityConflict), (IdentityConflict.status, status))
    return paginate(session, statement, IdentityConflict, limit, cursor)


def dismiss_conflict(
    session: Session, principal: Principal, conflict_id: uuid.UUID
) -> IdentityConflict:
    """Close a conflict without merging (the same link will not reopen it)."""
    principal.require(Permission.MANAGE_MEMBERS)
    conflict = get_or_not_found(
        session, IdentityConflict, conflict_id, "conflict", field="conflict_id"
    )
    if conflict.status != ConflictStatus.OPEN:
        raise ConflictClosed(f"this conflict is already {conflict.status}", field="conflict_id")
    conflict.status = ConflictStatus.DISMISSED
    conflict.resolved_at = utcnow()
    conflict.resolved_by = principal.actor
    session.flush()
    return conflict


# ---------------------------------------------------------------- identifier types
def get_types(session: Session, principal: Principal) -> schemas.TypesRead:
    """Every identifier type with its rules: built-in ones (maybe overridden) and custom ones."""
    principal.require(Permission.READ)
    rules = load_rules(session, principal.organization_id)
    return schemas.TypesRead(
        types=[
            schemas.TypeRuleRead(
                name=rule.name,
                builtin=rule.name in BUILTIN_RULES,
                unique_per_member=rule.unique_per_member,
                max_per_member=rule.limit,
            )
            for rule in sorted(
                rules.types.values(), key=lambda r: (r.name not in BUILTIN_RULES, r.name)
            )
        ],
        max_group_size=rules.max_group_size,
    )


def set_types(
    session: Session, principal: Principal, data: schemas.TypesUpdate
) -> schemas.TypesRead:
    """Replace the custom types and rule overrides (and the maximum group size)."""
    principal.require(Permission.MANAGE_MEMBERS)
    names = [t.name for t in data.types]
    if len(names) != len(set(names)):
        raise InvalidInput("each type may appear once", field="types")
    now = utcnow()
    session.execute(
        delete(IdentityType).where(IdentityType.organization_id == principal.organization_id),
        execution_options={"synchronize_session": False},
    )
    for rule in data.types:
        session.add(
            IdentityType(
                organization_id=principal.organization_id,
                name=rule.name,
                unique_per_member=rule.unique_per_member,
                max_per_member=1 if rule.unique_per_member else rule.max_per_member,
                updated_at=now,
            )
        )
    if data.max_group_size is not None:
        settings = session.scalar(select(IdentitySettings))
        if settings is None:
            settings = IdentitySettings(organization_id=principal.organization_id)
            session.add(settings)
        settings.max_group_size = data.max_group_size
        settings.updated_at = now
    session.flush()
    return get_types(session, principal)


# ---------------------------------------------------------------- a member's identities
def member_identities(
    session: Session, principal: Principal, member_id: uuid.UUID
) -> schemas.MemberIdentities:
    """A member's group: identifier types and counts (never values), members merged into it."""
    principal.require(Permission.READ)
    member = _member(session, member_id, "member_id")
    canonical = member.canonical_id or member.id
    profiles = [
        canonical,
        *session.scalars(select(Member.id).where(Member.canonical_id == canonical)),
    ]
    counts: Counter[str] = Counter(
        session.scalars(
            select(MemberIdentifier.identifier_type).where(MemberIdentifier.member_id.in_(profiles))
        )
    )
    merges = session.scalars(
        select(IdentityMerge)
        .where(IdentityMerge.survivor_id == member.id, IdentityMerge.undone_at.is_(None))
        .order_by(IdentityMerge.created_at, IdentityMerge.id)
    ).all()
    return schemas.MemberIdentities(
        member_id=member.id,
        canonical_id=canonical,
        merged_into_id=member.merged_into_id,
        anonymous=member.anonymous,
        profiles=len(profiles),
        identifiers=[
            schemas.IdentifierCount(type=kind, count=count)
            for kind, count in sorted(counts.items())
        ],
        merged_from=[schemas.MergeRead.model_validate(m) for m in merges],
    )


def member_identifiers(
    session: Session, principal: Principal, member_id: uuid.UUID
) -> list[schemas.IdentifierHeld]:
    """Every identifier held for the member's group, as held (keyed hashes), by profile."""
    principal.require(Permission.READ)
    member = _member(session, member_id, "member_id")
    canonical = member.canonical_id or member.id
    profiles = [
        canonical,
        *session.scalars(select(Member.id).where(Member.canonical_id == canonical)),
    ]
    rows = session.scalars(
        select(MemberIdentifier)
        .where(MemberIdentifier.member_id.in_(profiles))
        .order_by(MemberIdentifier.identifier_type, MemberIdentifier.created_at)
    ).all()
    return [
        schemas.IdentifierHeld(
            profile_id=row.member_id,
            type=row.identifier_type,
            value_hash=row.value_hash,
            created_at=row.created_at,
        )
        for row in rows
    ]
