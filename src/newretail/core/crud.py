"""The steps CRUD services repeat: find a row or refuse, filter a list, flush guarding unique
keys, insert a one-of-a-kind row once, apply a PATCH body.

Lookups go through the caller's session, so they see only its organisation
(`newretail.core.database.scope_session`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, Session

from newretail.core.database import utcnow
from newretail.core.errors import Conflict, InvalidInput, NotFound

RowT = TypeVar("RowT")
SelectT = TypeVar("SelectT", bound=Select[Any])


def get_or_raise(
    session: Session, model: type[RowT], row_id: uuid.UUID, missing: Callable[[], Exception]
) -> RowT:
    """The row with this id in the session's organisation; `missing()` is raised without one."""
    row = session.get(model, row_id)
    if row is None:
        raise missing()
    return row


def get_or_not_found(
    session: Session, model: type[RowT], row_id: uuid.UUID, what: str, *, field: str
) -> RowT:
    """The row with this id in the session's organisation, else `<what> not found` (404)."""
    return get_or_raise(session, model, row_id, lambda: NotFound(f"{what} not found", field=field))


def by_code_or_not_found(
    session: Session, model: type[RowT], code: str, what: str, *, field: str
) -> RowT:
    """The row with this code in the session's organisation, else `no <what> with code …`."""
    row: RowT | None = session.scalar(select(model).filter_by(code=code))
    if row is None:
        raise NotFound(f"no {what} with code {code!r}", field=field)
    return row


def contains_text(text: str, *columns: QueryableAttribute[Any]) -> ColumnElement[bool]:
    """Any of the columns holds the text, in any case (a search box)."""
    return or_(*(column.ilike(f"%{text}%") for column in columns))


def where_given(statement: SelectT, *conditions: tuple[QueryableAttribute[Any], object]) -> SelectT:
    """Narrow the select to `column == value` for every (column, value) whose value is given
    (None and empty values filter nothing)."""
    for column, value in conditions:
        if value:
            statement = statement.where(column == value)
    return statement


def flush_or_raise(session: Session, conflict: Callable[[], Exception]) -> None:
    """Flush in a savepoint; a constraint violation raises `conflict()` (the session stays
    usable: only the savepoint is rolled back)."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise conflict() from exc


def insert_once(session: Session, row: RowT, recorded: Callable[[], RowT | None]) -> RowT:
    """Insert a row that its unique key makes one of a kind; when a concurrent transaction
    inserted its twin first, the twin (`recorded()`) instead."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        found = recorded()
        if found is None:
            raise
        return found
    return row


def flush_unique(session: Session, field: str, message: str) -> None:
    """Flush, turning a unique-constraint violation into a 409 naming the field."""
    flush_or_raise(session, lambda: Conflict(message, field=field))


class FieldError(Protocol):
    """An error about one input field (an error class taking `field=`, or a factory)."""

    def __call__(self, *, field: str) -> Exception: ...


def _null_refused(*, field: str) -> Exception:
    return InvalidInput("must not be null", field=field)


def refuse_nulls(
    changes: Mapping[str, object], fields: Iterable[str], refused: FieldError = _null_refused
) -> None:
    """Refuse a change that sets one of these fields to null (they cannot be cleared)."""
    for field in fields:
        if field in changes and changes[field] is None:
            raise refused(field=field)


def apply_changes(obj: Any, changes: Mapping[str, Any]) -> None:
    """Set each changed attribute, stamping `updated_at` where the row has one."""
    for name, value in changes.items():
        setattr(obj, name, value)
    if hasattr(obj, "updated_at"):
        obj.updated_at = utcnow()
