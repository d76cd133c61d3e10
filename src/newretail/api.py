"""Mounts every domain's REST router and the operational endpoints."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response

from newretail.core.errors import Unavailable
from newretail.core.http import Metrics
from newretail.tenancy.dependencies import ContainerDep
from newretail.tenancy.router import router as tenancy_router

DOMAIN_ROUTERS = [tenancy_router]

ops = APIRouter(tags=["operations"])


@ops.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@ops.get("/readyz")
def readyz(container: ContainerDep) -> JSONResponse:
    """Readiness: the operational store and the warehouse both answer."""
    checks: dict[str, str] = {}
    try:
        with container.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        container.warehouse.ping()
        checks["warehouse"] = "ok"
    except (Unavailable, Exception) as exc:
        checks["warehouse"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


def mount_api(app: FastAPI, metrics: Metrics) -> None:
    for router in DOMAIN_ROUTERS:
        app.include_router(router)
    app.include_router(ops)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def metrics_endpoint() -> Response:
        """Prometheus text exposition of request counts and latencies."""
        return metrics.render()
