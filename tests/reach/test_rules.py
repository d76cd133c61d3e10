"""The pure rules of the decision: the documented order of reasons, quiet hours and opening
hours at their minutes, the ISO week of a local day, and every reason and channel labelled
in English and Chinese; trigger event types by their one label (a custom type by its name)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from newretail.core.i18n import catalogue, translator, untranslated
from newretail.reach.decide import (
    ORDER,
    Channel,
    QuietHours,
    Reason,
    StoreHours,
    first_refusal,
    minute_of,
    week_period,
)
from newretail.reach.labels import event_type_label, event_types_label
from newretail.reach.trigger_schemas import TRIGGER_TYPES


def test_the_order_of_reasons_is_the_documented_one() -> None:
    assert [str(r) for r in ORDER] == [
        "not_in_audience",
        "no_consent",
        "store_closed",
        "quiet_hours",
        "reentry_window",
        "frequency_cap",
        "out_of_stock",
        "budget_spent",
        "holdout",
        "treated",
    ]


def test_first_refusal_runs_no_check_after_the_first_failing_one() -> None:
    ran: list[str] = []

    def check(name: str, passes: bool) -> tuple[Reason, object]:
        def run() -> bool:
            ran.append(name)
            return passes

        return Reason(name), run

    checks = [check("no_consent", True), check("store_closed", False), check("quiet_hours", False)]
    assert first_refusal(checks) is Reason.STORE_CLOSED  # type: ignore[arg-type]
    assert ran == ["no_consent", "store_closed"]
    assert first_refusal([]) is None


def test_quiet_hours_wrapping_midnight_and_within_a_day() -> None:
    night = QuietHours(minute_of("22:00"), minute_of("08:00"))
    assert [
        night.contains(minute_of(t)) for t in ("21:59", "22:00", "00:00", "07:59", "08:00")
    ] == [
        False,
        True,
        True,
        True,
        False,
    ]
    lunch = QuietHours(minute_of("12:00"), minute_of("13:30"))
    assert [lunch.contains(minute_of(t)) for t in ("11:59", "12:00", "13:29", "13:30")] == [
        False,
        True,
        True,
        False,
    ]
    assert not QuietHours(600, 600).contains(600)


def test_store_hours_in_the_store_zone() -> None:
    hours = StoreHours("Asia/Shanghai", {"thu": [["10:00", "14:00"], ["15:00", "24:00"]]})
    # Thursday 2027-11-11 in Shanghai; 10:00 local is 02:00 UTC
    utc = [(1, 59), (2, 0), (5, 59), (6, 0), (7, 0), (15, 59)]
    opened = [hours.open_at(datetime(2027, 11, 11, h, m, tzinfo=UTC)) for h, m in utc]
    assert opened == [False, True, True, False, True, True]
    # Friday has no hours recorded: closed all day; no hours at all: not checked
    assert not hours.open_at(datetime(2027, 11, 12, 4, 0, tzinfo=UTC))
    assert StoreHours("Asia/Shanghai", {}).open_at(datetime(2027, 11, 12, 4, 0, tzinfo=UTC))


def test_iso_weeks_run_monday_to_sunday() -> None:
    assert week_period(date(2027, 11, 14)) == "2027-W45"  # Sunday
    assert week_period(date(2027, 11, 15)) == "2027-W46"  # Monday
    assert week_period(date(2027, 1, 1)) == "2026-W53"  # a Friday in the last ISO week of 2026


def test_every_reason_and_channel_is_labelled_in_both_languages() -> None:
    keys = [f"reach.reason.{r}" for r in Reason] + [f"reach.channel.{c}" for c in Channel]
    for locale in ("en", "zh-CN"):
        labels = catalogue(locale)
        assert [k for k in keys if not labels.get(k)] == []
    assert catalogue("zh-CN")["reach.reason.holdout"] == "对照组：本应触达，未联系"


def test_trigger_event_types_read_as_the_timeline_labels_a_custom_type_as_its_name() -> None:
    english, chinese = translator("en"), translator("zh-CN")
    assert [event_type_label(english, e) for e in TRIGGER_TYPES] == [
        "Counter approach",
        "Store visit",
        "Entered district",
        "Cloud shelf browse",
    ]
    assert [event_type_label(chinese, e) for e in TRIGGER_TYPES] == [
        "靠近专柜",
        "到店",
        "进入商圈",
        "云货架浏览",
    ]
    assert event_types_label(chinese, ["mirror_try_on", "store_visit"]) == "mirror_try_on, 到店"
    assert event_types_label(chinese, []) == "任意事件"
    assert "timelines.event.mirror_try_on" not in untranslated("zh-CN")
