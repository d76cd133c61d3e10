"""The migrations build exactly the schema the models describe, and they reverse cleanly."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from newretail import models  # noqa: F401  (registers every table)
from newretail.core import migrate
from newretail.core.database import Base


def _differences(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_upgrade_head_matches_the_models_on_both_stores(postgres_url: str, tmp_path: Any) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    engine = create_engine(sqlite_url)
    migrate.upgrade(engine)
    engine.dispose()
    assert _differences(sqlite_url) == []
    assert _differences(postgres_url) == []


def test_every_migration_reverses(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'round.sqlite3'}")
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    engine.dispose()
