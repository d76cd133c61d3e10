"""The audience rule language: a JSON tree of `all` / `any` / `not` over conditions
(audiences.conditions).

`parse_rules` validates a raw JSON tree and answers the first fault with its path, for
example `rules.all[2].window.days: must be at least 1` (see docs/audiences.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from newretail.audiences.conditions import ATTRIBUTE_MODELS, CONDITION_TYPES, LEAF_MODELS, Condition
from newretail.audiences.errors import RuleError as RuleError
from newretail.core.errors import InvalidInput

MAX_DEPTH = 8
MAX_CONDITIONS = 50


@dataclass(frozen=True)
class All:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = All | Any_ | Not | Condition


@dataclass(frozen=True)
class Located:
    """A condition with its path in the tree (for errors found after parsing)."""

    path: str
    condition: Condition


def _join(path: str, part: str | int) -> str:
    return f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}"


_BOUNDS = {
    "greater_than_equal": ("at_least", "ge"),
    "greater_than": ("more_than", "gt"),
    "less_than_equal": ("at_most", "le"),
    "less_than": ("less_than", "lt"),
}
_KINDS = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "string_too_short": "empty",
    "int_parsing": "whole_number",
    "int_type": "whole_number",
    "int_from_float": "whole_number",
    "decimal_parsing": "number",
    "decimal_type": "number",
    "decimal_max_places": "two_decimals",
    "date_parsing": "date",
    "date_from_datetime_parsing": "date",
    "date_type": "date",
    "bool_parsing": "yes_or_no",
    "bool_type": "yes_or_no",
    "string_type": "text",
    "list_type": "list",
    "model_type": "object",
    "model_attributes_type": "object",
    "dict_type": "object",
}


def _reason(error: Any) -> tuple[str, dict[str, Any]]:
    """A Pydantic error as a message id of the audiences catalogues and its values."""
    kind, context = error.get("type", ""), error.get("ctx") or {}
    if kind.startswith("audiences_rule_"):
        return kind.removeprefix("audiences_rule_"), dict(context)
    if kind in _BOUNDS:
        name, bound = _BOUNDS[kind]
        return name, {"limit": context[bound]}
    if kind in _KINDS:
        return _KINDS[kind], {}
    if kind == "too_short":
        return "too_few", {"least": context.get("min_length", 1)}
    if kind == "too_long":
        return "too_many", {"most": context.get("max_length")}
    if kind == "string_too_long":
        return "text_too_long", {"most": context.get("max_length")}
    if kind == "literal_error":
        expected = str(context.get("expected", ""))
        return "one_of", {"choices": expected, "options": expected.replace(" or ", ", ")}
    message = str(error.get("msg", "is not valid"))
    return "invalid", {"detail": message[:1].lower() + message[1:]}


@dataclass
class _Parser:
    conditions: int = 0

    def node(self, raw: Any, path: str, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise RuleError(path, "nest_depth", depth=MAX_DEPTH)
        if not isinstance(raw, dict):
            raise RuleError(path, "object")
        groups = [k for k in ("all", "any", "not") if k in raw]
        if groups:
            if len(raw) != 1:
                extra = sorted(k for k in raw if k != groups[0])[0]
                raise RuleError(_join(path, extra), "group_alone", group=groups[0])
            key = groups[0]
            value = raw[key]
            if key == "not":
                return Not(self.node(value, _join(path, "not"), depth + 1))
            inner = _join(path, key)
            if not isinstance(value, list):
                raise RuleError(inner, "rule_list")
            if not value:
                raise RuleError(inner, "too_few", least=1)
            children = tuple(
                self.node(item, _join(inner, index), depth + 1) for index, item in enumerate(value)
            )
            return All(children) if key == "all" else Any_(children)
        return self.condition(raw, path)

    def condition(self, raw: dict[str, Any], path: str) -> Condition:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise RuleError(path, "too_many_conditions", most=MAX_CONDITIONS)
        kind = raw.get("type")
        if kind is None:
            raise RuleError(_join(path, "type"), "type_required")
        if kind == "attribute":
            field = raw.get("field")
            model = ATTRIBUTE_MODELS.get(field) if isinstance(field, str) else None
            if model is None:
                choices = ", ".join(ATTRIBUTE_MODELS)
                raise RuleError(_join(path, "field"), "one_of", choices=choices, options=choices)
        else:
            found = LEAF_MODELS.get(kind) if isinstance(kind, str) else None
            if found is None:
                choices = ", ".join(CONDITION_TYPES)
                raise RuleError(_join(path, "type"), "one_of", choices=choices, options=choices)
            model = found
        try:
            parsed = model.model_validate(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = path
            for part in error.get("loc", ()):
                where = _join(where, part)
            name, values = _reason(error)
            raise RuleError(where, name, **values) from exc
        return parsed  # type: ignore[return-value]


def rules_object(text: str) -> dict[str, Any]:
    """A rule tree given as JSON text, as an object (not parsed yet; see `parse_rules`)."""
    try:
        tree = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"not JSON: {exc.msg}", field="rules") from exc
    if not isinstance(tree, dict):
        raise InvalidInput("must be an object", field="rules")
    return tree


def parse_rules(raw: Any, path: str = "rules") -> Node:
    """Validate a rule tree given as JSON; raises RuleError naming the path of the fault."""
    return _Parser().node(raw, path, 1)


def conditions(node: Node, path: str = "rules") -> list[Located]:
    """Every condition of a tree with its path, in document order."""
    if isinstance(node, Not):
        return conditions(node.child, _join(path, "not"))
    if isinstance(node, All | Any_):
        key = "all" if isinstance(node, All) else "any"
        found: list[Located] = []
        for index, child in enumerate(node.children):
            found += conditions(child, _join(_join(path, key), index))
        return found
    return [Located(path, node)]


def dump(node: Node) -> dict[str, Any]:
    """The canonical JSON of a parsed tree (as stored)."""
    if isinstance(node, Not):
        return {"not": dump(node.child)}
    if isinstance(node, All):
        return {"all": [dump(c) for c in node.children]}
    if isinstance(node, Any_):
        return {"any": [dump(c) for c in node.children]}
    return node.model_dump(mode="json", by_alias=True, exclude_none=True)


def replace_conditions(
    node: Node, change: Callable[[Located], Condition], path: str = "rules"
) -> Node:
    """The tree with each condition replaced by `change(located condition)`."""
    if isinstance(node, Not):
        return Not(replace_conditions(node.child, change, _join(path, "not")))
    if isinstance(node, All | Any_):
        key = "all" if isinstance(node, All) else "any"
        children = tuple(
            replace_conditions(child, change, _join(_join(path, key), index))
            for index, child in enumerate(node.children)
        )
        return All(children) if isinstance(node, All) else Any_(children)
    return change(Located(path, node))
