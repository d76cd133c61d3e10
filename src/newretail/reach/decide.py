"""The decision on a trigger event, as pure rules: which rules an event matches, the reasons
in their order, opening hours, quiet hours and the local calendar of the caps.

Every trigger event that matches a rule gets exactly one reason, the first check it fails in
`ORDER` (docs/reach.md):

    not_in_audience → no_consent → store_closed → quiet_hours → reentry_window →
    frequency_cap → out_of_stock → budget_spent → holdout → treated

The holdout is decided after every eligibility check: treated and held-out members then face
the same filters, so the two groups differ only by the hash and the lift measured between
them is the offer's. A held-out member is recorded as "would have been reached" at that
moment (intent to treat) and never contacted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from newretail.core.localtime import to_local

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_A_DAY = 24 * 60


class Reason(StrEnum):
    """Why a trigger event that matched a rule was or was not acted on, in check order."""

    NOT_IN_AUDIENCE = "not_in_audience"
    NO_CONSENT = "no_consent"
    STORE_CLOSED = "store_closed"
    QUIET_HOURS = "quiet_hours"
    REENTRY_WINDOW = "reentry_window"
    FREQUENCY_CAP = "frequency_cap"
    OUT_OF_STOCK = "out_of_stock"
    BUDGET_SPENT = "budget_spent"
    HOLDOUT = "holdout"  # would have been reached: recorded, never contacted
    TREATED = "treated"


ORDER: tuple[Reason, ...] = tuple(Reason)
# the decisions that count as a contact for the caps and the re-entry window: the holdout
# counts as the treated do, so both groups meet the caps alike
CONTACTS = frozenset({Reason.HOLDOUT, Reason.TREATED})


class Channel(StrEnum):
    SMS = "sms"
    PUSH = "push"
    STORE_SCREEN = "store_screen"
    INBOX = "inbox"


# channels that reach the member's phone: quiet hours hold them back; a store screen (seen by
# the counter's staff while the member stands there) and the inbox (read when opened) do not
INTRUSIVE = frozenset({Channel.SMS, Channel.PUSH})


def first_refusal(checks: Iterable[tuple[Reason, Callable[[], bool]]]) -> Reason | None:
    """The reason of the first check that does not pass (each check runs only if every one
    before it passed); None when all pass."""
    for reason, passes in checks:
        if not passes():
            return reason
    return None


def minute_of(hhmm: str) -> int:
    """Minutes after local midnight of "HH:MM" ("24:00" is the day's end)."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def local_minute(moment: datetime, zone_name: str) -> tuple[date, int]:
    """The local day and the minute of that day of an instant."""
    local = to_local(moment, zone_name)
    return local.date(), local.hour * 60 + local.minute


@dataclass(frozen=True)
class StoreHours:
    """A store's opening hours as stored (`{"mon": [["09:00", "21:00"]]}`) in its zone.

    A span opens at its first minute and is closed from its closing minute; a day absent
    from recorded hours is closed; a store with no hours recorded is not checked."""

    time_zone: str
    opening_hours: Mapping[str, list[list[str]]]

    def open_at(self, moment: datetime) -> bool:
        if not self.opening_hours:
            return True
        day, minute = local_minute(moment, self.time_zone)
        spans = self.opening_hours.get(WEEKDAYS[day.weekday()], [])
        return any(minute_of(opens) <= minute < minute_of(closes) for opens, closes in spans)


@dataclass(frozen=True)
class QuietHours:
    """Local minutes [start, end) when intrusive channels stay silent; wraps midnight when
    start > end (22:00–08:00); none when start == end."""

    start: int
    end: int

    def contains(self, minute: int) -> bool:
        if self.start < self.end:
            return self.start <= minute < self.end
        if self.start > self.end:
            return minute >= self.start or minute < self.end
        return False


def day_period(day: date) -> str:
    return day.isoformat()


def week_period(day: date) -> str:
    """The ISO week (Monday to Sunday) of a local day: `2026-W46`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class TriggerEvent:
    """An accepted event whose member OneID resolved, as the decision needs it."""

    organization_id: uuid.UUID
    event_id: str
    event_type: str
    member_id: uuid.UUID
    store_id: uuid.UUID | None
    occurred_at: datetime
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class PropertyFilter:
    """`equals` one value or `in` a list of values, compared as JSON values."""

    name: str
    values: tuple[Any, ...]

    def matches(self, properties: Mapping[str, Any]) -> bool:
        return self.name in properties and properties[self.name] in self.values


@dataclass(frozen=True)
class CompiledRule:
    """A rule with what it needs from its campaign, stage and stores, ready to match."""

    rule_id: uuid.UUID
    name: str
    campaign_id: uuid.UUID
    campaign_name: str
    stage_position: int
    stage_key: str
    starts_at: datetime  # the stage's first local midnight (UTC)
    ends_at: datetime  # the local midnight after its last day (UTC)
    audience_ids: tuple[str, ...]
    holdout_percent: int
    event_types: frozenset[str]  # empty: any type
    filters: tuple[PropertyFilter, ...]
    store_ids: frozenset[uuid.UUID] | None  # None: any store, or none
    channel: Channel
    offer_id: uuid.UUID
    sku_ids: tuple[uuid.UUID, ...]
    reentry_minutes: int
    daily_cap: int | None
    weekly_cap: int | None

    def matches(self, event: TriggerEvent) -> bool:
        """The event's type, properties, store and moment are the rule's."""
        if self.event_types and event.event_type not in self.event_types:
            return False
        if not self.starts_at <= event.occurred_at < self.ends_at:
            return False
        if self.store_ids is not None and event.store_id not in self.store_ids:
            return False
        return all(f.matches(event.properties) for f in self.filters)
