"""Shared set-up of the marketing tests that race real parallel connections on PostgreSQL:
import the fixtures into a test module (`from tests.marketing.races import ...`) to run it on
PostgreSQL only, with sessions over a pool large enough for every worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from newretail.bootstrap import Container
from newretail.core.database import create_db_engine, make_session_factory
from tests.conftest import Org, make_org

WORKERS = 64


@pytest.fixture
def postgres_sessions(postgres_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions over a pool of 64 connections, so every worker holds its own."""
    engine = create_db_engine(postgres_url, pool_size=WORKERS // 2)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """The races run on PostgreSQL only (SQLite serialises every writer)."""
    return postgres_url


@pytest.fixture
def pg_org(container: Container) -> Org:
    return make_org(container, "race")
