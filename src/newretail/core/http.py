"""HTTP plumbing shared by the API and the console: error mapping, body limit, metrics."""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newretail.core import error_text, telemetry
from newretail.core.errors import ErrorCode, NewRetailError, RateLimited
from newretail.core.i18n import DEFAULT_LOCALE, negotiate

T = TypeVar("T")
log = logging.getLogger(__name__)


def no_content() -> Response:
    """The empty answer (204) of a delete."""
    return Response(status_code=204)


def supplied(request: Request, name: str, supplier: str) -> Any:
    """What the composition root put on `app.state.<name>` for a domain that names what it
    needs; a RuntimeError naming the `supplier` when it is missing (a wiring bug)."""
    found = getattr(request.app.state, name, None)
    if found is None:
        raise RuntimeError(f"{supplier} supplies app.state.{name}")
    return found


def request_credential(headers: dict[bytes, bytes]) -> str | None:
    """The token a request carries: `Authorization: Bearer <token>`, or Segment's Basic auth
    with the write key as the user name."""
    scheme, _, value = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def page(
    listing: tuple[Sequence[T], str | None], read: Callable[[T], Any] | None = None
) -> dict[str, Any]:
    """A list endpoint's answer (`Page`) from a service's (rows, next cursor): each row as
    it is, or through `read`."""
    items, next_cursor = listing
    return {
        "items": items if read is None else [read(item) for item in items],
        "next_cursor": next_cursor,
    }


def problem(
    status: int, code: str, message: str, field: str | None = None, **extra: Any
) -> JSONResponse:
    """The one error body of the API: {"code", "message", "field"}."""
    body: dict[str, Any] = {"code": code, "message": message, "field": field, **extra}
    return JSONResponse(body, status_code=status)


def validation_problem(exc: RequestValidationError, locale: str = DEFAULT_LOCALE) -> JSONResponse:
    """422 naming each refused field and why, in `locale` (Accept-Language)."""
    errors = exc.errors()
    details = [
        {
            "field": error_text.field_path(e.get("loc", ())),
            "reason": error_text.reason(e, locale),
            "type": e.get("type"),
        }
        for e in errors
    ]
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return problem(
            400, ErrorCode.MALFORMED_JSON, "the body is not valid JSON", "body", errors=details
        )
    message = f"{details[0]['field']}: {details[0]['reason']}" if details else "invalid input"
    return problem(
        422,
        ErrorCode.INVALID_INPUT,
        message,
        details[0]["field"] if details else None,
        errors=details,
    )


def install_error_handlers(app: FastAPI, on_domain_error: Any = None) -> None:
    """Map domain errors, validation errors and HTTP errors to problem details."""

    @app.exception_handler(NewRetailError)
    async def _domain(request: Request, exc: NewRetailError) -> Response:
        if on_domain_error is not None:
            rendered = on_domain_error(request, exc)
            if rendered is not None:
                return rendered  # type: ignore[no-any-return]
        locale = negotiate(request.headers.get("accept-language"))
        response = problem(
            exc.status_code, str(exc.code), error_text.api_message(exc, locale), exc.field
        )
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return validation_problem(exc, negotiate(request.headers.get("accept-language")))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {
            404: ErrorCode.NOT_FOUND,
            405: ErrorCode.METHOD_NOT_ALLOWED,
            413: ErrorCode.BODY_TOO_LARGE,
        }.get(exc.status_code, ErrorCode.INVALID_INPUT)
        return problem(exc.status_code, code, str(exc.detail), None)


class _HttpMiddleware:
    """An ASGI middleware that acts on HTTP requests; lifespan and websockets pass through."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        else:
            await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class BodyLimitMiddleware(_HttpMiddleware):
    """Refuse bodies over the limit with 413 before they are read into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        received = 0
        exceeded = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if not exceeded:  # whatever the app answers to the cut-off body is replaced
                await send(message)

        with contextlib.suppress(_BodyTooLarge):
            await self.app(scope, limited_receive, guarded_send)
        if exceeded:
            await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413, ErrorCode.BODY_TOO_LARGE, f"the body is over {self.max_bytes} bytes", "body"
        )
        await response(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


class Metrics:
    """Prometheus counters and latency histograms per route template."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "newretail_http_requests_total",
            "HTTP requests by method, route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "newretail_http_request_seconds",
            "HTTP request latency by route",
            ["method", "route"],
            registry=self.registry,
        )

    def gauge(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """A value read when /metrics is scraped (for example the event loader's backlog);
        NaN when reading it fails (a store that does not answer), so the scrape goes on."""
        Gauge(name, documentation, registry=self.registry).set_function(_guarded(read))

    def gauges(
        self, name: str, documentation: str, label: str, reads: dict[str, Callable[[], float]]
    ) -> None:
        """One gauge with a value per `label` value, each read at scrape time."""
        gauge = Gauge(name, documentation, [label], registry=self.registry)
        for value, read in reads.items():
            gauge.labels(value).set_function(_guarded(read))

    def render(self) -> Response:
        """The app's metrics and the process's (core.telemetry) in one exposition."""
        body = generate_latest(self.registry) + generate_latest(telemetry.REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def _guarded(read: Callable[[], float]) -> Callable[[], float]:
    def guarded() -> float:
        try:
            return float(read())
        except Exception:
            log.warning("reading a metric failed", exc_info=True)
            return math.nan

    return guarded


class MetricsMiddleware(_HttpMiddleware):
    """Counts every HTTP request by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        super().__init__(app)
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], template, str(status)).inc()
            self.metrics.latency.labels(scope["method"], template).observe(
                time.perf_counter() - started
            )
