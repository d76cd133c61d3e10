"""Alembic environment: runs on the connection handed over by newretail.core.migrate."""

from __future__ import annotations

from alembic import context

import newretail.models  # noqa: F401  (registers every table on Base.metadata)
from newretail.core.database import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
