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
    """The document with decimals' text form constrained, 422 answers as problems and the
    links from each create to the read, update and delete of what it created."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "HTTPValidationError" in components:
        components["HTTPValidationError"] = PROBLEM
        components.pop("ValidationError", None)
    _constrain_decimal_text(schema)
    _link_lifecycles(schema)
    return schema


ITEM_METHODS = ("get", "patch", "put", "delete")
LINK_NAMES = {"get": "read", "patch": "update", "put": "replace", "delete": "delete"}


def _link_lifecycles(schema: dict[str, Any]) -> None:
    """OpenAPI links create → read / update / delete, wherever a collection's `POST` answers
    201 with the created object and `<collection>/{name}` reads it: `{name}` is the body's
    `id` (an `…_id` parameter) or its field of that name (an offer's `code`); a parent's path
    parameters are the create request's own. An update links to the read and the delete too.
    Clients and the stateful fuzz (tests/test_api_fuzz.py) follow them."""
    paths: dict[str, Any] = schema.get("paths", {})
    components = schema.get("components", {}).get("schemas", {})
    for collection, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        fields = _properties(created, components)
        for item, item_operations in paths.items():
            name = _item_parameter(collection, item)
            if name is None or not fields:
                continue
            field = "id" if name.endswith("_id") and "id" in fields else name
            if field not in fields:
                continue
            parents = {p: f"$request.path.{p}" for p in _path_parameters(collection)}
            from_body = {**parents, name: f"$response.body#/{field}"}
            from_path = {**parents, name: f"$request.path.{name}"}
            targets = {m: item_operations[m] for m in ITEM_METHODS if m in item_operations}
            created.setdefault("links", {}).update(_links(targets, from_body))
            for method in ("patch", "put"):
                updated = targets.get(method, {}).get("responses", {}).get("200")
                if updated is not None:
                    others = {m: o for m, o in targets.items() if m in ("get", "delete")}
                    updated.setdefault("links", {}).update(_links(others, from_path))


def _links(targets: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """One link per target operation, named for what it does to the item."""
    return {
        LINK_NAMES[method]: {"operationId": operation["operationId"], "parameters": parameters}
        for method, operation in targets.items()
    }


def _item_parameter(collection: str, item: str) -> str | None:
    """`brand_id` when `item` is `collection/{brand_id}`."""
    rest = item.removeprefix(collection + "/")
    if rest == item or not (rest.startswith("{") and rest.endswith("}")) or "/" in rest:
        return None
    return rest[1:-1]


def _path_parameters(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _properties(response: dict[str, Any] | None, components: dict[str, Any]) -> set[str]:
    """The top-level fields of a JSON response's object schema (through one `$ref`)."""
    if response is None:
        return set()
    body = response.get("content", {}).get("application/json", {}).get("schema", {})
    reference = body.get("$ref", "")
    if reference.startswith("#/components/schemas/"):
        body = components.get(reference.rsplit("/", 1)[-1], {})
    return set(body.get("properties", {}))


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
