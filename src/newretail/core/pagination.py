"""One pagination and filtering convention for every list endpoint (docs/api.md).

Lists are ordered by (created_at, id) and paged with an opaque keyset cursor:
`?limit=50&cursor=<next_cursor from the previous page>`.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from newretail.core.errors import InvalidInput
from newretail.core.limits import MAX_OFFSET, PAGE_SIZE_MAX

T = TypeVar("T")
MAX_LIMIT = PAGE_SIZE_MAX
__all__ = ["MAX_LIMIT", "MAX_OFFSET", "Page", "numbered_page", "page_number", "paginate"]


class Page(BaseModel, Generic[T]):
    """A page of results; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, row_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created_at), uuid.UUID(row_id)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("not a cursor from a previous page", field="query.cursor") from exc


def paginate(
    session: Session, statement: Select[Any], model: Any, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """Run a keyset-paged select over `model` and return the rows and the next cursor."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"must be between 1 and {MAX_LIMIT}", field="query.limit")
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        statement = statement.where(
            or_(
                model.created_at > created_at,
                and_(model.created_at == created_at, model.id > row_id),
            )
        )
    rows = list(
        session.scalars(statement.order_by(model.created_at, model.id).limit(limit + 1)).unique()
    )
    if len(rows) > limit:
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(last.created_at, last.id)
    return rows, None


# ---------------------------------------------------------------- numbered pages (console lists)
CONSOLE_PER_PAGE = 50


def page_number(raw: str | int | None) -> int:
    """A 1-based page number from a query parameter; anything else is a clear 422."""
    try:
        number = int(raw) if raw not in (None, "") else 1
    except (TypeError, ValueError) as exc:
        raise InvalidInput("must be a whole number from 1", field="query.page") from exc
    if number < 1:
        raise InvalidInput("must be a whole number from 1", field="query.page")
    return number


def numbered_page(
    session: Session, statement: Select[Any], page: int, per_page: int = CONSOLE_PER_PAGE
) -> tuple[list[Any], int]:
    """One numbered page of an ordered select and the total row count (for "1–50 of 1,234").

    The statement carries its own ORDER BY (a unique tie-breaker keeps pages stable).
    """
    if not 1 <= per_page <= MAX_LIMIT:
        raise InvalidInput(f"must be between 1 and {MAX_LIMIT}", field="query.per_page")
    total = (
        session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    )
    rows = list(session.scalars(statement.limit(per_page).offset((page - 1) * per_page)).unique())
    return rows, int(total)
