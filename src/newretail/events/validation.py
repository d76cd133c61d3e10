"""Checking one incoming event: envelope, time window, identifiers, properties against the
schema of its type. Every failure names the field (a path inside the request) and the reason.

Schemas are compiled once into plain Python checks (a subset of JSON Schema, see taxonomy.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from newretail.events.taxonomy import NEEDS_AMOUNT, NEEDS_STORE, TYPE_NAME_PATTERN
from newretail.members.errors import InvalidIdentifier
from newretail.members.identifiers import normalise
from newretail.members.models import IdentifierType

# A failure: (field path, reason).
Failure = tuple[str, str]
Check = Callable[[Any, str], Failure | None]

TYPE_NAME = re.compile(TYPE_NAME_PATTERN)
_KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "items",
    "description",
    "title",
}
_JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}
BUILT_IN_IDENTIFIERS = frozenset(t.value for t in IdentifierType)


class SchemaError(ValueError):
    """A custom event type's schema uses something this subset does not support."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def compile_schema(schema: Mapping[str, Any], path: str = "schema") -> Check:
    """Turn a JSON Schema (the supported subset) into a check; SchemaError when unsupported."""
    if not isinstance(schema, Mapping):
        raise SchemaError(path, "must be an object")
    unknown = set(schema) - _KEYWORDS
    if unknown:
        raise SchemaError(f"{path}.{sorted(unknown)[0]}", "keyword not supported")
    checks: list[Check] = []
    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else kind
        if not isinstance(kinds, list) or not all(k in _JSON_TYPES for k in kinds):
            raise SchemaError(f"{path}.type", f"must be one of {', '.join(_JSON_TYPES)}")
        tests = [_JSON_TYPES[k] for k in kinds]
        expected = " or ".join(kinds)
        if len(tests) == 1:
            test = tests[0]

            def check_type(value: Any, at: str) -> Failure | None:
                return None if test(value) else (at, f"must be {expected}")
        else:

            def check_type(value: Any, at: str) -> Failure | None:
                if any(test(value) for test in tests):
                    return None
                return at, f"must be {expected}"

        checks.append(check_type)
    if "enum" in schema:
        allowed = schema["enum"]
        if not isinstance(allowed, list) or not allowed:
            raise SchemaError(f"{path}.enum", "must be a non-empty list")
        checks.append(lambda v, at: None if v in allowed else (at, f"must be one of {allowed}"))
    for keyword, compare, word in (
        ("minimum", lambda v, b: v >= b, "at least"),
        ("maximum", lambda v, b: v <= b, "at most"),
    ):
        if keyword in schema:
            bound = schema[keyword]
            if not _JSON_TYPES["number"](bound):
                raise SchemaError(f"{path}.{keyword}", "must be a number")
            checks.append(_bound(compare, bound, f"must be {word} {bound}"))
    for keyword, longest in (("minLength", False), ("maxLength", True)):
        if keyword in schema:
            size = schema[keyword]
            if not _JSON_TYPES["integer"](size) or size < 0:
                raise SchemaError(f"{path}.{keyword}", "must be a non-negative integer")
            checks.append(_length(size, longest))
    if "items" in schema:
        item_check = compile_schema(schema["items"], f"{path}.items")

        def check_items(value: Any, at: str) -> Failure | None:
            if not isinstance(value, list):
                return None
            for i, item in enumerate(value):
                if failure := item_check(item, f"{at}[{i}]"):
                    return failure
            return None

        checks.append(check_items)
    if "properties" in schema or "required" in schema or "additionalProperties" in schema:
        checks.append(_object_check(schema, path))
    if len(checks) == 1:
        return checks[0]

    def check_all(value: Any, at: str) -> Failure | None:
        for check in checks:
            if failure := check(value, at):
                return failure
        return None

    return check_all


def _bound(compare: Callable[[Any, Any], bool], bound: Any, reason: str) -> Check:
    def check(value: Any, at: str) -> Failure | None:
        if _JSON_TYPES["number"](value) and not compare(value, bound):
            return at, reason
        return None

    return check


def _length(size: int, longest: bool) -> Check:
    reason = (
        f"must be at most {size} characters" if longest else f"must be at least {size} characters"
    )

    def check(value: Any, at: str) -> Failure | None:
        if isinstance(value, str) and ((len(value) > size) if longest else (len(value) < size)):
            return at, reason
        return None

    return check


def _object_check(schema: Mapping[str, Any], path: str) -> Check:
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        raise SchemaError(f"{path}.properties", "must be an object")
    children = {
        name: compile_schema(sub, f"{path}.properties.{name}") for name, sub in properties.items()
    }
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise SchemaError(f"{path}.required", "must be a list of property names")
    closed = schema.get("additionalProperties", True) is False

    def check(value: Any, at: str) -> Failure | None:
        if not isinstance(value, dict):
            return None
        for name in required:
            if value.get(name) is None:
                return f"{at}.{name}", "is required"
        for name, item in value.items():
            child = children.get(name)
            if child is not None:
                if failure := child(item, f"{at}.{name}"):
                    return failure
            elif closed:
                return f"{at}.{name}", "is not a known property of this event type"
        return None

    return check


@dataclass(frozen=True)
class Limits:
    """What one event may be (settings; see README)."""

    max_age: timedelta
    max_future_skew: timedelta
    max_event_bytes: int
    max_property_depth: int


@dataclass
class OrgCatalog:
    """What an organisation's events may name: stores, brands, event and identifier types."""

    organization_id: uuid.UUID
    stores: dict[str, tuple[str | None, str]]  # store id -> (brand id, channel type)
    brands: frozenset[str]
    event_types: dict[str, Check]
    identifier_types: frozenset[str]
    loaded_at: float = 0.0


@dataclass(slots=True)
class CheckedEvent:
    """An accepted event, ready for identity resolution and the warehouse."""

    message_id: str
    type: str
    ts: datetime
    brand_id: str | None
    store_id: str | None
    channel: str | None
    identifiers: list[tuple[str, str]]
    anonymous_id: str | None
    amount: Decimal | None
    properties: str
    index: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


ENVELOPE = frozenset(
    {
        "message_id",
        "type",
        "ts",
        "sent_at",
        "brand_id",
        "store_id",
        "channel",
        "identifiers",
        "amount",
        "properties",
    }
)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time with an offset, or None when it is not one."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _depth(value: Any, limit: int) -> bool:
    """True when nested objects/arrays go deeper than `limit` levels."""
    if limit < 0:
        return True
    if isinstance(value, dict):
        return any(_depth(v, limit - 1) for v in value.values())
    if isinstance(value, list):
        return any(_depth(v, limit - 1) for v in value)
    return False


def check_event(
    raw: Any,
    at: str,
    catalog: OrgCatalog,
    limits: Limits,
    received_at: datetime,
    default_store_id: str | None,
    custom_allowed: bool = False,
) -> CheckedEvent | Failure:
    """Validate one native event (`at` is its path in the request, e.g. `events[3]`)."""
    if not isinstance(raw, dict):
        return at, "must be an object"
    for name in raw:
        if name not in ENVELOPE:
            return f"{at}.{name}", "unknown field"
    message_id = raw.get("message_id")
    if not isinstance(message_id, str) or not 1 <= len(message_id) <= 100:
        return f"{at}.message_id", "is required: a string of 1-100 characters"
    event_type = raw.get("type")
    if not isinstance(event_type, str) or not TYPE_NAME.match(event_type):
        return f"{at}.type", "is required: lower-case letters, digits and _ (at most 64)"
    check = catalog.event_types.get(event_type)
    if check is None and not custom_allowed:
        return f"{at}.type", f"unknown event type {event_type!r}; register it as a custom type"
    ts = parse_time(raw.get("ts"))
    if ts is None:
        return f"{at}.ts", "is required: an ISO 8601 time with a time zone offset"
    if "sent_at" in raw and raw["sent_at"] is not None:
        sent_at = parse_time(raw["sent_at"])
        if sent_at is None:
            return f"{at}.sent_at", "must be an ISO 8601 time with a time zone offset"
        ts = ts + (received_at - sent_at)  # the device clock's skew, as Segment corrects it
    if ts < received_at - limits.max_age:
        return f"{at}.ts", f"is older than {limits.max_age.days} days"
    if ts > received_at + limits.max_future_skew:
        seconds = int(limits.max_future_skew.total_seconds())
        return f"{at}.ts", f"is more than {seconds} s in the future"
    store_id = raw.get("store_id", default_store_id)
    brand_id = raw.get("brand_id")
    channel = raw.get("channel")
    store: tuple[str | None, str] | None = None
    if store_id is not None:
        store_id = str(store_id).lower() if isinstance(store_id, str) else store_id
        store = catalog.stores.get(store_id) if isinstance(store_id, str) else None
        if store is None:
            return f"{at}.store_id", "is not a store of this organisation"
    elif event_type in NEEDS_STORE:
        return f"{at}.store_id", f"is required for {event_type} events"
    if brand_id is not None:
        brand_id = brand_id.lower() if isinstance(brand_id, str) else brand_id
        if brand_id not in catalog.brands:
            return f"{at}.brand_id", "is not a brand of this organisation"
    elif store is not None:
        brand_id = store[0]
    if channel is not None:
        if not isinstance(channel, str) or not TYPE_NAME.match(channel):
            return f"{at}.channel", "must be a channel name (lower-case letters, digits and _)"
    elif store is not None:
        channel = store[1]
    amount: Decimal | None = None
    if raw.get("amount") is not None:
        value = raw["amount"]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return f"{at}.amount", "must be a decimal number"
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return f"{at}.amount", "must be a decimal number"
        if not amount.is_finite() or abs(amount) >= Decimal("1e16"):
            return f"{at}.amount", "must be a finite number below 10^16"
        amount = amount.quantize(Decimal("0.01"))
    elif event_type in NEEDS_AMOUNT:
        return f"{at}.amount", f"is required for {event_type} events"
    identifiers, anonymous_id, failure = _identifiers(raw.get("identifiers"), at, catalog)
    if failure is not None:
        return failure
    properties = raw.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        return f"{at}.properties", "must be an object"
    nested = any(isinstance(v, dict | list) for v in properties.values())
    if nested and _depth(properties, limits.max_property_depth):
        return f"{at}.properties", f"nests deeper than {limits.max_property_depth} levels"
    if check is not None and (failure := check(properties, f"{at}.properties")):
        return failure
    encoded = orjson.dumps(properties)
    if len(encoded) > limits.max_event_bytes:
        return f"{at}.properties", f"is larger than {limits.max_event_bytes} bytes"
    return CheckedEvent(
        message_id=message_id,
        type=event_type,
        ts=ts,
        brand_id=brand_id,
        store_id=store_id,
        channel=channel,
        identifiers=identifiers,
        anonymous_id=anonymous_id,
        amount=amount,
        properties=encoded.decode(),
    )


def _identifiers(
    raw: Any, at: str, catalog: OrgCatalog
) -> tuple[list[tuple[str, str]], str | None, Failure | None]:
    if raw is None:
        return [], None, None
    if not isinstance(raw, dict):
        return [], None, (f"{at}.identifiers", "must be an object of type: value")
    found: list[tuple[str, str]] = []
    anonymous_id = None
    for kind, value in raw.items():
        path = f"{at}.identifiers.{kind}"
        if kind not in catalog.identifier_types:
            return [], None, (path, "unknown identifier type")
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > 254:
            return [], None, (path, "must be a non-empty string of at most 254 characters")
        if kind in BUILT_IN_IDENTIFIERS:
            try:
                normalised = normalise(kind, value)
            except InvalidIdentifier as exc:
                return [], None, (path, exc.message)
        else:
            normalised = value.strip()
        if kind == "anonymous_id":
            anonymous_id = normalised
        found.append((kind, normalised))
    return found, anonymous_id, None
