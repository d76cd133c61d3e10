"""A request body of the ingestion routes turned into a checked submission: gzip, JSON, the
shape of the native and Segment bodies, then each event's checks. The same function runs in the
server and in its checker processes (events.offload)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from newretail.core.errors import ErrorCode, InvalidInput, NewRetailError
from newretail.events.checker import Checker, SourceRef
from newretail.events.submission import Submission

NATIVE_PATH = "/api/v1/events"
SEGMENT_CALLS = ("track", "identify", "alias", "page", "screen", "group")
# path → None for the native batch, "batch" for Segment's batch, or the Segment call
INGESTION_PATHS: dict[str, str | None] = {
    NATIVE_PATH: None,
    "/v1/batch": "batch",
    **{f"/v1/{call}": call for call in SEGMENT_CALLS},
}


_BODY_STATUS = {ErrorCode.MALFORMED_JSON: 400, ErrorCode.BODY_TOO_LARGE: 413}


class UnreadableBody(NewRetailError):
    """A body that is not gzip or not JSON (400 malformed_json), or that inflates past the
    limit (413 body_too_large)."""

    def __init__(self, code: ErrorCode, message: str):
        super().__init__(message, field="body")
        self.code = code
        self.status_code = _BODY_STATUS[code]


@dataclass(frozen=True)
class IngestionRequest:
    """One request to an ingestion route as the checks need it: its source, its path (which
    API), its content encoding, its raw body and when it arrived."""

    source: SourceRef
    path: str
    encoding: bytes
    raw: bytes
    received_at: datetime


def decode(encoding: bytes, body: bytes, limit: int) -> Any:
    """The JSON of a body, inflated first when it is gzip (at most `limit` bytes)."""
    if encoding.lower() == b"gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, limit)
        except zlib.error as exc:
            raise UnreadableBody(ErrorCode.MALFORMED_JSON, "the body is not valid gzip") from exc
        if inflater.unconsumed_tail:
            raise UnreadableBody(
                ErrorCode.BODY_TOO_LARGE, f"the decompressed body exceeds {limit} bytes"
            )
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UnreadableBody(ErrorCode.MALFORMED_JSON, "the body is not valid JSON") from exc


def parse(checker: Checker, request: IngestionRequest) -> Submission:
    """Check the events of one request on its path; raises for a body that is not a request."""
    source, path, received_at = request.source, request.path, request.received_at
    body = decode(request.encoding, request.raw, checker.settings.max_decoded_body_bytes)
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    if path == NATIVE_PATH:
        unknown = set(body) - {"events"}
        if unknown:
            raise InvalidInput("unknown field", field=f"body.{sorted(unknown)[0]}")
        events = body.get("events")
        if not isinstance(events, list):
            raise InvalidInput("must be a list of events", field="events")
        return checker.check(source, events, received_at, api="native")
    call = INGESTION_PATHS[path]
    if call == "batch":
        messages = body.get("batch")
        if not isinstance(messages, list):
            raise InvalidInput("must be a list of messages", field="batch")
        where, sent_at = "batch", body.get("sentAt")
    else:
        body.setdefault("type", call)
        if body["type"] != call:
            raise InvalidInput(f"must be {call!r} on /v1/{call}", field="type")
        messages, where, sent_at = [body], "message", None
    return checker.check_segment(source, messages, received_at, where, sent_at)
