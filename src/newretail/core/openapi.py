"""Corrections to the OpenAPI document FastAPI generates, so it says what the API really
accepts and answers (the fuzz in tests/test_api_fuzz.py holds it to that)."""

from __future__ import annotations

from typing import Any

# A decimal as text, as Pydantic reads it: digits with an optional fraction and exponent
# (not "", "NaN" or "Infinity", which the API refuses with 422).
DECIMAL_TEXT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
UNSIGNED_DECIMAL_TEXT = r"^\+?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"

# The API's one error body (core.http.problem), in place of FastAPI's `{"detail": [...]}`.
PROBLEM = {
    "title": "Problem",
    "type": "object",
    "description": "An error: a stable code, a message, and the field at fault (or null).",
    "properties": {
        "code": {"type": "string", "description": "Stable error code (docs/api.md)"},
        "message": {"type": "string"},
        "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "errors": {
            "type": "array",
            "description": "Every refused field, for a 422 of the request's shape",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "reason": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "required": ["code", "message", "field"],
}


def corrected(schema: dict[str, Any]) -> dict[str, Any]:
    """The document with decimals' text form constrained and 422 answers as problems."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "HTTPValidationError" in components:
        components["HTTPValidationError"] = PROBLEM
        components.pop("ValidationError", None)
    _constrain_decimal_text(schema)
    return schema


def _constrain_decimal_text(node: Any) -> None:
    """Pydantic documents a Decimal as `anyOf: [number, string]`; the string is a decimal."""
    if isinstance(node, dict):
        branches = node.get("anyOf")
        if isinstance(branches, list) and _is_decimal(branches):
            number = next(b for b in branches if b.get("type") == "number")
            floor = number.get("minimum", number.get("exclusiveMinimum"))
            pattern = DECIMAL_TEXT if floor is None or floor < 0 else UNSIGNED_DECIMAL_TEXT
            for branch in branches:
                if branch.get("type") == "string":
                    branch.setdefault("pattern", pattern)
        for value in node.values():
            _constrain_decimal_text(value)
    elif isinstance(node, list):
        for value in node:
            _constrain_decimal_text(value)


def _is_decimal(branches: list[Any]) -> bool:
    types = [str(branch.get("type")) for branch in branches if isinstance(branch, dict)]
    strings = [b for b in branches if isinstance(b, dict) and b.get("type") == "string"]
    return (
        sorted(t for t in types if t != "null") == ["number", "string"]
        and len(strings) == 1
        and not set(strings[0]) - {"type", "pattern"}
    )
