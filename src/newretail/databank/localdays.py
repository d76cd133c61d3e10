"""The organisation's local days in warehouse expressions, the same on every engine.

Events are stored with UTC instants. A Data Bank day is a calendar day of the organisation's
time zone: in Asia/Shanghai, 11 November runs from 2026-11-10T16:00Z to 2026-11-11T16:00Z,
so a purchase at 00:30 on 11 November local time counts on 11 November. An event's local day
is its instant shifted by the zone's UTC offset at that instant, then cut to a date; the
offsets of the period queried (and the instants where daylight saving time changes them) are
worked out here from the zone's rules, so the expression needs no time-zone support from
the engine (DuckDB, PostgreSQL and PySpark run it alike, in UTC sessions).

On DuckDB the shift is epoch arithmetic (`epoch_us`, then `make_timestamp` and a cast of that
naive timestamp to a date): a `TIMESTAMPTZ` cast to a date goes through ICU for every row, about
ten times slower, and is most of the cost of a month's query. The days are the same.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from newretail.core.localtime import local_day_bounds, zone


def day_start(day: date, time_zone: str) -> datetime:
    """The first instant (UTC) of the zone's calendar day."""
    return local_day_bounds(day, time_zone)[0]


def _offset(time_zone: str, instant: datetime) -> int:
    offset = instant.astimezone(zone(time_zone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@cache
def offset_spans(
    time_zone: str, first: date, last: date
) -> tuple[tuple[datetime | None, int], ...]:
    """The zone's UTC offsets (seconds) over the local days first … last, one per span.

    Each entry is (end of the span as a UTC instant, offset); the last span's end is None.
    """
    start = day_start(first - timedelta(days=1), time_zone)
    end = day_start(last + timedelta(days=2), time_zone)
    spans: list[tuple[datetime | None, int]] = []
    current = _offset(time_zone, start)
    probe = start
    while probe < end:
        following = min(probe + timedelta(days=1), end)
        if _offset(time_zone, following) != current:
            low, high = probe, following  # the change happens in (low, high]
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(time_zone, middle) == current:
                    low = middle
                else:
                    high = middle
            changed = high.replace(microsecond=0)
            spans.append((changed.astimezone(UTC), current))
            current = _offset(time_zone, changed)
        probe = following
    spans.append((None, current))
    return tuple(spans)


MICROSECONDS = 1_000_000


@ibis.udf.scalar.builtin(name="epoch_us")  # type: ignore[untyped-decorator]
def _epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[valid-type]
    """DuckDB: microseconds since the epoch of an instant (no time-zone conversion)."""


@ibis.udf.scalar.builtin(name="make_timestamp")  # type: ignore[untyped-decorator]
def _naive_timestamp(microseconds: dt.int64) -> dt.Timestamp():  # type: ignore[valid-type]
    """DuckDB: the naive timestamp `microseconds` after the epoch."""


def utc_offset_us(
    ts: ir.TimestampValue, time_zone: str, first: date, last: date
) -> ir.IntegerValue:
    """The zone's UTC offset in microseconds at `ts`, for events within the local days
    first … last."""
    spans = offset_spans(time_zone, first, last)
    if len(spans) == 1:
        return ibis.literal(spans[0][1] * MICROSECONDS, type=dt.int64)
    return ibis.cases(
        *((ts < until, ibis.literal(s * MICROSECONDS, type=dt.int64)) for until, s in spans[:-1]),
        else_=ibis.literal(spans[-1][1] * MICROSECONDS, type=dt.int64),
    )


def shifted_date(ts: ir.TimestampValue, offset_us: ir.IntegerValue) -> ir.DateValue:
    """DuckDB only: the calendar day of `ts` shifted by `offset_us` microseconds (epoch
    arithmetic)."""
    return _naive_timestamp(_epoch_us(ts) + offset_us).date()


def local_date(
    ts: ir.TimestampValue, time_zone: str, first: date, last: date, engine: str | None = None
) -> ir.DateValue:
    """The zone's calendar day of `ts`, for events within the local days first … last;
    `engine`: the backend's name (`con.name`), "duckdb" for its epoch arithmetic."""
    if engine == "duckdb":
        return shifted_date(ts, utc_offset_us(ts, time_zone, first, last))

    def shifted(seconds: int) -> ir.DateValue:
        return (ts + ibis.interval(seconds=seconds)).date() if seconds else ts.date()

    spans = offset_spans(time_zone, first, last)
    if len(spans) == 1:
        return shifted(spans[0][1])
    return ibis.cases(
        *((ts < until, shifted(seconds)) for until, seconds in spans[:-1]),
        else_=shifted(spans[-1][1]),
    )
