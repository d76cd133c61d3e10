"""A throw-away PostgreSQL database for one benchmark run (created empty, dropped at the end,
its connections ended first) and the benches' organisation in it. NEWRETAIL_BENCH_POSTGRES_URL
names the server (default the machine's postgres@127.0.0.1:5432)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from newretail.core.database import scope_session
from newretail.core.settings import normalise_database_url
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind

POSTGRES_URL = os.environ.get(
    "NEWRETAIL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def throwaway_database() -> Iterator[str]:
    """The URL of a new, empty database on the bench's PostgreSQL server, dropped at the end."""
    admin = create_engine(normalise_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"newretail_bench_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = (
        make_url(normalise_database_url(POSTGRES_URL))
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def bench_owner(session: Session) -> Principal:
    """A new organisation "Bench" (the session scoped to it) and its owner, acting as "bench"."""
    org = tenancy_service.create_organization(
        scope_session(session, None),
        "Bench",
        owner_email="bench@example.com",
        owner_password=secrets.token_urlsafe(16),
        slug=f"bench-{secrets.token_hex(3)}",
    ).organization
    scope_session(session, org.id)
    return Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="bench")
