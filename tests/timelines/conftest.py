"""Warehouse fixtures shared with the Data Bank tests (DuckDB per test, PostgreSQL per run)."""

from tests.databank.conftest import duck, pg_warehouse

__all__ = ["duck", "pg_warehouse"]
