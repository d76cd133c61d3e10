"""Inserts that keep a row another writer stored first, and rows keyed by a pair of members.

Links (`identity_link`) and conflicts (`identity_conflict`) are keyed by a pair of members,
the smaller id first, unique per organisation: the same link or conflict arriving again (or
from another process at once) leaves the stored row as it is.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

PAIR_KEY = ["organization_id", "member_a", "member_b"]  # the unique index of pair rows


def dialect_insert(session: Session, model: Any) -> Any:
    """INSERT with ON CONFLICT support for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def pair(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """A link's key: the smaller member id first."""
    return (a, b) if a < b else (b, a)


def pair_row(
    organization_id: uuid.UUID, a: uuid.UUID, b: uuid.UUID, at: datetime, **values: object
) -> dict[str, object]:
    """A new link's or conflict's row between two members (the smaller id first)."""
    first, second = pair(a, b)
    return {
        "id": uuid.uuid4(),
        "created_at": at,
        "organization_id": organization_id,
        "member_a": first,
        "member_b": second,
        **values,
    }


def insert_new_pairs(session: Session, model: Any) -> Any:
    """INSERT of pair rows that keeps a pair stored already (execute it with the rows)."""
    return dialect_insert(session, model).on_conflict_do_nothing(index_elements=PAIR_KEY)
