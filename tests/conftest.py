"""Shared fixtures: the operational store on SQLite and PostgreSQL, apps, organisations.

PostgreSQL comes from NEWRETAIL_TEST_POSTGRES_URL (default postgres@127.0.0.1:5432); each
run makes a throw-away database and drops it at the end. Without PostgreSQL its tests skip,
except under CI=true, where an unreachable PostgreSQL fails the run. Redis (the shared rate
limits) comes from NEWRETAIL_TEST_REDIS_URL (default 127.0.0.1:6379, database 15) the same way.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from newretail import handlers
from newretail.bootstrap import Container, bootstrap
from newretail.core import migrate
from newretail.core.database import scope_session, session_scope
from newretail.core.settings import Settings, normalise_database_url
from newretail.main import create_app
from newretail.tenancy import schemas, service
from newretail.tenancy.models import ChannelType, Role

CI = os.environ.get("CI") == "true"
handlers.install()
POSTGRES_URL = os.environ.get(
    "NEWRETAIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("NEWRETAIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis for the shared rate limits (keys are hashes of random tokens, each
    with its own expiry, so tests do not clear it)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis not reachable at {REDIS_URL}: {exc}"
        if CI:
            pytest.fail(f"CI=true requires Redis. {message}")
        pytest.skip(message)
    finally:
        client.close()
    return REDIS_URL


def _postgres_admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(normalise_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL database, migrated to head, dropped after the run."""
    with _postgres_database() as url:
        yield url


@contextmanager
def _postgres_database() -> Iterator[str]:
    """A new PostgreSQL database migrated to head, dropped on leaving."""
    admin = _postgres_admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL unreachable at {POSTGRES_URL}: {type(exc).__name__}: {exc}"
        if CI:
            pytest.fail(f"CI=true requires PostgreSQL. {message}")
        pytest.skip(message)
    name = f"newretail_test_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_database_url(POSTGRES_URL)).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    engine = create_engine(rendered)
    migrate.upgrade(engine)
    engine.dispose()
    yield rendered
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
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("sqlite") / "newretail.sqlite3"
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def postgres_alone_url() -> Iterator[str]:
    """A PostgreSQL database of the test's own (the run's is shared by every test)."""
    with _postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_alone_url(tmp_path: Path) -> str:
    """A SQLite database of the test's own (the run's is shared by every test)."""
    url = f"sqlite:///{tmp_path / 'alone.sqlite3'}"
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The operational store under test: every store test runs on SQLite and PostgreSQL.

    A test that reads every organisation of the store may ask for a store of its own with
    `@pytest.mark.parametrize("database_url", ALONE, indirect=True)`.
    """
    kind, _, alone = str(request.param).partition("-")
    fixture = f"{'sqlite' if kind == 'sqlite' else 'postgres'}{'_alone' if alone else ''}_url"
    return str(request.getfixturevalue(fixture))


ALONE = ["sqlite-alone", pytest.param("postgresql-alone", marks=pytest.mark.postgres)]
# For a console page or command over the warehouse whose reads of the operational store (names,
# a store manager's scope) its API tests cover on both stores: run it on SQLite only.
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        warehouse_url=f"duckdb://{tmp_path / 'warehouse.duckdb'}",
        secret_key=TEST_SECRET,
        outbox_relay_seconds=0,  # tests run the jobs explicitly
        maintenance_seconds=0,
        webhook_send_seconds=0,
    )


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    built = bootstrap(settings)
    yield built
    built.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=container)) as test_client:
        yield test_client


@dataclass
class Org:
    """An organisation made for one test, with an owner key and a login."""

    id: uuid.UUID
    slug: str
    owner_key: str
    owner_email: str
    brand_id: uuid.UUID
    store_ids: list[uuid.UUID]
    source_id: uuid.UUID
    write_key: str
    ids: dict[str, uuid.UUID] = field(default_factory=dict)

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.owner_key}"}


def make_org(container: Container, label: str = "org") -> Org:
    """An organisation with a brand, two stores and a source."""
    suffix = secrets.token_hex(4)
    email = f"owner-{suffix}@example.com"
    with session_scope(container.sessions) as session:
        created = service.create_organization(
            scope_session(session, None),
            f"{label} {suffix}",
            owner_email=email,
            owner_password=PASSWORD,
            slug=f"{label}-{suffix}",
        )
        org_id = created.organization.id
        scope_session(session, org_id)
        from newretail.tenancy.permissions import Principal, PrincipalKind

        owner = Principal.for_role(PrincipalKind.USER, org_id, Role.OWNER, actor="test")
        brand = service.create_brand(session, owner, schemas.BrandCreate(code="b1", name="Brand"))
        stores = [
            service.create_store(
                session,
                owner,
                schemas.StoreCreate(
                    code=f"S{i}",
                    name=f"Store {i}",
                    channel_type=channel,
                    brand_id=brand.id,
                    city=city,
                ),
            )
            for i, (channel, city) in enumerate(
                [(ChannelType.STORE, "Shanghai"), (ChannelType.COUNTER, "Beijing")]
            )
        ]
        source, write_key = service.create_source(
            session, owner, schemas.SourceCreate(name="pos", store_id=stores[0].id)
        )
        return Org(
            id=org_id,
            slug=created.organization.slug,
            owner_key=created.api_key_token,
            owner_email=email,
            brand_id=brand.id,
            store_ids=[s.id for s in stores],
            source_id=source.id,
            write_key=write_key,
            ids={
                "brand_id": brand.id,
                "store_id": stores[0].id,
                "source_id": source.id,
                "user_id": created.owner.id,
                "api_key_id": created.api_key.id,
                "organization_id": org_id,
            },
        )


@pytest.fixture
def org(container: Container) -> Org:
    return make_org(container, "alpha")


@pytest.fixture
def other_org(container: Container) -> Org:
    return make_org(container, "beta")


def api_key_for(
    client: TestClient, org: Org, role: Role, store_ids: list[uuid.UUID] | None = None
) -> str:
    """Mint an API key with a role through the API itself."""
    response = client.post(
        "/api/v1/api-keys",
        headers=org.auth(),
        json={"name": f"{role} key", "role": role, "store_ids": [str(s) for s in store_ids or []]},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def console_login(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Sign a TestClient in through the login form (with its CSRF token)."""
    page = client.get("/console/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def store_args(settings: Settings) -> list[str]:
    """The CLI's store options for these settings."""
    return [
        "--data-dir",
        str(settings.data_dir),
        "--database-url",
        str(settings.database_url),
        "--warehouse-url",
        str(settings.warehouse_url),
    ]
