"""Raw SQL on the warehouse connection: the one place that knows how each engine answers.

Ibis's `raw_sql` hands back a DB-API cursor on PostgreSQL (which must be closed, or the
connection keeps it open) and the connection itself on DuckDB.
"""

from __future__ import annotations

from typing import Any


def run_sql(con: Any, statement: str) -> None:
    """Run a statement that returns no rows (DDL, INSERT, UPDATE, DELETE)."""
    result = con.raw_sql(statement)
    if con.name == "postgres":
        result.close()


def fetch_rows(con: Any, statement: str) -> list[tuple[Any, ...]]:
    """Run a query and return all its rows as tuples."""
    result = con.raw_sql(statement)
    try:
        return [tuple(row) for row in result.fetchall()]
    finally:
        if con.name == "postgres":
            result.close()
