"""Hot-path statements on PostgreSQL, sent in the server's own `$n` form.

A till's sale runs a few fixed statements many times a second. Each is converted once, at
import, from its readable `%(name)s` form to PostgreSQL's `$1, $2 ...` (psycopg otherwise
converts on every call: it caches its conversion only for statements under 4 kB), then run
through a raw cursor on the session's own connection, so it shares the sale's transaction.
psycopg prepares a statement on the server after a few runs; a statement's plan is chosen
once for all values when its parameters are scalars (an array parameter keeps PostgreSQL
planning it again on every run).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import RowFactory, tuple_row

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


@dataclass(frozen=True)
class NumberedQuery:
    """A statement in `$n` form and the parameter names in `$n` order."""

    text: bytes
    names: tuple[str, ...]

    @classmethod
    def of(cls, query: str) -> NumberedQuery:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:  # an escaped percent sign
                return "%"
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        return cls(_PLACEHOLDER.sub(number, query).encode(), tuple(names))

    def values(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The positional values of `parameters` (a missing name is a KeyError)."""
        return [parameters[name] for name in self.names]


def driver_of(connection: Any) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy `Connection` (its transaction's own)."""
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver


def fetch_one(
    driver: psycopg.Connection[Any], query: NumberedQuery, parameters: Mapping[str, Any]
) -> Any:
    """Run the statement; its first row (None: it returned none)."""
    with psycopg.RawCursor(driver) as cursor:
        cursor.execute(query.text, query.values(parameters))
        return cursor.fetchone()


def fetch_all(
    driver: psycopg.Connection[Any],
    query: NumberedQuery,
    parameters: Mapping[str, Any],
    row_factory: RowFactory[Any] = tuple_row,
) -> list[Any]:
    """Run the statement; its rows (shaped by `row_factory`)."""
    with psycopg.RawCursor(driver, row_factory=row_factory) as cursor:
        cursor.execute(query.text, query.values(parameters))
        return cursor.fetchall()
