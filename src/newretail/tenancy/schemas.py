"""Pydantic shapes of the tenancy API. Unknown fields are refused everywhere."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from newretail.core.localtime import DEFAULT_ZONE
from newretail.core.security import MIN_PASSWORD_LENGTH
from newretail.tenancy.models import ChannelType, Role, StoreStatus

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]


def _without_null(schema: dict[str, Any]) -> None:
    branches = schema.get("anyOf")
    if isinstance(branches, list):
        kept = [branch for branch in branches if branch != {"type": "null"}]
        if len(kept) == 1:
            del schema["anyOf"]
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept


# A PATCH field that may be left out but not cleared: the OpenAPI document shows no null for
# it, and an explicit null is refused with a 422 naming the field (the services check it).
NotNull = Field(json_schema_extra=_without_null)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _check_opening_hours(
    value: dict[Weekday, list[tuple[str, str]]] | None,
) -> dict[Weekday, list[tuple[str, str]]] | None:
    if value is None:
        return None
    for day, spans in value.items():
        for index, (opens, closes) in enumerate(spans):
            for time in (opens, closes):
                if not _HHMM.match(time):
                    raise PydanticCustomError(
                        "opening_hours_time",
                        "{day}[{index}]: {time} is not HH:MM",
                        {"day": str(day), "index": index, "time": repr(time)},
                    )
            if opens >= closes:
                raise PydanticCustomError(
                    "opening_hours_order",
                    "{day}[{index}]: opens at {opens} but closes at {closes}",
                    {"day": str(day), "index": index, "opens": opens, "closes": closes},
                )
    return value


def _check_time_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise PydanticCustomError(
            "time_zone_unknown", "unknown time zone {zone}", {"zone": repr(value)}
        ) from exc
    return value


# ---------------------------------------------------------------- brands
class BrandCreate(Strict):
    code: Code
    name: Name


class BrandUpdate(Strict):
    code: Code | None = None
    name: Name | None = None


class BrandRead(Read):
    id: uuid.UUID
    code: str
    name: str
    created_at: datetime
    updated_at: datetime | None


# ---------------------------------------------------------------- stores
class _StoreFields(Strict):
    brand_id: uuid.UUID | None = None
    city: str | None = Field(default=None, max_length=100)
    district: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    category: str | None = Field(default=None, max_length=100)

    _hours = field_validator("opening_hours", check_fields=False)(_check_opening_hours)
    _zone = field_validator("time_zone", check_fields=False)(_check_time_zone)


class StoreCreate(_StoreFields):
    code: Code
    name: Name
    channel_type: ChannelType
    status: StoreStatus = StoreStatus.ACTIVE
    opening_hours: dict[Weekday, list[tuple[str, str]]] = Field(default_factory=dict)
    time_zone: str = DEFAULT_ZONE

    @model_validator(mode="after")
    def _location_pairs(self) -> StoreCreate:
        if (self.latitude is None) != (self.longitude is None):
            raise PydanticCustomError("location_pair", "latitude and longitude go together")
        return self


class StoreUpdate(_StoreFields):
    code: Annotated[Code | None, NotNull] = None
    name: Annotated[Name | None, NotNull] = None
    channel_type: Annotated[ChannelType | None, NotNull] = None
    status: Annotated[StoreStatus | None, NotNull] = None
    opening_hours: Annotated[dict[Weekday, list[tuple[str, str]]] | None, NotNull] = None
    time_zone: Annotated[str | None, NotNull] = None


class StoreRead(Read):
    id: uuid.UUID
    code: str
    name: str
    channel_type: ChannelType
    brand_id: uuid.UUID | None
    status: StoreStatus
    city: str | None
    district: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    opening_hours: dict[str, list[tuple[str, str]]]
    time_zone: str
    category: str | None
    created_at: datetime
    updated_at: datetime | None


# ---------------------------------------------------------------- sources
class SourceCreate(Strict):
    name: Name
    store_id: uuid.UUID | None = None


class SourceUpdate(Strict):
    name: Name | None = None
    revoked: bool | None = Field(default=None, description="true revokes the write key")


class SourceRead(Read):
    id: uuid.UUID
    name: str
    store_id: uuid.UUID | None
    write_key_prefix: str
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class SourceCreated(SourceRead):
    write_key: str = Field(description="Shown once; only its hash is stored")


# ---------------------------------------------------------------- users
class UserCreate(Strict):
    email: EmailStr
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)
    display_name: str = Field(default="", max_length=200)
    role: Role
    store_ids: list[uuid.UUID] = Field(default_factory=list)
    locale: Literal["en", "zh-CN"] | None = None


class UserUpdate(Strict):
    display_name: str | None = Field(default=None, max_length=200)
    role: Annotated[Role | None, NotNull] = None
    store_ids: list[uuid.UUID] | None = None
    locale: Literal["en", "zh-CN"] | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=200)


class UserRead(BaseModel):
    id: uuid.UUID = Field(description="The user account id")
    email: str
    display_name: str
    role: Role
    store_ids: list[uuid.UUID]
    locale: str | None
    is_active: bool
    locked_until: datetime | None
    created_at: datetime


# ---------------------------------------------------------------- API keys
class ApiKeyCreate(Strict):
    name: Name
    role: Role
    store_ids: list[uuid.UUID] = Field(default_factory=list)
    expires_at: datetime | None = None


class ApiKeyUpdate(Strict):
    name: Name | None = None


class ApiKeyRead(BaseModel):
    id: uuid.UUID
    name: str
    role: Role
    store_ids: list[uuid.UUID]
    key_prefix: str
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="Shown once; only its hash is stored")


# ---------------------------------------------------------------- organisation
class OrganizationRead(Read):
    id: uuid.UUID
    name: str
    slug: str
    default_locale: str
    time_zone: str
    created_at: datetime


class OrganizationUpdate(Strict):
    """The organisation's settings: days and times are shown and counted in its time zone."""

    name: Annotated[Name | None, NotNull] = None
    time_zone: Annotated[str | None, NotNull] = None
    default_locale: Annotated[Literal["en", "zh-CN"] | None, NotNull] = None

    _time_zone = field_validator("time_zone")(_check_time_zone)
