"""A console page's query parameters as typed in the address bar: an optional id or day, or
a refusal naming the parameter (HTTP 422, shown on the error page)."""

from __future__ import annotations

import uuid
from datetime import date

from newretail.core.errors import InvalidInput

NOT_A_DAY = "not a date (YYYY-MM-DD)"


def parse_id(value: str, field: str, message: str) -> uuid.UUID:
    """An id the page was given; `message` names what it should have been."""
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInput(message, field=field) from exc


def optional_id(value: str, field: str, message: str) -> uuid.UUID | None:
    """An id filter: none when the parameter is blank."""
    return parse_id(value, field, message) if value else None


def optional_day(
    value: str,
    field: str,
    message: str = NOT_A_DAY,
    error: type[InvalidInput] = InvalidInput,
) -> date | None:
    """A calendar day as YYYY-MM-DD: none when the parameter is blank; else `error`."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise error(message, field=field) from exc
