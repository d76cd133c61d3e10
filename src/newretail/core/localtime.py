"""The organisation's (or a store's) local time: days, day boundaries and labelled display.

Every day a person reads — the Data Bank's days, audience windows, order filters, campaign
stages — is a local day of the organisation's time zone (a store's own zone where it has one).
A local day is the half-open UTC interval [start, end) returned by `local_day_bounds`; in
Asia/Shanghai, 11 November runs from 2026-11-10T16:00Z to 2026-11-11T16:00Z.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"


@cache
def zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo for an IANA name (the default zone when none is set)."""
    return ZoneInfo(name or DEFAULT_ZONE)


def to_local(moment: datetime, zone_name: str | None) -> datetime:
    """The same instant in the zone's wall-clock time (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(zone_name))


def local_day(moment: datetime, zone_name: str | None) -> date:
    """The zone's calendar day that contains the instant."""
    return to_local(moment, zone_name).date()


def local_day_bounds(day: date, zone_name: str | None) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of the zone's calendar day (DST-safe)."""
    tz = zone(zone_name)
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_days_bounds(first: date, last: date, zone_name: str | None) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) covering the local days first..last inclusive."""
    return local_day_bounds(first, zone_name)[0], local_day_bounds(last, zone_name)[1]


def today(zone_name: str | None, now: datetime | None = None) -> date:
    """Today in the zone."""
    return local_day(now or datetime.now(UTC), zone_name)


def offset_label(zone_name: str | None, moment: datetime | None = None) -> str:
    """`UTC+08:00` for the zone at the instant (now by default)."""
    local = to_local(moment or datetime.now(UTC), zone_name)
    offset = local.strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}"


def zone_label(zone_name: str | None) -> str:
    """`Asia/Shanghai (UTC+08:00)`: how a page labels the zone its times are in."""
    return f"{zone_name or DEFAULT_ZONE} ({offset_label(zone_name)})"


def format_local_time(
    moment: datetime | None, zone_name: str | None, *, seconds: bool = False
) -> str:
    """`2026-11-11 00:30` in the zone (empty for None); pages label the zone once (zone_label)."""
    if moment is None:
        return ""
    return to_local(moment, zone_name).strftime(
        "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    )


def format_local_span(start: datetime, end: datetime, zone_name: str | None) -> str:
    """A window [start, end) as a person reads it: whole local days as the first and the last
    day, inclusive (`2026-11-12 – 2026-12-11`; one day alone: `2026-11-11`); any other window
    as local times with the zone's offset (`2026-11-12 10:00 – 2026-11-12 22:00 UTC+08:00`)."""
    first, until = to_local(start, zone_name), to_local(end, zone_name)
    if until > first and first.time() == until.time() == time():
        last = until.date() - timedelta(days=1)
        if last == first.date():
            return last.isoformat()
        return f"{first.date().isoformat()} – {last.isoformat()}"
    shown = (format_local_time(start, zone_name), format_local_time(end, zone_name))
    return f"{shown[0]} – {shown[1]} {offset_label(zone_name, start)}"


def format_local_date(moment: datetime | date | None, zone_name: str | None) -> str:
    """`2026-11-11`: the zone's day of an instant, or a date as it is."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        return local_day(moment, zone_name).isoformat()
    return moment.isoformat()
