"""The conditions of the audience rule language (behaviour, did-not, AIPL stage and
transition, attributes, recency, saved audiences): one Pydantic model each, with the checks a
condition makes on its own. The tree that combines them is in audiences.rules.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from newretail.core.i18n import translator

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
LEAF_MODELS: dict[str, type[BaseModel]] = {
    "behaviour": Behaviour,
    "did_not": DidNot,
    "aipl_stage": AiplStage,
    "aipl_transition": AiplTransition,
    "recency": Recency,
    "audience": SavedAudience,
}
ATTRIBUTE_MODELS: dict[str, type[BaseModel]] = {
    "city": AttributeIn,
    "gender": AttributeIn,
    "age_band": AttributeIn,
    "tier": AttributeIn,
    "points": PointsAttribute,
    "consent": ConsentAttribute,
}
CONDITION_TYPES = (*LEAF_MODELS, "attribute")
