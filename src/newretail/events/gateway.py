"""The collector's HTTP hot path: a plain ASGI handler for the ingestion routes.

Devices send many small requests, so these routes skip the per-request dependency injection
and routing of the rest of the API (a several-fold difference in requests per second); they
still pass the body limit and metrics middleware. They parse their body themselves (JSON,
optionally gzip) so that one bad event refuses only itself; large bodies are checked in the
checker processes (events.offload). `openapi_paths` documents them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from newretail.core.database import utcnow
from newretail.core.errors import NewRetailError
from newretail.core.http import request_credential
from newretail.core.ratelimit import RATE_LIMITED_RESPONSE
from newretail.core.retry import UNAVAILABLE_RETRY_AFTER, answer_unavailable, unavailable
from newretail.events import schemas
from newretail.events.checker import Outcome, SourceRef
from newretail.events.collector import Collector
from newretail.events.intake import INGESTION_PATHS, NATIVE_PATH, IngestionRequest
from newretail.events.submission import Submission

_JSON = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class GatewayRoute:
    """What the metrics middleware reads from `scope["route"]`: the route template."""

    path: str


_ROUTES = {path: GatewayRoute(path) for path in INGESTION_PATHS}


class CollectorGateway:
    """Answers POST on the ingestion paths; everything else goes on to the app."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in INGESTION_PATHS:
            await self.app(scope, receive, send)
            return
        scope["route"] = _ROUTES[scope["path"]]
        if scope["method"] != "POST":
            await _respond(send, 405, _problem("method_not_allowed", "use POST", None))
            return
        collector: Collector = scope["app"].state.collector
        try:
            status, body = await _handle(collector, scope, receive)
        except NewRetailError as exc:  # `unavailable` (the group commit failed) included
            status, body = exc.status_code, orjson.dumps(exc.as_problem())
        except (DBAPIError, PoolTimeout, psycopg.OperationalError) as exc:
            # the source's or the catalogue's look-up: PostgreSQL away, or SQLite's write
            # lock or a pooled connection not freed within its timeout (overload), is a 503
            if not unavailable(exc):
                raise
            await answer_unavailable(send)
            return
        await _respond(send, status, body)


async def _respond(send: Send, status: int, body: bytes) -> None:
    headers = [*_JSON, (b"content-length", str(len(body)).encode())]
    if status == 503:  # nothing was acknowledged: come back shortly
        headers.append((b"retry-after", str(UNAVAILABLE_RETRY_AFTER).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _problem(code: str, message: str, field: str | None) -> bytes:
    return orjson.dumps({"code": code, "message": message, "field": field})


async def _read(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _source(collector: Collector, token: str | None) -> SourceRef:
    if token is not None and (found := collector.cached_source(token)) is not None:
        return found
    return await run_in_threadpool(collector.authenticate, token)


async def _handle(collector: Collector, scope: Scope, receive: Receive) -> tuple[int, bytes]:
    received_at = utcnow()
    headers = dict(scope["headers"])
    source = await _source(collector, request_credential(headers))
    raw = await _read(receive)
    encoding = headers.get(b"content-encoding", b"")
    path = scope["path"]
    request = IngestionRequest(source, path, encoding, raw, received_at)
    submission = await collector.checkers.parse(collector, request)
    outcome = await _write(collector, submission)
    return _answer(outcome) if path == NATIVE_PATH else _answer(outcome, success=True)


async def _write(collector: Collector, submission: Submission) -> Outcome:
    stored, duplicates = 0, 0
    if submission.events or submission.encoded or submission.rejected:
        stored, duplicates = await asyncio.wrap_future(collector.pipeline.submit(submission))
    return collector.outcome(submission, stored, duplicates)


def _answer(outcome: Outcome, **extra: Any) -> tuple[int, bytes]:
    body = {**extra, **outcome.as_dict()}
    if outcome.failed and not outcome.accepted and not outcome.duplicates:
        first = outcome.failed[0]
        problem = {
            "code": "invalid_events",
            "message": f"no event was accepted; {first.field}: {first.reason}",
            "field": first.field,
        }
        return 400, orjson.dumps({**problem, **body})
    return 200, orjson.dumps(body)


def openapi_paths(components: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI operations of the ingestion routes; their models go into `components`."""
    template = "#/components/schemas/{model}"

    def ref(model: Any) -> dict[str, str]:
        schema = model.model_json_schema(ref_template=template)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
        return {"$ref": template.format(model=model.__name__)}

    security: list[dict[str, list[str]]] = [{"WriteKeyBearer": []}, {"WriteKeyBasic": []}]
    errors = {
        "400": {"description": "Malformed body, or no event accepted (each failure listed)"},
        "401": {"description": "No or unknown write key"},
        "403": {"description": "Not a write key"},
        "413": {"description": "Body too large"},
        "422": {"description": "Invalid request (the field is named)"},
        "429": RATE_LIMITED_RESPONSE,
        "503": {
            "description": "The events could not be stored durably now (the database, NATS "
            "or the spool's disk): nothing was acknowledged, send them again (`unavailable`)"
        },
    }
    native = {
        "post": {
            "tags": ["collector"],
            "summary": "Send events",
            "description": "Up to 500 events; the answer comes once they are durably stored. "
            "Invalid events are refused one by one (index, field, reason) and kept as failed "
            "events. `Content-Encoding: gzip` is accepted.",
            "operationId": "collect_events",
            "security": security,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": ref(schemas.EventBatch)}},
            },
            "responses": {
                "200": {
                    "description": "Stored, duplicates and refused events",
                    "content": {"application/json": {"schema": ref(schemas.IngestResult)}},
                },
                **errors,
            },
        }
    }
    paths: dict[str, Any] = {NATIVE_PATH: native}
    result = ref(schemas.SegmentResult)
    for path, call in INGESTION_PATHS.items():
        if call is None:
            continue
        what = "batch of messages" if call == "batch" else f"`{call}` message"
        paths[path] = {
            "post": {
                "tags": ["segment"],
                "summary": f"Segment-compatible {call}",
                "description": f"A Segment {what}; the write key is the Basic user name.",
                "operationId": f"segment_{call}",
                "security": security,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {
                    "200": {
                        "description": "Stored, duplicates and refused messages",
                        "content": {"application/json": {"schema": result}},
                    },
                    **errors,
                },
            }
        }
    return paths
