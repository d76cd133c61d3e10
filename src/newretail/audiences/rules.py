"""The audience rule language: a JSON tree of `all` / `any` / `not` over conditions.

`parse_rules` validates a raw JSON tree and answers the first fault with its path, for
example `rules.all[2].window.days: must be at least 1` (see docs/audiences.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from newretail.core.errors import InvalidInput

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
            raise ValueError("give either days or both from and to")
        if self.days is not None and (self.start is not None or self.end is not None):
            raise ValueError("give either days or from/to, not both")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("to must not be before from")
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
            raise ValueError("a behaviour needs at least one event; use did_not for none")
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
            raise ValueError("to_date must be after from_date")
        if set(self.from_stages) == {"none"} and set(self.to_stages) == {"none"}:
            raise ValueError("from none to none names nobody")
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
                raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
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


class RuleError(InvalidInput):
    """A rule tree that does not validate; `field` is the path of the fault."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}", field=path)
        self.reason = reason


def _join(path: str, part: str | int) -> str:
    return f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}"


def _reason(error: Any) -> str:
    kind, context = error.get("type", ""), error.get("ctx") or {}
    if kind in ("greater_than_equal",):
        return f"must be at least {context['ge']}"
    if kind == "greater_than":
        return f"must be more than {context['gt']}"
    if kind == "less_than_equal":
        return f"must be at most {context['le']}"
    if kind == "less_than":
        return f"must be less than {context['lt']}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "too_short":
        return f"needs at least {context.get('min_length', 1)} item(s)"
    if kind == "too_long":
        return f"takes at most {context.get('max_length')} item(s)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {context.get('max_length')} characters"
    if kind == "literal_error":
        return f"must be one of {context.get('expected', '')}"
    if kind == "value_error":
        return str(context.get("error", error.get("msg", "")))
    message = str(error.get("msg", "is not valid"))
    return message[:1].lower() + message[1:]


@dataclass
class _Parser:
    conditions: int = 0

    def node(self, raw: Any, path: str, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise RuleError(path, f"nest at most {MAX_DEPTH} levels")
        if not isinstance(raw, dict):
            raise RuleError(path, "must be an object")
        groups = [k for k in ("all", "any", "not") if k in raw]
        if groups:
            if len(raw) != 1:
                extra = sorted(k for k in raw if k != groups[0])[0]
                raise RuleError(
                    _join(path, extra), f"a {groups[0]} group holds only its {groups[0]} key"
                )
            key = groups[0]
            value = raw[key]
            if key == "not":
                return Not(self.node(value, _join(path, "not"), depth + 1))
            inner = _join(path, key)
            if not isinstance(value, list):
                raise RuleError(inner, "must be a list of rules")
            if not value:
                raise RuleError(inner, "needs at least 1 item(s)")
            children = tuple(
                self.node(item, _join(inner, index), depth + 1) for index, item in enumerate(value)
            )
            return All(children) if key == "all" else Any_(children)
        return self.condition(raw, path)

    def condition(self, raw: dict[str, Any], path: str) -> Condition:
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise RuleError(path, f"a rule tree holds at most {MAX_CONDITIONS} conditions")
        kind = raw.get("type")
        if kind is None:
            raise RuleError(_join(path, "type"), "is required (or use all, any, not)")
        if kind == "attribute":
            field = raw.get("field")
            model = _ATTRIBUTE_MODELS.get(field) if isinstance(field, str) else None
            if model is None:
                choices = ", ".join(_ATTRIBUTE_MODELS)
                raise RuleError(_join(path, "field"), f"must be one of {choices}")
        else:
            found = _LEAF_MODELS.get(kind) if isinstance(kind, str) else None
            if found is None:
                raise RuleError(_join(path, "type"), f"must be one of {', '.join(CONDITION_TYPES)}")
            model = found
        try:
            parsed = model.model_validate(raw)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = path
            for part in error.get("loc", ()):
                where = _join(where, part)
            raise RuleError(where, _reason(error)) from exc
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
