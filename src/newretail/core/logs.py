"""Log lines, plain or JSON, each carrying the id of the request it belongs to.

`RequestIdMiddleware` takes the request id from an incoming `X-Request-Id` (a token of at
most 128 letters, digits and `._:-`) or makes one, keeps it in a context variable for the
request's whole life (the thread pool that runs plain endpoints copies it), answers it in the
`X-Request-Id` header and logs one access line per request. `configure_logging` installs one
handler on the root logger whose lines carry that id (`-` outside a request).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import IO, Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-Id"
ACCESS_LOGGER = "newretail.access"
_HANDLER_NAME = "newretail"
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "newretail_request_id", default=None
)
access_log = logging.getLogger(ACCESS_LOGGER)
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# what every LogRecord has; anything else passed as `extra` goes into the JSON line
# (uvicorn adds `color_message`, its message with terminal colours)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "request_id",
    "color_message",
}


def current_request_id() -> str | None:
    """The id of the request being served here, if any."""
    return _request_id.get()


def accepted_request_id(sent: str | None) -> str:
    """The caller's id when it is a plain token, otherwise a new one (32 hex digits)."""
    if sent is not None and _ACCEPTED_ID.match(sent):
        return sent
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or `-`) on every record as `request_id`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, the
    `extra` fields, and the traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id.get(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(
    log_format: Literal["plain", "json"],
    *,
    level: int = logging.INFO,
    access: bool = True,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send every logger's records through one handler on the root logger (replacing the one
    an earlier call installed), in `log_format`; `access=False` silences the per-request
    lines. Returns the handler (`remove_logging` takes it away)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(PLAIN_FORMAT)
    )
    root = logging.getLogger()
    remove_logging()
    root.addHandler(handler)
    root.setLevel(level)
    access_log.setLevel(logging.INFO if access else logging.WARNING)
    return handler


def remove_logging() -> None:
    """Take away the handler `configure_logging` installed, if any."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()


class RequestIdMiddleware:
    """Gives each HTTP request its id (see the module) and logs its access line."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(b"x-request-id")
        request_id = accepted_request_id(None if sent is None else sent.decode("latin-1"))
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "%s %s %d",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            _request_id.reset(token)
