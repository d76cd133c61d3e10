"""Pydantic shapes of the Data Bank API. Unknown fields are refused in every body."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from newretail.databank.snapshots import SnapshotMode
from newretail.tenancy.schemas import Strict

StageName = Literal["A", "I", "P", "L"]

# The days the Data Bank answers for: a wider range is refused with a 422 naming the field
# (a year-1 day overflowed the date arithmetic of the windows with a 500).
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)


def _within_calendar(day: dt.date) -> dt.date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"a day from {FIRST_DAY} to {LAST_DAY}")
    return day


Day = Annotated[dt.date, AfterValidator(_within_calendar)]
DAY_RANGE = f"{FIRST_DAY} to {LAST_DAY}"


class SnapshotCreate(Strict):
    """Materialise the snapshot of one day, or of every day from `date` to `end`."""

    date: Day
    end: Day | None = Field(default=None, description="Backfill through this day")
    mode: SnapshotMode = SnapshotMode.AUTO

    @model_validator(mode="after")
    def _range(self) -> SnapshotCreate:
        if self.end is not None and self.end < self.date:
            raise ValueError("end must not be before date")
        if self.end is not None and (self.end - self.date).days > 366:
            raise ValueError("backfill at most 367 days per request")
        return self


class SnapshotRunRead(BaseModel):
    date: dt.date
    mode: SnapshotMode
    rows: int


# Every count of members below the organisation's minimum crowd size (tenancy.crowd_floor) is
# null, and the row's `suppressed` is true (as audiences' counts are).
Members = Annotated[int | None, Field(description="null when below the minimum crowd size")]


class StageCounts(BaseModel):
    brand_id: str
    A: Members
    I: Members  # noqa: E741 (the stage's name)
    P: Members
    L: Members
    suppressed: bool = Field(
        description="true when a count is below the minimum crowd size: it is null"
    )


class StagesRead(BaseModel):
    date: dt.date
    min_crowd_size: int
    brands: list[StageCounts]


class StageFlowRead(BaseModel):
    stage: StageName
    start: Members
    stayed: Members
    moved: dict[str, int | None]
    churned: Members
    suppressed: bool = Field(
        description="true when the start or a part is below the minimum crowd size: the parts "
        "add up to the start, so when one is hidden every one is"
    )


class BrandFlowRead(BaseModel):
    brand_id: str
    stages: list[StageFlowRead]
    new: dict[str, int | None]


class FlowsRead(BaseModel):
    from_date: dt.date
    to_date: dt.date
    min_crowd_size: int
    brands: list[BrandFlowRead]


class MemberListCreate(Strict):
    """Save one cell of a flow as a static member list; a null stage means outside AIPL."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    brand_id: Annotated[str, Field(min_length=1, max_length=64)]
    from_date: Day
    to_date: Day
    from_stage: StageName | None = None
    to_stage: StageName | None = None


class MemberListRead(BaseModel):
    id: str
    name: str
    definition: dict[str, str | None]
    size: int
    created_at: dt.datetime
    members: list[str] | None = None


class FastWeek(BaseModel):
    brand_id: str
    week_end: dt.date
    fertility: int | None
    advancing: float | None
    advanced_members: int | None
    superiority: Members
    thriving: float | None = Field(description="null when its members are below the floor")
    thriving_members: Members
    suppressed: bool = Field(
        description="true when a count is below the minimum crowd size: it is null"
    )


class TrendDay(BaseModel):
    date: dt.date
    brand_id: str
    A: Members
    I: Members  # noqa: E741
    P: Members
    L: Members
    suppressed: bool = Field(
        description="true when a count is below the minimum crowd size: it is null"
    )


class BreakdownRow(BaseModel):
    brand_id: str
    stage: StageName
    value: str | None
    members: Members
    suppressed: bool = Field(
        description="true when a count is below the minimum crowd size: it is null"
    )


class BackfillCreate(Strict):
    """Materialise the missing snapshots of the days `from_date` … `to_date` in the server."""

    from_date: Day
    to_date: Day
    recompute: bool = Field(
        default=False, description="Materialise every day again, not only the missing ones"
    )


class BackfillRead(BaseModel):
    id: str
    from_date: dt.date
    to_date: dt.date
    total: int = Field(description="Days to materialise (those missing when it started)")
    done: int
    status: Literal["running", "done", "failed"]
    error: str | None
    runs: list[SnapshotRunRead]
    started_at: dt.datetime
    finished_at: dt.datetime | None
