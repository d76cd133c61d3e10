"""Builds what every entrypoint needs: settings, the operational store and the warehouse."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newretail import handlers
from newretail.core.database import create_db_engine, make_session_factory
from newretail.core.settings import Settings
from newretail.identity.resolver import IdentityResolver
from newretail.reach.listener import TriggerListener
from newretail.warehouse.connection import Warehouse


@dataclass
class Container:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    warehouse: Warehouse
    identity: IdentityResolver = field(init=False)  # OneID: one resolver (and cache) each
    # what the event loaders call with each batch stored: reach decides on trigger events
    on_events_loaded: TriggerListener = field(init=False)

    def __post_init__(self) -> None:
        self.identity = IdentityResolver(self.sessions, self.warehouse)
        self.on_events_loaded = TriggerListener(self.sessions, self.warehouse)

    def close(self) -> None:
        self.warehouse.close()
        self.engine.dispose()


def bootstrap(settings: Settings | None = None) -> Container:
    """Connect to the configured stores (the warehouse opens on first use)."""
    settings = settings or Settings()
    handlers.install()
    if settings.is_embedded or settings.resolved_warehouse_url.startswith("duckdb"):
        settings.ensure_data_dir()
    engine = create_db_engine(
        settings.resolved_database_url, busy_timeout=settings.sqlite_busy_timeout_seconds
    )
    return Container(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        warehouse=Warehouse(settings.resolved_warehouse_url),
    )
