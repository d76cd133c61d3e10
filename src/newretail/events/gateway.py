"""The collector's HTTP hot path: a plain ASGI handler for the ingestion routes.

Devices send many small requests, so these routes skip the per-request dependency injection
and routing of the rest of the API (a several-fold difference in requests per second); they
still pass the body limit and metrics middleware. They parse their body themselves (JSON,
optionally gzip) so that one bad event refuses only itself. `openapi_paths` documents them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from newretail.core.database import utcnow
from newretail.core.errors import ErrorCode, InvalidInput, NewRetailError
from newretail.events import schemas
from newretail.events.collector import Collector, Outcome, SourceRef
from newretail.events.pipeline import Submission

NATIVE_PATH = "/api/v1/events"
SEGMENT_CALLS = ("track", "identify", "alias", "page", "screen", "group")
# path → None for the native batch, "batch" for Segment's batch, or the Segment call
INGESTION_PATHS: dict[str, str | None] = {
    NATIVE_PATH: None,
    "/v1/batch": "batch",
    **{f"/v1/{call}": call for call in SEGMENT_CALLS},
}
_JSON = [(b"content-type", b"application/json")]


@dataclass(frozen=True)
class GatewayRoute:
    """What the metrics middleware reads from `scope["route"]`: the route template."""

    path: str


_ROUTES = {path: GatewayRoute(path) for path in INGESTION_PATHS}


class BodyTooLarge(NewRetailError):
    status_code = 413
    code = ErrorCode.BODY_TOO_LARGE


class MalformedBody(NewRetailError):
    status_code = 400
    code = ErrorCode.MALFORMED_JSON


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
        except NewRetailError as exc:
            status, body = exc.status_code, orjson.dumps(exc.as_problem())
        await _respond(send, status, body)


async def _respond(send: Send, status: int, body: bytes) -> None:
    headers = [*_JSON, (b"content-length", str(len(body)).encode())]
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


def _token(headers: dict[bytes, bytes]) -> str | None:
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


async def _source(collector: Collector, token: str | None) -> SourceRef:
    if token is not None and (found := collector.cached_source(token)) is not None:
        return found
    return await run_in_threadpool(collector.authenticate, token)


def _decode(headers: dict[bytes, bytes], body: bytes, limit: int) -> Any:
    if headers.get(b"content-encoding", b"").lower() == b"gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, limit)
        except zlib.error as exc:
            raise MalformedBody("the body is not valid gzip", field="body") from exc
        if inflater.unconsumed_tail:
            raise BodyTooLarge(f"the decompressed body exceeds {limit} bytes", field="body")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody("the body is not valid JSON", field="body") from exc


async def _handle(collector: Collector, scope: Scope, receive: Receive) -> tuple[int, bytes]:
    received_at = utcnow()
    headers = dict(scope["headers"])
    source = await _source(collector, _token(headers))
    body = _decode(headers, await _read(receive), collector.settings.max_decoded_body_bytes)
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    call = INGESTION_PATHS[scope["path"]]
    if scope["path"] == NATIVE_PATH:
        unknown = set(body) - {"events"}
        if unknown:
            raise InvalidInput("unknown field", field=f"body.{sorted(unknown)[0]}")
        events = body.get("events")
        if not isinstance(events, list):
            raise InvalidInput("must be a list of events", field="events")
        submission = collector.check(source, events, received_at, api="native")
        return _answer(await _write(collector, submission))
    if call == "batch":
        messages = body.get("batch")
        if not isinstance(messages, list):
            raise InvalidInput("must be a list of messages", field="batch")
        path, sent_at = "batch", body.get("sentAt")
    else:
        body.setdefault("type", call)
        if body["type"] != call:
            raise InvalidInput(f"must be {call!r} on /v1/{call}", field="type")
        messages, path, sent_at = [body], "message", None
    submission = collector.check_segment(source, messages, received_at, path, sent_at)
    return _answer(await _write(collector, submission), success=True)


async def _write(collector: Collector, submission: Submission) -> Outcome:
    stored, duplicates = 0, 0
    if submission.events or submission.rejected:
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
