"""Home profiles of identifiers: found by their keyed hash, or created in bulk.

The first time an identifier is seen it gets its own profile (a `member` row, anonymous
unless the identifier makes it known). Two writers creating the same identifier at once
agree: the identifier's unique index keeps one, the other's profile is deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.identity.inserts import dialect_insert
from newretail.identity.keys import UNSCOPED_NO_SYNC, keyed
from newretail.members.identifiers import identifier_hash
from newretail.members.profile_graph import (
    PERSONAL_TYPES,
    IdentifierType,
    Member,
    MemberIdentifier,
    MemberStatus,
)

Key = tuple[str, str]  # (type, normalised value)


def _read_owners(
    session: Session, wanted: dict[str, list[str]], owners: dict[tuple[str, str], uuid.UUID]
) -> None:
    for kind, values in wanted.items():
        for start in range(0, len(values), 500):
            for value_hash, member_id in session.execute(
                select(MemberIdentifier.value_hash, MemberIdentifier.member_id).where(
                    MemberIdentifier.identifier_type == kind,
                    MemberIdentifier.value_hash.in_(values[start : start + 500]),
                )
            ):
                owners[(kind, value_hash)] = member_id


def load_or_create_profiles(
    session: Session,
    organization_id: uuid.UUID,
    secret: bytes,
    missing: set[Key],
    at: datetime,
) -> tuple[set[uuid.UUID], dict[Key, uuid.UUID]]:
    """Find the home profiles of these identifiers; create the missing ones in bulk.

    Returns the profiles created here and the home of every identifier asked for."""
    hashes = {key: identifier_hash(secret, key[0], key[1]) for key in missing}
    by_type: dict[str, list[str]] = {}
    for (kind, _value), value_hash in hashes.items():
        by_type.setdefault(kind, []).append(value_hash)
    owners: dict[tuple[str, str], uuid.UUID] = {}
    _read_owners(session, by_type, owners)
    fresh: set[uuid.UUID] = set()
    unseen = [key for key in missing if (key[0], hashes[key]) not in owners]
    if unseen:
        created, stored = _create_profiles(session, organization_id, unseen, hashes, at)
        lost = {k: m for k, m in created.items() if (k[0], hashes[k]) not in stored}
        if lost:  # another writer created them first: use theirs, drop ours
            retry: dict[str, list[str]] = {}
            for key in lost:
                retry.setdefault(key[0], []).append(hashes[key])
            _read_owners(session, retry, owners)
            session.execute(
                delete(Member).where(
                    keyed(Member, organization_id, Member.id, list(lost.values()))
                ),
                execution_options=UNSCOPED_NO_SYNC,
            )
        fresh = {member_id for key, member_id in created.items() if key not in lost}
        for key, member_id in created.items():
            if key not in lost:
                owners[(key[0], hashes[key])] = member_id
    return fresh, {key: owners[(key[0], hashes[key])] for key in missing}


def profile_row(
    organization_id: uuid.UUID,
    member_id: uuid.UUID,
    identifiers: Mapping[str, str],
    at: datetime,
    now: datetime,
) -> dict[str, object]:
    """A new profile's member row: its identifiers ({type: normalised value}) make it known
    or anonymous and give its phone and e-mail; it joined at `at`."""
    return {
        "id": member_id,
        "organization_id": organization_id,
        "created_at": now,
        "status": MemberStatus.ACTIVE,
        "joined_at": at,
        "points_available": 0,
        "points_locked": 0,
        "anonymous": not (identifiers.keys() & PERSONAL_TYPES),
        "phone": identifiers.get(IdentifierType.PHONE),
        "email": identifiers.get(IdentifierType.EMAIL),
    }


def identifier_row(
    organization_id: uuid.UUID, member_id: uuid.UUID, kind: str, value_hash: str, now: datetime
) -> dict[str, object]:
    """A new identifier's row: its type and keyed hash, at home in the member."""
    return {
        "id": uuid.uuid4(),
        "created_at": now,
        "organization_id": organization_id,
        "member_id": member_id,
        "identifier_type": kind,
        "value_hash": value_hash,
    }


def _create_profiles(
    session: Session,
    organization_id: uuid.UUID,
    keys: list[Key],
    hashes: dict[Key, str],
    at: datetime,
) -> tuple[dict[Key, uuid.UUID], set[tuple[str, str]]]:
    """One profile per unseen identifier; returns them and the (type, hash) rows stored.

    An identifier stored by another writer meanwhile is not stored here (ON CONFLICT DO
    NOTHING); its new profile is an orphan for the caller to delete.
    """
    now = utcnow()
    created = {key: uuid.uuid4() for key in keys}
    session.execute(
        insert(Member),
        [
            profile_row(organization_id, member_id, {kind: value}, at, now)
            for (kind, value), member_id in created.items()
        ],
    )
    statement = (
        dialect_insert(session, MemberIdentifier)
        .on_conflict_do_nothing(index_elements=["organization_id", "identifier_type", "value_hash"])
        .returning(MemberIdentifier.identifier_type, MemberIdentifier.value_hash)
    )
    rows = [
        identifier_row(organization_id, member_id, kind, hashes[(kind, value)], now)
        for (kind, value), member_id in created.items()
    ]
    stored: set[tuple[str, str]] = set()
    for start in range(0, len(rows), 1000):
        result = session.execute(statement, rows[start : start + 1000])
        stored.update((kind, value_hash) for kind, value_hash in result)
    return created, stored
