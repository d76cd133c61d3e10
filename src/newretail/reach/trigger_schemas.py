"""Pydantic shapes of trigger rules, reach settings and decisions in the API."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from newretail.reach.decide import Channel, Reason
from newretail.tenancy.schemas import Strict

Name = Annotated[str, Field(min_length=1, max_length=200)]
EventType = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_.]*$")]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# the O2O event types the trigger builder offers first; any accepted type may be named
TRIGGER_TYPES = ("counter_approach", "store_visit", "district_enter", "shelf_browse")


class PropertyFilterIn(Strict):
    """`{"property": "zone", "op": "equals", "value": "beauty"}` or `"op": "in"` with
    `"values"`."""

    property: Annotated[str, Field(min_length=1, max_length=100)]
    op: Literal["equals", "in"]
    value: str | int | float | bool | None = None
    values: list[str | int | float | bool] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _operands(self) -> PropertyFilterIn:
        if self.op == "equals" and self.value is None:
            raise ValueError("value: equals needs a value")
        if self.op == "in" and not self.values:
            raise ValueError("values: in needs at least one value")
        return self


class TriggerRuleIn(Strict):
    """A trigger rule on a campaign stage: the events (types, properties), where (stores by
    id, city or district; none: anywhere), the channel, the stage's offer, the SKUs it needs
    in stock, the re-entry window and the caps per member and campaign."""

    name: Name
    campaign_id: uuid.UUID
    stage_position: Annotated[int, Field(ge=1)]
    event_types: list[EventType] = Field(default_factory=list, max_length=20)
    property_filters: list[PropertyFilterIn] = Field(default_factory=list, max_length=20)
    store_ids: list[uuid.UUID] = Field(default_factory=list, max_length=1000)
    cities: list[Name] = Field(default_factory=list, max_length=100)
    districts: list[Name] = Field(default_factory=list, max_length=100)
    channel: Channel
    offer_code: Annotated[str, Field(min_length=1, max_length=64)]
    sku_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    reentry_minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 5
    daily_cap: Annotated[int, Field(ge=1, le=1000)] | None = None
    weekly_cap: Annotated[int, Field(ge=1, le=1000)] | None = None
    active: bool = True


class TriggerRuleRead(BaseModel):
    id: uuid.UUID
    name: str
    campaign_id: uuid.UUID
    campaign_name: str
    stage_position: int
    stage_name: str | None
    event_types: list[str]
    property_filters: list[dict[str, Any]]
    store_ids: list[uuid.UUID]
    cities: list[str]
    districts: list[str]
    channel: Channel
    offer_code: str
    offer_name: str
    sku_ids: list[uuid.UUID]
    reentry_minutes: int
    daily_cap: int | None
    weekly_cap: int | None
    active: bool


class ReachSettingsIn(Strict):
    """Quiet hours (local "HH:MM", start inclusive, end exclusive; 22:00–08:00 wraps
    midnight; both or neither) and the global cap of contacts per member per local day."""

    quiet_start: str | None = None
    quiet_end: str | None = None
    global_daily_cap: Annotated[int, Field(ge=1, le=1000)] | None = None

    @field_validator("quiet_start", "quiet_end")
    @classmethod
    def _hhmm(cls, value: str | None) -> str | None:
        if value is not None and not _HHMM.match(value):
            raise ValueError(f"{value!r} is not HH:MM")
        return value

    @model_validator(mode="after")
    def _both(self) -> ReachSettingsIn:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet_end: quiet hours need a start and an end")
        return self


class ReachSettingsRead(BaseModel):
    quiet_start: str | None
    quiet_end: str | None
    global_daily_cap: int | None


class DecisionRead(BaseModel):
    id: uuid.UUID
    campaign_id: uuid.UUID
    campaign_name: str
    stage_position: int
    rule_id: uuid.UUID
    rule_name: str
    member_id: uuid.UUID
    event_id: str
    event_type: str
    store_id: uuid.UUID | None
    store_name: str | None
    channel: str
    reason: Reason
    occurred_at: datetime  # with the offset of its zone, as decided_at
    decided_at: datetime  # with the offset of its zone
    time_zone: str
    local_day: date
    coupon_id: uuid.UUID | None
