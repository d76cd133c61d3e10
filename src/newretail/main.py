"""The ASGI application: API, console and operational endpoints in one process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from newretail import __version__
from newretail.api import mount_api
from newretail.bootstrap import Container, bootstrap
from newretail.console.shell import render_console_error
from newretail.core.headers import SecurityHeadersMiddleware
from newretail.core.http import (
    BodyLimitMiddleware,
    Metrics,
    MetricsMiddleware,
    install_error_handlers,
)
from newretail.core.jobs import JobRunner
from newretail.core.local_server import LOCAL_TOKEN_PREFIX, announce
from newretail.core.logs import RequestIdMiddleware
from newretail.core.ratelimit import RateLimitMiddleware, RateLimits
from newretail.core.retry import RerunOnConflict
from newretail.core.settings import Settings
from newretail.events.backlogs import Backlogs
from newretail.events.collector import Collector
from newretail.events.gateway import CollectorGateway
from newretail.jobs import server_jobs
from newretail.pages import mount_pages

API_DESCRIPTION = """
NewRetail joins a brand's online shops and offline stores into one business.

Authenticate with `Authorization: Bearer <API key>`. Errors answer
`{"code": "...", "message": "...", "field": "..."}` with a 4xx status.
Lists take `limit` (1–500, default 50) and `cursor` (the previous page's `next_cursor`).
"""


def create_app(
    settings: Settings | None = None,
    container: Container | None = None,
    local_url: str | None = None,
) -> FastAPI:
    """Build the app on the given settings (or a ready container, in tests).

    With `local_url` (the server's own address) a server on an embedded warehouse announces
    itself in the data dir, so the CLI goes through it (newretail.core.local_server).
    """
    container = container or bootstrap(settings)
    container.settings.session_secret()  # refuse to start without a secret outside the demo

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container.warehouse.connection()  # the server owns the embedded warehouse
        collector.pipeline.start()
        jobs = JobRunner(container, server_jobs(container))
        jobs.start()
        if local_url is not None:
            app.state.local_server = announce(container.settings, local_url)
        yield
        if app.state.local_server is not None:
            app.state.local_server.withdraw()
        jobs.stop()
        collector.checkers.stop()
        collector.pipeline.stop()
        await rate_limits.aclose()
        container.close()

    app = FastAPI(
        title="NewRetail",
        version=__version__,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from installed assets in mount_api
        redoc_url=None,
    )
    app.state.container = container
    app.state.local_server = None
    collector = Collector(
        container.sessions,
        container.warehouse,
        container.settings,
        container.identity,
        on_loaded=container.on_events_loaded,
    )
    app.state.collector = collector
    settings = container.settings
    rate_limits = RateLimits(settings.redis_url)
    app.state.rate_limits = rate_limits
    backlogs = Backlogs(container.engine, collector.pipeline)
    app.state.backlogs = backlogs
    metrics = Metrics()
    register_gauges(metrics, backlogs, container.engine)
    install_error_handlers(app, on_domain_error=render_console_error)
    mount_api(app, metrics)
    mount_pages(app)
    app.add_middleware(RerunOnConflict)  # a request the database gave up on runs again
    app.add_middleware(CollectorGateway)  # the ingestion routes, inside the two below
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(  # before a body is read, after metrics count the request
        RateLimitMiddleware,
        limits=rate_limits,
        write_key=settings.write_key_rate(),
        api_key=settings.api_key_rate(),
        exempt_prefixes=(LOCAL_TOKEN_PREFIX,),
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(SecurityHeadersMiddleware)  # on every answer, refusals included
    app.add_middleware(RequestIdMiddleware)  # outermost: every answer and log line has the id
    return app


def register_gauges(metrics: Metrics, backlogs: Backlogs, engine: Engine) -> None:
    """The values /metrics reads when scraped: backlogs, the stream's lag, the pool."""
    metrics.gauge(
        "newretail_events_awaiting_load",
        "Acknowledged event batches in the spool, not yet in the warehouse",
        backlogs.loader,
    )
    metrics.gauge(
        "newretail_outbox_unpublished",
        "Committed commerce facts in the outbox the relay has not published yet",
        lambda: backlogs.outbox().rows,
    )
    metrics.gauge(
        "newretail_outbox_oldest_unpublished_seconds",
        "Age of the oldest unpublished outbox row (0 when none waits)",
        lambda: backlogs.outbox().oldest_seconds,
    )
    if backlogs.streams:
        metrics.gauge(
            "newretail_event_stream_pending",
            "Messages in the NATS JetStream stream the loaders have not acknowledged yet",
            lambda: backlogs.stream_lag() or 0,
        )
    pool: Any = engine.pool  # a QueuePool (SQLite files and PostgreSQL) has these counts
    reads: dict[str, Callable[[], float]] = {}
    if isinstance(pool, QueuePool):
        reads = {
            "size": pool.size,
            "checked_out": pool.checkedout,
            "idle": pool.checkedin,
            # SQLAlchemy counts overflow from -size (connections not opened yet)
            "overflow": lambda: max(0, pool.overflow()),
        }
    metrics.gauges(
        "newretail_db_pool_connections",
        "The operational store's connection pool: its size, connections in use (checked_out), "
        "idle in the pool, and overflow beyond the size",
        "state",
        reads,
    )
