"""What every entrypoint opens: the settings, the operational store and the warehouse.

Domains depend on this Protocol, never on `newretail.bootstrap` (the composition root that builds
the concrete container above them), so the layers stay one-way.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.settings import Settings
from newretail.warehouse.connection import Warehouse


class Stores(Protocol):
    """The container as a domain sees it (bootstrap.Container is one)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    warehouse: Warehouse
