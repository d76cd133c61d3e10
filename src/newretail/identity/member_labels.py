"""How console pages name a member: its name, else a masked phone or e-mail, else the types of
its identifiers (never its internal id). Each profile is shown as the member it belongs to now.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.members.profile_graph import Member, MemberIdentifier


@dataclass(frozen=True)
class MemberLabel:
    member_id: uuid.UUID  # the member page to link to
    name: str | None
    contact: str | None  # a masked phone or e-mail
    identifier_types: tuple[str, ...]  # of the whole member, for a nameless one


def mask_phone(phone: str) -> str:
    """`+86 ••• •••• 8000`: enough to tell two phones apart, not to call one."""
    return f"••• {phone[-4:]}" if len(phone) > 4 else "•••"


def mask_email(email: str) -> str:
    """`a•••@example.com`."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


def member_labels(session: Session, profiles: Iterable[uuid.UUID]) -> dict[uuid.UUID, MemberLabel]:
    """Each profile's canonical member, labelled for a person to read."""
    wanted = sorted(set(profiles))
    if not wanted:
        return {}
    canonical = {
        member_id: canonical_id or member_id
        for member_id, canonical_id in session.execute(
            select(Member.id, Member.canonical_id).where(Member.id.in_(wanted))
        )
    }
    roots = sorted(set(canonical.values()))
    rows = session.execute(
        select(Member.id, Member.canonical_id, Member.name, Member.phone, Member.email).where(
            Member.id.in_(roots) | Member.canonical_id.in_(roots)
        )
    ).all()
    names: dict[uuid.UUID, str | None] = {}
    contacts: dict[uuid.UUID, str | None] = {}
    root_of: dict[uuid.UUID, uuid.UUID] = {}
    for member_id, canonical_id, name, phone, email in sorted(
        rows, key=lambda r: r[0] not in roots
    ):
        root = canonical_id or member_id
        root_of[member_id] = root
        if name and not names.get(root):
            names[root] = name
        contact = mask_phone(phone) if phone else mask_email(email) if email else None
        if contact and not contacts.get(root):
            contacts[root] = contact
    types: dict[uuid.UUID, set[str]] = {}
    for member_id, kind in session.execute(
        select(MemberIdentifier.member_id, MemberIdentifier.identifier_type).where(
            MemberIdentifier.member_id.in_(list(root_of))
        )
    ):
        types.setdefault(root_of[member_id], set()).add(kind)
    return {
        profile: MemberLabel(
            root,
            names.get(root),
            contacts.get(root),
            tuple(sorted(types.get(root, set()))),
        )
        for profile, root in canonical.items()
    }


def profile_labels(session: Session, profiles: Iterable[uuid.UUID]) -> dict[uuid.UUID, MemberLabel]:
    """Each profile labelled by what it holds itself (a merge's side), linked to its own page
    (which names the member it was merged into)."""
    wanted = sorted(set(profiles))
    if not wanted:
        return {}
    types: dict[uuid.UUID, set[str]] = {}
    for member_id, kind in session.execute(
        select(MemberIdentifier.member_id, MemberIdentifier.identifier_type).where(
            MemberIdentifier.member_id.in_(wanted)
        )
    ):
        types.setdefault(member_id, set()).add(kind)
    return {
        member_id: MemberLabel(
            member_id,
            name,
            mask_phone(phone) if phone else mask_email(email) if email else None,
            tuple(sorted(types.get(member_id, set()))),
        )
        for member_id, name, phone, email in session.execute(
            select(Member.id, Member.name, Member.phone, Member.email).where(Member.id.in_(wanted))
        )
    }
