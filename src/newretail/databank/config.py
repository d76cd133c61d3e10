"""Per-organisation Data Bank configuration: the event→stage mapping and the windows."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from newretail.events.taxonomy import TYPE_NAME_PATTERN

Days = Annotated[int, Field(ge=1, le=3660)]
EventTypes = Annotated[list[Annotated[str, Field(pattern=TYPE_NAME_PATTERN)]], Field(max_length=64)]


class Stage(StrEnum):
    """AIPL stages, shallow to deep."""

    A = "A"
    I = "I"  # noqa: E741 (the stage's name)
    P = "P"
    L = "L"


STAGES: tuple[Stage, ...] = (Stage.A, Stage.I, Stage.P, Stage.L)
STAGE_RANK = {stage: rank for rank, stage in enumerate(STAGES, start=1)}


class DatabankConfig(BaseModel):
    """How events earn AIPL stages and how long each stage lasts (defaults: DESIGN.md)."""

    model_config = ConfigDict(extra="forbid")

    awareness_events: EventTypes = Field(
        default_factory=lambda: [
            "ad_impression",
            "screen_exposure",
            "district_enter",
            "category_search",
        ]
    )
    interest_events: EventTypes = Field(
        default_factory=lambda: [
            "ad_click",
            "store_visit",
            "counter_approach",
            "product_view",
            "shelf_browse",
            "brand_search",
            "add_to_cart",
            "favorite",
            "trial_claim",
            "follow",
            "member_join",
            "coupon_claim",
        ]
    )
    purchase_events: EventTypes = Field(default_factory=lambda: ["purchase"])
    # Advocacy that always counts toward L, and reviews that count when positive.
    advocacy_events: EventTypes = Field(default_factory=lambda: ["share"])
    review_events: EventTypes = Field(default_factory=lambda: ["review"])
    positive_review_min_rating: float = Field(default=4.0, ge=0, le=100)
    awareness_days: Days = 15
    interest_days: Days = 15
    purchase_days: Days = 913
    loyalty_days: Days = 365
    membership_events: EventTypes = Field(default_factory=lambda: ["member_join"])
    thriving_events: EventTypes = Field(
        default_factory=lambda: [
            "add_to_cart",
            "favorite",
            "coupon_claim",
            "trial_claim",
            "purchase",
        ]
    )
    thriving_days: Days = 30

    @model_validator(mode="after")
    def _loyalty_within_purchase(self) -> DatabankConfig:
        # The incremental snapshot forgets a purchase once it leaves the P window; a longer
        # L window would need it later, so L's window may not exceed P's.
        if self.loyalty_days > self.purchase_days:
            raise ValueError("loyalty_days must not exceed purchase_days")
        if not self.purchase_events:
            raise ValueError("purchase_events must name at least one event type")
        return self

    # The organisation's time zone (tenancy owns it; the service sets it, it is not a setting).
    # Days are its local calendar days; UTC when computed without an organisation.
    _time_zone: str = PrivateAttr(default="UTC")

    @property
    def time_zone(self) -> str:
        """The IANA zone whose calendar days the Data Bank counts."""
        return self._time_zone

    def in_zone(self, time_zone: str) -> DatabankConfig:
        """A copy of the settings that counts the days of `time_zone`."""
        copy = self.model_copy()
        copy._time_zone = time_zone
        return copy

    def window_start(self, on: date, days: int) -> date:
        """First event date inside a window of `days` days ending on `on` (inclusive)."""
        return on - timedelta(days=days - 1)

    @property
    def longest_window(self) -> int:
        return max(self.awareness_days, self.interest_days, self.purchase_days, self.loyalty_days)

    @property
    def stage_event_types(self) -> list[str]:
        """Every event type that can earn a stage."""
        kinds = [
            *self.awareness_events,
            *self.interest_events,
            *self.purchase_events,
            *self.advocacy_events,
            *self.review_events,
        ]
        return sorted(set(kinds))


DEFAULT_CONFIG = DatabankConfig()
