"""Warehouse fixtures of the Data Bank tests (DuckDB, PostgreSQL, PySpark), reused here."""

from __future__ import annotations

import pytest

from tests.databank.conftest import duck, pg_warehouse, spark_warehouse

__all__ = ["duck", "pg_warehouse", "spark_warehouse"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "spark: needs PySpark and Java (required when CI=true)")
