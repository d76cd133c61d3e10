"""Walks the app's routes and builds valid requests for them, so that access tests cover
every route, including routes added later, without being edited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

# Routes anyone may call: probes, docs, the favicon and the login page.
PUBLIC_PATHS = {
    "/healthz",
    "/readyz",
    "/docs",
    "/favicon.ico",
    "/metrics",
    "/",
    "/console/login",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Endpoint:
    route: APIRoute
    method: str
    path: str

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def is_console(self) -> bool:
        return self.path.startswith("/console")

    @property
    def has_path_params(self) -> bool:
        return bool(self.route.dependant.path_params)

    @property
    def body_model(self) -> type[BaseModel] | None:
        for param in self.route.dependant.body_params:
            annotation = param.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                return annotation
        return None

    def url(self, ids: dict[str, uuid.UUID]) -> str:
        path = self.path
        for param in self.route.dependant.path_params:
            path = path.replace("{" + param.name + "}", str(ids.get(param.name, uuid.uuid4())))
        return path

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def endpoints(app: FastAPI) -> list[Endpoint]:
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            for method in sorted(route.methods):
                found.append(Endpoint(route, method, context.path))
    return found


def protected(app: FastAPI) -> list[Endpoint]:
    return [e for e in endpoints(app) if e.path not in PUBLIC_PATHS]


def sample_body(model: type[BaseModel], ids: dict[str, uuid.UUID]) -> dict[str, Any]:
    """A minimal valid JSON body for a request model, using `ids` for id fields."""
    schema = model.model_json_schema()
    value = _sample(schema, schema.get("$defs", {}), ids, name="")
    assert isinstance(value, dict)
    return value


def _sample(
    schema: dict[str, Any], defs: dict[str, Any], ids: dict[str, uuid.UUID], name: str
) -> Any:
    if "$ref" in schema:
        return _sample(defs[schema["$ref"].rsplit("/", 1)[1]], defs, ids, name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            options = [s for s in schema[combinator] if s.get("type") != "null"]
            return _sample(options[0], defs, ids, name)
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {key: _sample(properties[key], defs, ids, key) for key in schema.get("required", [])}
    if kind == "array":
        if "prefixItems" in schema:
            return [_sample(s, defs, ids, name) for s in schema["prefixItems"]]
        item = schema.get("items", {"type": "string"})
        return [_sample(item, defs, ids, name) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "uuid":
            return str(ids.get(name, ids.get(name.removesuffix("s"), uuid.uuid4())))
        if fmt == "date-time":
            return (datetime.now(UTC) + timedelta(days=1)).isoformat()
        if fmt == "date":
            return datetime.now(UTC).date().isoformat()
        if fmt == "email":
            return f"{uuid.uuid4().hex[:10]}@example.com"
        low, high = schema.get("minLength", 1), schema.get("maxLength", 64)
        return ("x" + uuid.uuid4().hex * 4)[: max(low, min(12, high))]
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1))
    if kind == "number":
        return float(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1))
    if kind == "boolean":
        return False
    return None
