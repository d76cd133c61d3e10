"""Pydantic shapes of the audiences API. Unknown fields are refused in every body.

`rules` is taken as a JSON object and validated by `rules.parse_rules`, which names the path
of a fault inside the tree (`rules.all[2].window.days: must be at least 1`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from newretail.members.models import IdentifierType
from newretail.tenancy.schemas import Strict

Name = Annotated[str, Field(min_length=1, max_length=200)]
RefreshHours = Annotated[int, Field(ge=1, le=24 * 90, description="Refresh every N hours")]
RULES_DESCRIPTION = (
    "A rule tree: {'all'|'any': [rules]}, {'not': rule} or a condition with a `type` of "
    "behaviour, did_not, aipl_stage, aipl_transition, attribute, recency or audience "
    "(docs/audiences.md)."
)
RuleTree = Annotated[
    dict[str, Any],
    Field(
        description=RULES_DESCRIPTION,
        examples=[
            {
                "all": [
                    {"type": "behaviour", "events": ["add_to_cart"], "window": {"days": 30}},
                    {"type": "did_not", "events": ["purchase"], "window": {"days": 30}},
                ]
            }
        ],
    ),
]


class AudienceCreate(Strict):
    """Save a rule tree as an audience (refresh it to store its members)."""

    name: Name
    description: Annotated[str, Field(max_length=2000)] | None = None
    rules: RuleTree
    refresh_hours: RefreshHours | None = None


class AudienceUpdate(Strict):
    """Change a saved audience; omitted fields stay, `refresh_hours: null` stops the schedule."""

    name: Name | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    rules: RuleTree | None = None
    refresh_hours: RefreshHours | None = None


class EstimateRequest(Strict):
    """Count a rule tree's members now, without storing them."""

    rules: RuleTree
    as_of: dt.date | None = Field(default=None, description="Reference date (default today)")


class TemplateApply(Strict):
    """Create an audience from a template; parameters a template does not use are refused."""

    name: Name | None = None
    brand_id: uuid.UUID | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    days: Annotated[int, Field(ge=1, le=3660)] | None = None
    refresh_hours: RefreshHours | None = None


class ExportRequest(Strict):
    """Export the hashed identifiers of the consenting members of an audience."""

    format: Literal["csv", "parquet"] = "csv"
    identifier_types: Annotated[list[IdentifierType], Field(max_length=10)] | None = None
    consent_channel: Literal["sms", "push", "wechat", "email"] | None = Field(
        default=None, description="Require marketing consent on this channel (default: any)"
    )


class SettingsUpdate(Strict):
    min_crowd_size: Annotated[int, Field(ge=1, le=1_000_000)]


class SettingsRead(BaseModel):
    min_crowd_size: int


class AudienceRead(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    rules: dict[str, Any]
    template: str | None
    refresh_hours: int | None
    size: int | None = Field(description="null when below the privacy floor or never refreshed")
    size_suppressed: bool
    as_of: dt.date | None
    refreshed_at: dt.datetime | None
    next_refresh_at: dt.datetime | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime | None


class EstimateRead(BaseModel):
    size: int | None
    suppressed: bool
    min_crowd_size: int
    as_of: dt.date
    rules: dict[str, Any]


class SizeRead(BaseModel):
    version: str
    size: int | None
    joined: int | None
    left: int | None
    suppressed: bool
    as_of: dt.date
    refreshed_at: dt.datetime
    trigger: str


class MemberRead(BaseModel):
    member_id: str
    since: dt.datetime


class MembersPage(BaseModel):
    audience_id: uuid.UUID
    version: str
    size: int
    members: list[MemberRead]


class MembershipRead(BaseModel):
    audience_id: uuid.UUID
    member_id: str
    member: bool


class InsightCell(BaseModel):
    value: str | None
    members: int


class SuppressedCells(BaseModel):
    cells: int
    members: int | None


class InsightDimension(BaseModel):
    cells: list[InsightCell]
    suppressed: SuppressedCells


class InsightRead(BaseModel):
    audience_id: uuid.UUID
    as_of: dt.date | None
    size: int | None
    refreshed: bool = Field(description="false before the first refresh (no insight yet)")
    suppressed: bool = Field(description="true when the audience is below the privacy floor")
    min_crowd_size: int
    brand_id: str | None = Field(description="the brand of the AIPL stage dimension")
    dimensions: dict[str, InsightDimension]


class ExportRead(BaseModel):
    id: uuid.UUID
    audience_id: uuid.UUID | None
    audience_name: str
    actor: str
    file_format: str
    identifier_types: list[str]
    consent_channel: str | None
    members: int | None
    exported_members: int | None
    excluded_members: int | None
    exported_at: dt.datetime


class TemplateRead(BaseModel):
    key: str
    name: str
    description: str
    parameters: list[str]
    rules: dict[str, Any]
