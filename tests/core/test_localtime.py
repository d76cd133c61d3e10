"""Local days at the organisation's midnight (Asia/Shanghai: UTC 16:00)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from newretail.core import localtime

SHANGHAI = "Asia/Shanghai"


def test_half_past_midnight_on_double_11_is_11_november_in_shanghai() -> None:
    moment = datetime.fromisoformat("2026-11-11T00:30+08:00")
    assert moment.astimezone(UTC).date() == date(2026, 11, 10)
    assert localtime.local_day(moment, SHANGHAI) == date(2026, 11, 11)


def test_day_bounds_are_utc_16_00() -> None:
    start, end = localtime.local_day_bounds(date(2026, 11, 11), SHANGHAI)
    assert start == datetime(2026, 11, 10, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 11, 16, 0, tzinfo=UTC)
    assert localtime.local_day(start, SHANGHAI) == date(2026, 11, 11)
    assert localtime.local_day(datetime(2026, 11, 10, 15, 59, 59, tzinfo=UTC), SHANGHAI) == date(
        2026, 11, 10
    )


def test_day_bounds_across_a_daylight_saving_change_are_23_hours() -> None:
    start, end = localtime.local_day_bounds(date(2026, 3, 8), "America/New_York")
    assert (end - start).total_seconds() == 23 * 3600


def test_labels_and_formats() -> None:
    moment = datetime(2026, 11, 10, 16, 30, tzinfo=UTC)
    assert localtime.format_local_time(moment, SHANGHAI) == "2026-11-11 00:30"
    assert localtime.format_local_time(moment, SHANGHAI, seconds=True) == "2026-11-11 00:30:00"
    assert localtime.format_local_time(None, SHANGHAI) == ""
    assert localtime.format_local_date(moment, SHANGHAI) == "2026-11-11"
    assert localtime.offset_label(SHANGHAI, moment) == "UTC+08:00"
    assert localtime.offset_label("America/New_York", moment) == "UTC-05:00"
    assert localtime.zone_label(SHANGHAI) == "Asia/Shanghai (UTC+08:00)"
    assert localtime.to_local(datetime(2026, 11, 10, 16, 30), SHANGHAI).hour == 0


def test_a_window_of_whole_local_days_reads_as_its_first_and_last_day() -> None:
    # 12 Nov to 11 Dec in Shanghai: the end is the exclusive instant, midnight of 12 Dec
    start, end = datetime(2026, 11, 11, 16, tzinfo=UTC), datetime(2026, 12, 11, 16, tzinfo=UTC)
    assert localtime.format_local_span(start, end, SHANGHAI) == "2026-11-12 – 2026-12-11"
    one_day = localtime.local_day_bounds(date(2026, 11, 11), SHANGHAI)
    assert localtime.format_local_span(*one_day, SHANGHAI) == "2026-11-11"
    # the same instants are not whole days in New York: local times with the zone's offset
    assert localtime.format_local_span(start, end, "America/New_York") == (
        "2026-11-11 11:00 – 2026-12-11 11:00 UTC-05:00"
    )
    later = datetime(2026, 11, 12, 2, tzinfo=UTC)  # 10:00 in Shanghai
    assert localtime.format_local_span(later, end, SHANGHAI) == (
        "2026-11-12 10:00 – 2026-12-12 00:00 UTC+08:00"
    )
    # across a daylight saving change: still whole local days
    march = localtime.local_days_bounds(date(2026, 3, 7), date(2026, 3, 9), "America/New_York")
    assert localtime.format_local_span(*march, "America/New_York") == "2026-03-07 – 2026-03-09"
