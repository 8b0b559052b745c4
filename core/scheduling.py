"""Sync schedules: cron validation, next runs, plain-data descriptions and the frequency rule.

Pure functions, no I/O. A schedule is a standard 5-field crontab expression
(minute hour day-of-month month day-of-week) evaluated in the seller's time zone.

Cron dialect. Each field is a comma list of `*`, `N`, `A-B`, each optionally `/STEP`; months
may be `jan`..`dec`, weekdays `sun`..`sat` or 0-7 where 0 and 7 are Sunday (crontab's
numbering; APScheduler 3 alone would read 0 as Monday, so weekdays are translated to names
before they reach it). Restricting both the day of month and the weekday is refused: crontab
ORs the two, APScheduler ANDs them, and a seller should never meet the difference. A schedule
that can never fire (e.g. `0 0 30 2 *`) is refused too.

Frequency rule (how often a seller's schedule may run):
- A schedule that runs more often than every 5 minutes (its smallest gap between two runs
  over the next two weeks is under 5 minutes) is refused, whatever the key.
- Any other schedule is accepted. Each part of the data whose WB rate limit is slower than the
  schedule is listed with the interval it can really refresh at, and the seller is told, e.g.
  "orders will refresh every 3 h"; the other parts refresh on every run.
- Base key: orders every 3 h (1 request per 3 h); stock per WB warehouse (the remains report)
  every 15 min, because creating, polling and downloading the report are each limited to 4
  requests per hour (one per 15 min), so at best one report completes per 15 min.
- Personal, Service and Test keys: orders and the remains report every minute, so with the
  5-minute floor nothing is ever listed. An unknown key type is treated as Base.
- FBS stock and product cards allow hundreds of requests per minute and are never listed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from apscheduler.triggers.cron import CronTrigger

from core.wb.limits import Method, limit_for
from core.wb.token import TokenType

DEFAULT_CRON = "0 */6 * * *"
OFF = "off"

PRESETS: Mapping[str, str | None] = MappingProxyType(
    {
        "hourly": "0 * * * *",
        "every_6h": DEFAULT_CRON,
        "daily_9": "0 9 * * *",
        OFF: None,
    }
)

MIN_INTERVAL = timedelta(minutes=5)
# How far ahead min_interval looks, and the most runs it inspects on the way.
_INTERVAL_SPAN = timedelta(days=14)
_INTERVAL_MAX_RUNS = 1000

FIELD_NAMES = ("minute", "hour", "day", "month", "weekday")
_BOUNDS = {"minute": (0, 59), "hour": (0, 23), "day": (1, 31), "month": (1, 12), "weekday": (0, 7)}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Crontab numbering: 0 (and 7) is Sunday.
_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_ELEMENT = re.compile(r"^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/(\d+))?$")


class CronProblem(StrEnum):
    """Why a schedule was refused; texts pick the seller's message by this."""

    FIELD_COUNT = "field_count"
    BAD_VALUE = "bad_value"
    DAY_AND_WEEKDAY = "day_and_weekday"
    NEVER_RUNS = "never_runs"
    TOO_FREQUENT = "too_frequent"


class InvalidCron(ValueError):
    """A schedule the bot refuses; `reason` says why, the other fields say where."""

    def __init__(
        self,
        reason: CronProblem,
        message: str,
        *,
        field: str | None = None,
        value: str | None = None,
        allowed: tuple[int, int] | None = None,
        field_count: int | None = None,
        min_interval: timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field
        self.value = value
        self.allowed = allowed
        self.field_count = field_count
        self.min_interval = min_interval


class InvalidTimezone(ValueError):
    """Not an IANA time zone name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown time zone {name!r}")
        self.name = name


@dataclass(frozen=True)
class _ParsedCron:
    expr: str  # normalized: lower case, single spaces
    fields: tuple[frozenset[int], ...]  # minute, hour, day, month, weekday (0 = Sunday)

    @property
    def minutes(self) -> frozenset[int]:
        return self.fields[0]

    @property
    def hours(self) -> frozenset[int]:
        return self.fields[1]

    @property
    def days(self) -> frozenset[int]:
        return self.fields[2]

    @property
    def months(self) -> frozenset[int]:
        return self.fields[3]

    @property
    def weekdays(self) -> frozenset[int]:
        return self.fields[4]

    def is_full(self, index: int) -> bool:
        low, high = _BOUNDS[FIELD_NAMES[index]]
        if FIELD_NAMES[index] == "weekday":
            high = 6
        return self.fields[index] == frozenset(range(low, high + 1))

    def apscheduler_expr(self) -> str:
        """The same schedule written out from the expanded sets, so both readings agree."""
        rendered = [
            "*" if self.is_full(index) else _render_runs(sorted(values))
            for index, values in enumerate(self.fields[:4])
        ]
        rendered.append(_weekdays_for_apscheduler(self.weekdays))
        return " ".join(rendered)


def _render_runs(values: list[int]) -> str:
    runs: list[list[int]] = []
    for value in values:
        if runs and runs[-1][-1] == value - 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def _bad_value(field: str, value: str, why: str) -> InvalidCron:
    return InvalidCron(
        CronProblem.BAD_VALUE,
        f"{field}: {value!r} {why}",
        field=field,
        value=value,
        allowed=_BOUNDS[field],
    )


def _field_value(field: str, token: str) -> int:
    if token.isascii() and token.isdigit():
        # Huge numbers are simply out of range (int() refuses strings of over 4,300 digits).
        return int(token) if len(token) <= 6 else _BOUNDS[field][1] + 1
    names = {"month": _MONTH_NAMES, "weekday": _WEEKDAY_NAMES}.get(field)
    if names and token in names:
        return names.index(token) + (1 if field == "month" else 0)
    raise _bad_value(field, token, "is not a number" + (" or a name" if names else ""))


def _expand_field(field: str, text: str) -> frozenset[int]:
    low, high = _BOUNDS[field]
    values: set[int] = set()
    for element in text.split(","):
        match = _ELEMENT.match(element)
        if match is None:
            raise _bad_value(field, element, "is not *, N, A-B or one of them with /STEP")
        star, first, last, step_text = match.groups()
        if star:
            start, stop = low, high
        else:
            start = _field_value(field, first)
            stop = _field_value(field, last) if last else start
            if step_text and not last:
                stop = high  # crontab's "N/STEP" means "from N to the end, every STEP"
        for bound in (start, stop):
            if not low <= bound <= high:
                raise _bad_value(field, element, f"is outside {low}-{high}")
        if start > stop:
            raise _bad_value(field, element, "has a range that runs backwards")
        # A step longer than the field is one value; int() refuses over 4,300 digits.
        step = (int(step_text) if len(step_text) <= 6 else high + 1) if step_text else 1
        if step < 1:
            raise _bad_value(field, element, "has a step of 0")
        values.update(range(start, stop + 1, step))
    if field == "weekday" and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


def _weekdays_for_apscheduler(weekdays: frozenset[int]) -> str:
    if weekdays == frozenset(range(7)):
        return "*"
    # Monday-first runs of consecutive days, written with names so no numbering can be misread.
    order = [1, 2, 3, 4, 5, 6, 0]
    runs: list[list[int]] = []
    for day in order:
        if day in weekdays:
            if runs and order.index(runs[-1][-1]) == order.index(day) - 1:
                runs[-1].append(day)
            else:
                runs.append([day])
    parts = []
    for run in runs:
        first, last = _WEEKDAY_NAMES[run[0]], _WEEKDAY_NAMES[run[-1]]
        parts.append(first if len(run) == 1 else f"{first}-{last}")
    return ",".join(parts)


def _parse(expr: str) -> _ParsedCron:
    parts = expr.strip().lower().split()
    if len(parts) != 5:
        raise InvalidCron(
            CronProblem.FIELD_COUNT,
            f"expected 5 fields (minute hour day month weekday), got {len(parts)}",
            field_count=len(parts),
        )
    fields = tuple(_expand_field(name, text) for name, text in zip(FIELD_NAMES, parts, strict=True))
    parsed = _ParsedCron(expr=" ".join(parts), fields=fields)
    if not parsed.is_full(2) and not parsed.is_full(4):
        raise InvalidCron(
            CronProblem.DAY_AND_WEEKDAY,
            "restrict either the day of month or the weekday, not both",
        )
    return parsed


def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(validate_timezone(tz))


def validate_timezone(name: str) -> str:
    """The IANA zone name as given (e.g. "Europe/Moscow"), or InvalidTimezone."""
    name = name.strip()
    if name not in _known_zones():
        raise InvalidTimezone(name)
    return name


_ZONES: frozenset[str] | None = None


def _known_zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def validate_cron(expr: str) -> str | None:
    """The normalized expression, None for "off", or InvalidCron with a reason.

    Checks the syntax and that the schedule fires at all; the frequency rule needs the key
    type and lives in `frequency_limits`.
    """
    if expr.strip().lower() == OFF:
        return None
    parsed = _parse(expr)
    trigger = CronTrigger.from_crontab(parsed.apscheduler_expr(), timezone=UTC)
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        raise InvalidCron(CronProblem.NEVER_RUNS, f"{parsed.expr!r} never runs")
    return parsed.expr


def parse_cron(expr: str, tz: str) -> CronTrigger:
    """The APScheduler trigger for a crontab expression in the IANA zone `tz`."""
    parsed = _parse(expr)
    return CronTrigger.from_crontab(parsed.apscheduler_expr(), timezone=_zone(tz))


def next_runs(expr: str, tz: str, now: datetime, count: int = 3) -> list[datetime]:
    """The next `count` runs at or after `now`, as aware datetimes in `tz`."""
    trigger = parse_cron(expr, tz)
    runs: list[datetime] = []
    previous: datetime | None = None
    while len(runs) < count:
        run = trigger.get_next_fire_time(previous, previous or now)
        if run is None:
            break
        runs.append(run)
        previous = run
    return runs


def min_interval(expr: str, tz: str, now: datetime) -> timedelta:
    """The smallest real (UTC) gap between consecutive runs over the next two weeks.

    Looks at no more than 1000 runs and always at least two, so a monthly schedule's gap
    is a month. Gaps are measured in UTC, so a DST change counts as the real time it adds.
    """
    trigger = parse_cron(expr, tz)
    end = now + _INTERVAL_SPAN
    smallest: timedelta | None = None
    previous = trigger.get_next_fire_time(None, now)
    runs = 1
    while previous is not None and runs < _INTERVAL_MAX_RUNS:
        run = trigger.get_next_fire_time(previous, previous)
        if run is None:
            break
        gap = run.astimezone(UTC) - previous.astimezone(UTC)
        smallest = gap if smallest is None else min(smallest, gap)
        runs += 1
        if run > end:
            break
        previous = run
    if smallest is None:
        raise InvalidCron(CronProblem.NEVER_RUNS, f"{expr!r} runs fewer than twice")
    return smallest


DataPart = Literal["orders", "remains"]


@dataclass(frozen=True)
class SlowPart:
    """A part of the sync whose WB limit is slower than the schedule, and its real interval."""

    part: DataPart
    interval: timedelta


def refresh_intervals(token_type: int) -> dict[DataPart, timedelta]:
    """How often each rate-limited part can be refreshed with a key of this type."""
    try:
        kind = TokenType(token_type)
    except ValueError:
        kind = TokenType.BASE
    remains_methods = (Method.REMAINS_CREATE, Method.REMAINS_STATUS, Method.REMAINS_DOWNLOAD)
    remains = max(limit_for(method, kind).period_seconds for method in remains_methods)
    return {
        "orders": timedelta(seconds=limit_for(Method.ORDERS, kind).period_seconds),
        "remains": timedelta(seconds=remains),
    }


def frequency_limits(expr: str, tz: str, now: datetime, token_type: int) -> list[SlowPart]:
    """Apply the frequency rule (module docstring): refuse, or list the parts that lag."""
    interval = min_interval(expr, tz, now)
    if interval < MIN_INTERVAL:
        raise InvalidCron(
            CronProblem.TOO_FREQUENT,
            f"runs every {interval}, the floor is {MIN_INTERVAL}",
            min_interval=interval,
        )
    return [
        SlowPart(part, part_interval)
        for part, part_interval in refresh_intervals(token_type).items()
        if part_interval > interval
    ]


CronKind = Literal["every_n_minutes", "hourly", "every_n_hours", "daily", "weekly", "custom"]
# Times of day a daily or weekly description will list before it gives up and says "custom".
_MAX_TIMES = 4


@dataclass(frozen=True)
class CronDescription:
    """A schedule as plain data, for texts to render in any language.

    `weekdays` are ISO numbers (1 Monday .. 7 Sunday); `times` are (hour, minute) pairs in
    order; `hour`/`minute` repeat the first time; `n` is the step of every_n_* kinds.
    """

    kind: CronKind
    expr: str
    n: int | None = None
    hour: int | None = None
    minute: int | None = None
    weekdays: tuple[int, ...] = ()
    times: tuple[tuple[int, int], ...] = ()


def _step_of(values: frozenset[int], size: int) -> int | None:
    """n when `values` is exactly 0, n, 2n, ... and n divides `size` evenly."""
    for n in range(1, size):
        if size % n == 0 and values == frozenset(range(0, size, n)):
            return n
    return None


def describe(expr: str) -> CronDescription:
    """Recognize the common shapes of a schedule; anything else is "custom"."""
    parsed = _parse(expr)
    custom = CronDescription(kind="custom", expr=parsed.expr)
    if not (parsed.is_full(2) and parsed.is_full(3)):
        return custom
    every_weekday = parsed.is_full(4)
    if every_weekday and parsed.is_full(1):
        step = _step_of(parsed.minutes, 60)
        if step is not None:
            return CronDescription(kind="every_n_minutes", expr=parsed.expr, n=step)
    if len(parsed.minutes) != 1:
        return custom
    (minute,) = parsed.minutes
    if every_weekday:
        if parsed.is_full(1):
            return CronDescription(kind="hourly", expr=parsed.expr, minute=minute)
        step = _step_of(parsed.hours, 24)
        if step is not None and step > 1:
            return CronDescription(kind="every_n_hours", expr=parsed.expr, n=step, minute=minute)
    if len(parsed.hours) > _MAX_TIMES:
        return custom
    times = tuple((hour, minute) for hour in sorted(parsed.hours))
    first_hour = times[0][0]
    if every_weekday:
        return CronDescription(
            kind="daily", expr=parsed.expr, hour=first_hour, minute=minute, times=times
        )
    weekdays = tuple(sorted(7 if day == 0 else day for day in parsed.weekdays))
    return CronDescription(
        kind="weekly",
        expr=parsed.expr,
        hour=first_hour,
        minute=minute,
        weekdays=weekdays,
        times=times,
    )
