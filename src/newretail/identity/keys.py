"""Lookups by member id that use the id's index.

The session hook adds `organization_id = :org` to every ORM query. For `member_id IN (…)`
lookups SQLite then prefers the organisation index and scans every row of the organisation
(millions of profiles). These helpers skip the hook (`include_all_organizations`) and state
the organisation themselves in a form no index is chosen for, so the id index is used and
the organisation is still enforced. Long lists go 500 values a query.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, and_, func, select
from sqlalchemy.orm import Session

from newretail.members.profile_graph import Member

UNSCOPED = {"include_all_organizations": True}
UNSCOPED_NO_SYNC = {"include_all_organizations": True, "synchronize_session": False}
CHUNK = 500  # values in one IN (…) list
T = TypeVar("T")


def keyed(
    model: Any, organization_id: uuid.UUID, column: Any, values: Collection[Any]
) -> ColumnElement[bool]:
    """`column IN values` within the organisation (run with UNSCOPED)."""
    same_org = func.coalesce(model.organization_id, model.organization_id) == organization_id
    return and_(same_org, column.in_(list(values)))


def chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """The values, CHUNK at a time."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def keyed_rows(
    session: Session,
    organization_id: uuid.UUID,
    columns: Sequence[Any],
    column: Any,
    values: Iterable[Any],
) -> Iterator[Row[*tuple[Any, ...]]]:
    """The rows of these columns whose `column` is one of the values, in the organisation."""
    model = column.class_
    for chunk in chunks(sorted(values)):
        yield from session.execute(
            select(*columns).where(keyed(model, organization_id, column, chunk)),
            execution_options=UNSCOPED,
        )


def canonical_members(
    session: Session, organization_id: uuid.UUID, members: Iterable[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Each stored member's canonical (surviving) member, itself when not merged."""
    columns = (Member.id, Member.canonical_id)
    return {
        member_id: canonical_id or member_id
        for member_id, canonical_id in keyed_rows(
            session, organization_id, columns, Member.id, members
        )
    }
