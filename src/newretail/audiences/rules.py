"""The audience rule language: a JSON tree of `all` / `any` / `not` over conditions.

`parse_rules` validates a raw JSON tree and answers the first fault with its path, for
example `rules.all[2].window.days: must be at least 1` (see docs/audiences.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from newretail.audiences.errors import RuleError as RuleError
from newretail.core.i18n import translator

MAX_DEPTH = 8
MAX_CONDITIONS = 50
MAX_WINDOW_DAYS = 3660
COMPARISONS = (">=", ">", "=", "!=", "<=", "<")
Comparison = Literal[">=", ">", "=", "!=", "<=", "<"]
StageName = Literal["A", "I", "P", "L"]
# "none" is outside AIPL: new members (from none) or churned (to none)
FlowStage = Literal["A", "I", "P", "L", "none"]
AGE_BANDS = ("under_18", "18_24", "25_34", "35_44", "45_54", "55_plus", "unknown")
AgeBand = Literal["under_18", "18_24", "25_34", "35_44", "45_54", "55_plus", "unknown"]
# Recency buckets: days since the last purchase, lower bound inclusive, upper exclusive.
RECENCY_BUCKETS: dict[str, tuple[int, int | None]] = {
    "0_30": (0, 30),
    "30_60": (30, 60),
    "60_90": (60, 90),
    "90_365": (90, 365),
    "365_plus": (365, None),
}
RecencyBucket = Literal["0_30", "30_60", "60_90", "90_365", "365_plus", "never"]

Text = Annotated[str, Field(min_length=1, max_length=200)]
Values = Annotated[list[Text], Field(min_length=1, max_length=500)]
EventTypes = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=64)
]


def _fault(name: str, **values: Any) -> PydanticCustomError:
    """A validator's fault, named by its message id (`audiences.rule.<name>`)."""
    text = translator("en")(f"audiences.rule.{name}", **values)
    return PydanticCustomError(f"audiences_rule_{name}", text, values)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Window(_Rule):
    """The last `days` days up to the reference date (inclusive), or `from` … `to`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    days: Annotated[int, Field(ge=1, le=MAX_WINDOW_DAYS)] | None = None
    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _one_kind(self) -> Window:
        if self.days is None and (self.start is None or self.end is None):
            raise _fault("window_days_or_dates")
        if self.days is not None and (self.start is not None or self.end is not None):
            raise _fault("window_not_both")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise _fault("window_order")
        return self

    def bounds(self, as_of: dt.date) -> tuple[dt.date, dt.date]:
        """First and last event date inside the window (inclusive)."""
        if self.days is not None:
            return as_of - dt.timedelta(days=self.days - 1), as_of
        assert self.start is not None and self.end is not None
        return self.start, min(self.end, as_of)


class CountComparison(_Rule):
    op: Comparison = ">="
    value: Annotated[int, Field(ge=0, le=1_000_000)]


class AmountComparison(_Rule):
    op: Comparison = ">="
    value: Annotated[Decimal, Field(ge=0, le=Decimal("1e12"), decimal_places=2)]


class _EventFilters(_Rule):
    events: EventTypes
    brand_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    category: Values | None = None
    product_id: Values | None = None
    store_id: Values | None = None
    channel: Values | None = None
    # omitted: all history up to the reference date
    window: Window | None = None


class Behaviour(_EventFilters):
    """Did the events (at least once), with optional count and amount comparisons."""

    type: Literal["behaviour"]
    count: CountComparison | None = None
    amount: AmountComparison | None = None

    @model_validator(mode="after")
    def _possible(self) -> Behaviour:
        if self.count is not None and not _can_hold_with_at_least_one(self.count):
            raise _fault("behaviour_needs_one")
        return self


def _can_hold_with_at_least_one(count: CountComparison) -> bool:
    return not (
        (count.op == "<" and count.value <= 1) or (count.op in ("<=", "=") and count.value == 0)
    )


class DidNot(_EventFilters):
    """Had none of the events (in the window, with the filters)."""

    type: Literal["did_not"]


class AiplStage(_Rule):
    """In one of the stages for a brand on a date (default: the reference date)."""

    type: Literal["aipl_stage"]
    brand_id: Annotated[str, Field(min_length=1, max_length=64)]
    stages: Annotated[list[StageName], Field(min_length=1, max_length=4)]
    on: dt.date | None = None


class AiplTransition(_Rule):
    """Moved from one of `from_stages` on `from_date` to one of `to_stages` on `to_date`."""

    type: Literal["aipl_transition"]
    brand_id: Annotated[str, Field(min_length=1, max_length=64)]
    from_date: dt.date
    to_date: dt.date | None = None
    from_stages: Annotated[list[FlowStage], Field(min_length=1, max_length=5)]
    to_stages: Annotated[list[FlowStage], Field(min_length=1, max_length=5)]

    @model_validator(mode="after")
    def _order(self) -> AiplTransition:
        if self.to_date is not None and self.to_date <= self.from_date:
            raise _fault("transition_order")
        if set(self.from_stages) == {"none"} and set(self.to_stages) == {"none"}:
            raise _fault("transition_none")
        return self


class AttributeIn(_Rule):
    """City, gender, age band or tier name is one of the values (or none of them)."""

    type: Literal["attribute"]
    field: Literal["city", "gender", "age_band", "tier"]
    op: Literal["in", "not_in"] = "in"
    values: Values

    @model_validator(mode="after")
    def _known_values(self) -> AttributeIn:
        allowed: tuple[str, ...] = ()
        if self.field == "age_band":
            allowed = AGE_BANDS
        elif self.field == "gender":
            allowed = ("female", "male", "other", "unknown")
        for value in self.values:
            if allowed and value not in allowed:
                raise _fault("value_not_one_of", value=value, options=", ".join(allowed))
        return self


class PointsAttribute(_Rule):
    type: Literal["attribute"]
    field: Literal["points"]
    op: Comparison = ">="
    value: Annotated[int, Field(ge=0, le=10**12)]


class ConsentAttribute(_Rule):
    """Marketing consent granted (on a channel, or on any channel) or not."""

    type: Literal["attribute"]
    field: Literal["consent"]
    granted: bool = True
    channel: Literal["sms", "push", "wechat", "email"] | None = None


class Recency(_Rule):
    """Days since the last purchase in a bucket, or `never` purchased (up to the date)."""

    type: Literal["recency"]
    bucket: RecencyBucket
    brand_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class SavedAudience(_Rule):
    """The current members of another saved audience."""

    type: Literal["audience"]
    audience_id: Annotated[str, Field(min_length=1, max_length=64)]


Condition = (
    Behaviour
    | DidNot
    | AiplStage
    | AiplTransition
    | AttributeIn
    | PointsAttribute
    | ConsentAttribute
    | Recency
    | SavedAudience
)
_LEAF_MODELS: dict[str, type[BaseModel]] = {
    "behaviour": Behaviour,
    "did_not": DidNot,
    "aipl_stage": AiplStage,
    "aipl_transition": AiplTransition,
    "recency": Recency,
    "audience": SavedAudience,
}
_ATTRIBUTE_MODELS: dict[str, type[BaseModel]] = {
    "city": AttributeIn,
    "gender": AttributeIn,
    "age_band": AttributeIn,
    "tier": AttributeIn,
    "points": PointsAttribute,
    "consent": ConsentAttribute,
}
CONDITION_TYPES = (*_LEAF_MODELS, "attribute")


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
            model = _ATTRIBUTE_MODELS.get(field) if isinstance(field, str) else None
            if model is None:
                choices = ", ".join(_ATTRIBUTE_MODELS)
                raise RuleError(_join(path, "field"), "one_of", choices=choices, options=choices)
        else:
            found = _LEAF_MODELS.get(kind) if isinstance(kind, str) else None
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
