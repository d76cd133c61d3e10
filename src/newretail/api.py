"""Mounts every domain's REST router and the operational endpoints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from newretail.audiences import membership
from newretail.audiences.router import router as audiences_router
from newretail.catalog.router import router as catalog_router
from newretail.core import openapi as openapi_corrections
from newretail.core.errors import Unavailable
from newretail.core.headers import policy_with_inline_scripts
from newretail.core.http import Metrics, supplied
from newretail.core.ratelimit import RATE_LIMITED_RESPONSE
from newretail.databank.router import router as databank_router
from newretail.diagnosis.analysis_routes import router as analysis_router
from newretail.diagnosis.recommendation_routes import router as recommendation_router
from newretail.diagnosis.report_routes import api_router as diagnosis_report_router
from newretail.diagnosis.router import router as diagnosis_router
from newretail.events import gateway
from newretail.events.backlogs import Backlogs
from newretail.events.router import router as events_router
from newretail.identity.router import router as identity_router
from newretail.inventory.router import router as inventory_router
from newretail.marketing.router import router as marketing_router
from newretail.members.router import router as members_router
from newretail.orders.router import router as orders_router
from newretail.privacy.router import router as privacy_router
from newretail.reach.feed_routes import router as reach_feed_router
from newretail.reach.lift_routes import router as reach_lift_router
from newretail.reach.router import router as reach_router
from newretail.reach.trigger_routes import router as reach_triggers_router
from newretail.tenancy.dependencies import ContainerDep
from newretail.tenancy.router import router as tenancy_router
from newretail.timelines.router import router as timelines_router

DOMAIN_ROUTERS = [
    tenancy_router,
    members_router,
    catalog_router,
    inventory_router,
    orders_router,
    databank_router,
    audiences_router,
    marketing_router,
    reach_router,
    reach_lift_router,
    reach_feed_router,
    events_router,
    timelines_router,
    privacy_router,
    identity_router,
    reach_triggers_router,
    diagnosis_router,
    analysis_router,
    diagnosis_report_router,
    recommendation_router,
]

ops = APIRouter(tags=["operations"])


@ops.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@ops.get("/readyz")
def readyz(request: Request, container: ContainerDep) -> JSONResponse:
    """Readiness: the operational store and the warehouse answer, and no backlog (events
    awaiting load, unpublished outbox rows, the stream's lag) is over its threshold; 503
    naming the first reason otherwise."""
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
    backlogs: Backlogs = supplied(request, "backlogs", "newretail.main")
    settings = container.settings
    checks["loader_backlog"] = _within(backlogs.loader, settings.ready_max_load_backlog)
    if checks["database"] == "ok":
        outbox = settings.ready_max_outbox_backlog
        checks["outbox_backlog"] = _within(lambda: backlogs.outbox().rows, outbox)
    if backlogs.streams:
        lag = settings.ready_max_stream_lag
        checks["stream_lag"] = _within(lambda: backlogs.stream_lag() or 0, lag)
    failing = [f"{name}: {value}" for name, value in checks.items() if value != "ok"]
    return JSONResponse(
        {
            "status": "unavailable" if failing else "ok",
            "checks": checks,
            "reason": failing[0] if failing else None,
        },
        status_code=503 if failing else 200,
    )


def _within(read: Callable[[], int], limit: int) -> str:
    """ "ok", or why not: "over: 1200 > 1000" (a limit of 0 is no limit), or the read's error."""
    try:
        value = read()
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return f"over: {value} > {limit}" if limit and value > limit else "ok"


SWAGGER_ASSETS = "/static/vendor/swagger-ui"
# Swagger UI 5 (it reads OpenAPI 3.1) as the fastapi-offline wheel ships it
SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"


def mount_api(app: FastAPI, metrics: Metrics) -> None:
    # marketing's bulk issue reads audiences' members (marketing.audience_issues)
    app.state.audience_members = membership.member_ids
    for router in DOMAIN_ROUTERS:
        app.include_router(router)
    app.include_router(ops)
    # API docs from an installed wheel: nothing is fetched from a CDN.
    app.mount(SWAGGER_ASSETS, StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="NewRetail API",
            swagger_js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
            swagger_favicon_url="/favicon.ico",
        )
        # Swagger UI starts from one inline script: admitted by its hash, nothing else inline
        html = bytes(page.body).decode()
        page.headers["Content-Security-Policy"] = policy_with_inline_scripts(html)
        return page

    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        """The routes' schema plus the collector's ingestion routes (served by its gateway)."""
        if app.openapi_schema is None:
            schema = default_openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            schema["paths"].update(gateway.openapi_paths(components))
            for path, operations in schema["paths"].items():
                if path.startswith("/api/"):  # every key is rate limited (core.ratelimit)
                    for operation in operations.values():
                        operation["responses"].setdefault("429", RATE_LIMITED_RESPONSE)
            schemes = schema["components"].setdefault("securitySchemes", {})
            schemes["WriteKeyBearer"] = {"type": "http", "scheme": "bearer"}
            schemes["WriteKeyBasic"] = {"type": "http", "scheme": "basic"}
            app.openapi_schema = openapi_corrections.corrected(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/metrics", tags=["operations"], response_class=Response)
    def metrics_endpoint() -> Response:
        """Prometheus text exposition: requests, ingestion, backlogs, reach decisions, jobs,
        the database pool (docs/observability.md)."""
        return metrics.render()
