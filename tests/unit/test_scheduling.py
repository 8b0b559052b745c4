"""Cron validation, time zones, next runs, descriptions and the frequency rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.schedule_words import describe_cron_words, every_interval_words, ru_plural
from core.scheduling import (
    DEFAULT_CRON,
    PRESETS,
    CronProblem,
    InvalidCron,
    InvalidTimezone,
    SlowPart,
    describe,
    frequency_limits,
    min_interval,
    next_runs,
    parse_cron,
    validate_cron,
    validate_timezone,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # a Sunday
BASE, TEST, PERSONAL, SERVICE = 1, 2, 3, 4


@pytest.mark.parametrize(
    ("expr", "count"),
    [("", 0), ("* * * *", 4), ("0 9 * * * *", 6), ("0 9", 2)],
)
def test_wrong_field_count_is_refused_with_the_count(expr: str, count: int) -> None:
    with pytest.raises(InvalidCron) as refused:
        validate_cron(expr)
    assert refused.value.reason is CronProblem.FIELD_COUNT
    assert refused.value.field_count == count


@pytest.mark.parametrize(
    ("expr", "field", "value"),
    [
        ("61 * * * *", "minute", "61"),
        ("0 24 * * *", "hour", "24"),
        ("0 0 0 * *", "day", "0"),
        ("0 0 * 13 *", "month", "13"),
        ("0 0 * * 8", "weekday", "8"),
        ("0 0 * foo *", "month", "foo"),
        ("5-1 * * * *", "minute", "5-1"),
        ("*/0 * * * *", "minute", "*/0"),
        ("0 0 * * mon#2", "weekday", "mon#2"),
        ("0 0 L * *", "day", "l"),
        ("0 9,,18 * * *", "hour", ""),
    ],
)
def test_bad_value_is_refused_naming_the_field(expr: str, field: str, value: str) -> None:
    with pytest.raises(InvalidCron) as refused:
        validate_cron(expr)
    assert refused.value.reason is CronProblem.BAD_VALUE
    assert refused.value.field == field
    assert refused.value.value == value
    assert field in str(refused.value)


@pytest.mark.parametrize("expr", ["1" * 5000 + " * * * *", "0 1-" + "2" * 5000 + " * * *"])
def test_numbers_too_long_for_int_are_refused_not_crashed(expr: str) -> None:
    with pytest.raises(InvalidCron):
        validate_cron(expr)


def test_a_step_longer_than_the_field_means_its_first_value() -> None:
    assert next_runs(
        "0 */" + "9" * 5000 + " * * *", "UTC", datetime(2026, 1, 1, 5, tzinfo=UTC)
    ) == [
        datetime(2026, 1, 2, tzinfo=UTC),
        datetime(2026, 1, 3, tzinfo=UTC),
        datetime(2026, 1, 4, tzinfo=UTC),
    ]


def test_out_of_range_value_reports_the_allowed_range() -> None:
    with pytest.raises(InvalidCron) as refused:
        validate_cron("0 25 * * *")
    assert refused.value.allowed == (0, 23)


def test_schedule_that_never_fires_is_refused() -> None:
    with pytest.raises(InvalidCron) as refused:
        validate_cron("0 0 30 2 *")
    assert refused.value.reason is CronProblem.NEVER_RUNS


def test_day_of_month_and_weekday_together_are_refused() -> None:
    with pytest.raises(InvalidCron) as refused:
        validate_cron("0 9 1 * 1")
    assert refused.value.reason is CronProblem.DAY_AND_WEEKDAY


def test_valid_expression_is_normalized_and_off_means_no_schedule() -> None:
    assert validate_cron("  0   */6 * *   * ") == "0 */6 * * *"
    assert validate_cron("0 9 * * MON-FRI") == "0 9 * * mon-fri"
    assert validate_cron("off") is None
    assert validate_cron("OFF") is None


def test_presets_are_valid_and_default_is_every_six_hours() -> None:
    assert DEFAULT_CRON == "0 */6 * * *"
    assert PRESETS["hourly"] == "0 * * * *"
    assert PRESETS["every_6h"] == DEFAULT_CRON
    assert PRESETS["daily_9"] == "0 9 * * *"
    assert PRESETS["off"] is None
    for expr in PRESETS.values():
        assert expr is None or validate_cron(expr) == expr


def test_timezone_validation() -> None:
    assert validate_timezone("Asia/Novosibirsk") == "Asia/Novosibirsk"
    for bad in ("Mars/Olympus", "", "../etc/passwd", "utc+3"):
        with pytest.raises(InvalidTimezone):
            validate_timezone(bad)
    with pytest.raises(InvalidTimezone):
        parse_cron("0 9 * * *", "Nowhere/Town")


def test_daily_nine_in_novosibirsk_runs_at_two_utc() -> None:
    runs = next_runs("0 9 * * *", "Asia/Novosibirsk", NOW)
    assert [run.astimezone(UTC) for run in runs] == [
        datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
        datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
    ]
    assert all(run.tzinfo == ZoneInfo("Asia/Novosibirsk") for run in runs)
    assert all((run.hour, run.minute) == (9, 0) for run in runs)


def test_daily_nine_in_berlin_follows_summer_time() -> None:
    before_switch = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    runs = next_runs("0 9 * * *", "Europe/Berlin", before_switch)
    assert [run.astimezone(UTC).hour for run in runs] == [8, 7, 7]
    assert all(run.hour == 9 for run in runs)
    # The night the clocks go forward is an hour short.
    assert min_interval("0 9 * * *", "Europe/Berlin", before_switch) == timedelta(hours=23)


def test_next_three_runs_of_every_six_hours() -> None:
    assert next_runs(DEFAULT_CRON, "UTC", NOW) == [
        datetime(2026, 11, 29, 12, 0, tzinfo=ZoneInfo("UTC")),
        datetime(2026, 11, 29, 18, 0, tzinfo=ZoneInfo("UTC")),
        datetime(2026, 11, 30, 0, 0, tzinfo=ZoneInfo("UTC")),
    ]


def test_weekday_numbers_follow_crontab_where_zero_and_seven_are_sunday() -> None:
    monday = next_runs("0 10 * * 1", "UTC", NOW, count=1)[0]
    assert monday.isoweekday() == 1
    for sunday_expr in ("0 10 * * 0", "0 10 * * 7", "0 10 * * sun"):
        assert next_runs(sunday_expr, "UTC", NOW, count=1)[0].isoweekday() == 7
    workdays = next_runs("0 10 * * 1-5", "UTC", NOW, count=5)
    assert [run.isoweekday() for run in workdays] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("expr", "gap"),
    [
        ("*/5 * * * *", timedelta(minutes=5)),
        ("*/30 * * * *", timedelta(minutes=30)),
        ("0,10 * * * *", timedelta(minutes=10)),
        ("0 */6 * * *", timedelta(hours=6)),
        ("0 9,18 * * *", timedelta(hours=9)),
        ("0 9 * * 1-5", timedelta(days=1)),
        ("0 3 1 * *", timedelta(days=31)),
    ],
)
def test_min_interval_is_the_smallest_gap(expr: str, gap: timedelta) -> None:
    assert min_interval(expr, "Europe/Moscow", NOW) == gap


@pytest.mark.parametrize("token_type", [BASE, TEST, PERSONAL, SERVICE])
@pytest.mark.parametrize("expr", ["* * * * *", "*/2 * * * *", "0,4 * * * *"])
def test_schedule_more_often_than_five_minutes_is_refused_for_any_key(
    expr: str, token_type: int
) -> None:
    with pytest.raises(InvalidCron) as refused:
        frequency_limits(expr, "UTC", NOW, token_type)
    assert refused.value.reason is CronProblem.TOO_FREQUENT
    assert refused.value.min_interval is not None
    assert refused.value.min_interval < timedelta(minutes=5)


def test_half_hourly_schedule_on_base_key_says_orders_refresh_every_three_hours() -> None:
    assert frequency_limits("*/30 * * * *", "UTC", NOW, BASE) == [
        SlowPart("orders", timedelta(hours=3))
    ]


def test_five_minute_schedule_on_base_key_lists_orders_and_remains() -> None:
    assert frequency_limits("*/5 * * * *", "UTC", NOW, BASE) == [
        SlowPart("orders", timedelta(hours=3)),
        SlowPart("remains", timedelta(minutes=15)),
    ]


def test_base_key_schedule_slower_than_every_limit_lists_nothing() -> None:
    assert frequency_limits("0 */6 * * *", "UTC", NOW, BASE) == []
    assert frequency_limits("0 */3 * * *", "UTC", NOW, BASE) == []


@pytest.mark.parametrize("token_type", [TEST, PERSONAL, SERVICE])
def test_personal_keys_keep_up_with_a_five_minute_schedule(token_type: int) -> None:
    assert frequency_limits("*/5 * * * *", "UTC", NOW, token_type) == []


def test_unknown_key_type_is_treated_as_base() -> None:
    assert frequency_limits("*/30 * * * *", "UTC", NOW, 99) == [
        SlowPart("orders", timedelta(hours=3))
    ]


@pytest.mark.parametrize(
    ("expr", "kind", "n", "minute", "weekdays", "times"),
    [
        ("*/15 * * * *", "every_n_minutes", 15, None, (), ()),
        ("0 * * * *", "hourly", None, 0, (), ()),
        ("30 * * * *", "hourly", None, 30, (), ()),
        ("0 */6 * * *", "every_n_hours", 6, 0, (), ()),
        ("0 0-23/2 * * *", "every_n_hours", 2, 0, (), ()),
        ("0 9 * * *", "daily", None, 0, (), ((9, 0),)),
        ("0 0 * * *", "daily", None, 0, (), ((0, 0),)),
        ("15 9,18 * * *", "daily", None, 15, (), ((9, 15), (18, 15))),
        ("0 10 * * 1", "weekly", None, 0, (1,), ((10, 0),)),
        ("0 10 * * sun,1", "weekly", None, 0, (1, 7), ((10, 0),)),
        ("0 */5 * * *", "custom", None, None, (), ()),
        ("*/7 * * * *", "custom", None, None, (), ()),
        ("0 3 1 * *", "custom", None, None, (), ()),
        ("*/15 9-18 * * *", "custom", None, None, (), ()),
    ],
)
def test_describe_recognizes_common_shapes(
    expr: str,
    kind: str,
    n: int | None,
    minute: int | None,
    weekdays: tuple[int, ...],
    times: tuple[tuple[int, int], ...],
) -> None:
    description = describe(expr)
    assert (description.kind, description.n, description.minute) == (kind, n, minute)
    assert description.weekdays == weekdays
    assert description.times == times
    assert description.expr == expr


@pytest.mark.parametrize(
    ("expr", "ru", "en"),
    [
        ("0 */6 * * *", "каждые 6 часов", "every 6 hours"),
        ("0 */2 * * *", "каждые 2 часа", "every 2 hours"),
        ("0 */3 * * *", "каждые 3 часа", "every 3 hours"),
        ("0 */12 * * *", "каждые 12 часов", "every 12 hours"),
        ("0 * * * *", "каждый час", "every hour"),
        ("30 * * * *", "каждый час в :30", "every hour at :30"),
        ("*/5 * * * *", "каждые 5 минут", "every 5 minutes"),
        ("*/2 * * * *", "каждые 2 минуты", "every 2 minutes"),
        ("*/15 * * * *", "каждые 15 минут", "every 15 minutes"),
        ("* * * * *", "каждую минуту", "every minute"),
        ("0 9 * * *", "каждый день в 09:00", "every day at 09:00"),
        ("0 9,18 * * *", "каждый день в 09:00 и 18:00", "every day at 09:00 and 18:00"),
        ("0 10 * * 1", "по понедельникам в 10:00", "on Mondays at 10:00"),
        ("0 10 * * 1,3", "по понедельникам и средам в 10:00", "on Mondays and Wednesdays at 10:00"),
        ("0 8 * * 1-5", "по будням в 08:00", "on weekdays at 08:00"),
        ("0 12 * * 6,0", "по выходным в 12:00", "on weekends at 12:00"),
        ("0 3 1 * *", "по расписанию «0 3 1 * *»", "on the schedule “0 3 1 * *”"),
    ],
)
def test_schedule_in_words(expr: str, ru: str, en: str) -> None:
    assert describe_cron_words(expr, "ru") == ru
    assert describe_cron_words(expr, "en") == en


def test_schedule_off_in_words() -> None:
    assert describe_cron_words(None, "ru") == "выключено"
    assert describe_cron_words(None, "en") == "off"


@pytest.mark.parametrize(
    ("n", "form"),
    [
        (1, "час"),
        (2, "часа"),
        (4, "часа"),
        (5, "часов"),
        (11, "часов"),
        (12, "часов"),
        (14, "часов"),
        (21, "час"),
        (22, "часа"),
        (25, "часов"),
        (101, "час"),
        (111, "часов"),
    ],
)
def test_russian_plural_forms(n: int, form: str) -> None:
    assert ru_plural(n, "час", "часа", "часов") == form


@pytest.mark.parametrize(
    ("interval", "ru", "en"),
    [
        (timedelta(hours=3), "каждые 3 часа", "every 3 hours"),
        (timedelta(hours=1), "каждый час", "every hour"),
        (timedelta(hours=5), "каждые 5 часов", "every 5 hours"),
        (timedelta(minutes=15), "каждые 15 минут", "every 15 minutes"),
        (timedelta(minutes=2), "каждые 2 минуты", "every 2 minutes"),
        (timedelta(minutes=1), "каждую минуту", "every minute"),
        (timedelta(minutes=21), "каждую 21 минуту", "every 21 minutes"),
        (timedelta(minutes=90), "каждые 90 минут", "every 90 minutes"),
    ],
)
def test_refresh_interval_in_words(interval: timedelta, ru: str, en: str) -> None:
    assert every_interval_words(interval, "ru") == ru
    assert every_interval_words(interval, "en") == en
