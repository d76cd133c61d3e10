from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect

from newretail.bootstrap import Container
from newretail.core import migrate
from newretail.core.errors import Unavailable
from newretail.main import create_app
from tests.conftest import Org


def test_health_readiness_metrics_and_openapi(client: TestClient, org: Org) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "warehouse": "ok",
            "loader_backlog": "ok",
            "outbox_backlog": "ok",
        },
        "reason": None,
    }
    client.get("/api/v1/stores", headers=org.auth())
    metrics = client.get("/metrics").text
    assert (
        'newretail_http_requests_total{method="GET",route="/api/v1/stores",status="200"} 1.0'
        in metrics
    )
    spec = client.get("/openapi.json").json()
    for path in (
        "/api/v1/brands",
        "/api/v1/stores",
        "/api/v1/sources",
        "/api/v1/users",
        "/api/v1/api-keys",
    ):
        assert path in spec["paths"], path
    assert not any(p.startswith("/console") for p in spec["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "https://" not in docs.text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404


def test_readiness_fails_when_another_process_holds_the_warehouse(container: Container) -> None:
    path = container.settings.resolved_warehouse_url.removeprefix("duckdb://")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "time.sleep(60)",
            path,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        client = TestClient(create_app(container=container))  # no lifespan: stays up to answer
        response = client.get("/readyz")
        with pytest.raises(Unavailable) as refused:
            container.warehouse.connection()
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            "database": "ok",
            "warehouse": "error: Unavailable",
            "loader_backlog": "ok",
            "outbox_backlog": "ok",
        },
        "reason": "warehouse: error: Unavailable",
    }
    assert "admits one process" in refused.value.message


def test_migrations_upgrade_downgrade_and_upgrade_again(database_url: str, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        engine = create_engine(database_url)
        migrate.upgrade(engine)
    else:
        engine = create_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    assert {
        "organization",
        "brand",
        "store",
        "source",
        "user_account",
        "membership",
        "api_key",
        "user_session",
        "outbox_message",
    } <= tables
    assert migrate.is_current(engine)
    if database_url.startswith("sqlite"):
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        migrate.upgrade(engine)
        assert migrate.is_current(engine)
    engine.dispose()
