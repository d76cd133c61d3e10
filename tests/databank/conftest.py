"""Warehouse fixtures for the Data Bank: DuckDB per test, PostgreSQL and PySpark per session.

PostgreSQL and PySpark skip when unavailable, except under CI=true where they must start.
"""

from __future__ import annotations

import gc
import os
import secrets
import tempfile
import warnings
from collections.abc import Iterator
from typing import Any

import ibis
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from newretail.core.settings import normalise_database_url
from newretail.databank.tables import ensure_databank_tables
from newretail.warehouse.connection import ensure_schema
from tests.conftest import CI, POSTGRES_URL


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "spark: needs PySpark and Java (required when CI=true)")


def _unavailable(message: str) -> None:
    if CI:
        pytest.fail(f"CI=true requires it: {message}")
    pytest.skip(message)


@pytest.fixture
def duck() -> Iterator[Any]:
    """A fresh in-memory DuckDB warehouse."""
    con = ibis.duckdb.connect()
    ensure_schema(con)
    ensure_databank_tables(con)
    yield con
    con.disconnect()


@pytest.fixture(scope="session")
def pg_warehouse() -> Iterator[Any]:
    """A throw-away PostgreSQL database used as the warehouse for the whole run."""
    admin = create_engine(normalise_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        _unavailable(f"PostgreSQL unreachable at {POSTGRES_URL}: {exc}")
    name = f"newretail_wh_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_database_url(POSTGRES_URL)).set(database=name)
    con = ibis.postgres.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database=name
    )
    ensure_schema(con)
    ensure_databank_tables(con)
    yield con
    con.disconnect()
    with admin.connect() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def spark_warehouse() -> Iterator[Any]:
    """A local-mode PySpark session behind Ibis (about 15 s to start)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession

        directory = tempfile.mkdtemp(prefix="newretail-spark-")
        spark = (
            SparkSession.builder.master("local[1]")
            .appName("newretail-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.warehouse.dir", directory)
            .getOrCreate()
        )
        con = ibis.pyspark.connect(spark)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            ensure_schema(con)
            ensure_databank_tables(con)
            gc.collect()  # Py4J leaves sockets to the collector
    except Exception as exc:
        _unavailable(f"PySpark cannot start: {type(exc).__name__}: {exc}")
    yield con
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        spark.stop()
        gc.collect()
