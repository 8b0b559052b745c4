"""A sync schedule and a refresh interval in the seller's words, in Russian or English."""

from __future__ import annotations

from datetime import timedelta

from core.scheduling import CronDescription, describe

_RU_WEEKDAYS = {
    1: "понедельникам",
    2: "вторникам",
    3: "средам",
    4: "четвергам",
    5: "пятницам",
    6: "субботам",
    7: "воскресеньям",
}
_EN_WEEKDAYS = {
    1: "Mondays",
    2: "Tuesdays",
    3: "Wednesdays",
    4: "Thursdays",
    5: "Fridays",
    6: "Saturdays",
    7: "Sundays",
}
_WORKDAYS = (1, 2, 3, 4, 5)
_WEEKEND = (6, 7)


def ru_plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian noun form for `n`: 1 час, 2 часа, 5 часов, 21 час, 11 часов."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def _ru_every(n: int, one: str, few: str, many: str, *, feminine: bool) -> str:
    if n == 1:
        return f"{'каждую' if feminine else 'каждый'} {one}"
    noun = ru_plural(n, one, few, many)
    if noun == one:  # 21 минуту, 31 час: the quantifier agrees with the singular noun
        return f"{'каждую' if feminine else 'каждый'} {n} {noun}"
    return f"каждые {n} {noun}"


def _en_every(n: int, unit: str) -> str:
    return f"every {unit}" if n == 1 else f"every {n} {unit}s"


def _join(items: list[str], conjunction: str) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def _clock(hour: int, minute: int) -> str:
    return f"{hour:02d}:{minute:02d}"


def _times(description: CronDescription, conjunction: str) -> str:
    return _join([_clock(hour, minute) for hour, minute in description.times], conjunction)


def _ru(description: CronDescription) -> str:
    kind, n, minute = description.kind, description.n or 1, description.minute or 0
    if kind == "every_n_minutes":
        return _ru_every(n, "минуту", "минуты", "минут", feminine=True)
    if kind == "hourly":
        return "каждый час" + (f" в :{minute:02d}" if minute else "")
    if kind == "every_n_hours":
        return _ru_every(n, "час", "часа", "часов", feminine=False) + (
            f" в :{minute:02d}" if minute else ""
        )
    if kind == "daily":
        return f"каждый день в {_times(description, 'и')}"
    if kind == "weekly":
        days = description.weekdays
        if days == _WORKDAYS:
            when = "по будням"
        elif days == _WEEKEND:
            when = "по выходным"
        else:
            when = "по " + _join([_RU_WEEKDAYS[day] for day in days], "и")
        return f"{when} в {_times(description, 'и')}"
    return f"по расписанию «{description.expr}»"


def _en(description: CronDescription) -> str:
    kind, n, minute = description.kind, description.n or 1, description.minute or 0
    if kind == "every_n_minutes":
        return _en_every(n, "minute")
    if kind == "hourly":
        return "every hour" + (f" at :{minute:02d}" if minute else "")
    if kind == "every_n_hours":
        return _en_every(n, "hour") + (f" at :{minute:02d}" if minute else "")
    if kind == "daily":
        return f"every day at {_times(description, 'and')}"
    if kind == "weekly":
        days = description.weekdays
        if days == _WORKDAYS:
            when = "on weekdays"
        elif days == _WEEKEND:
            when = "on weekends"
        else:
            when = "on " + _join([_EN_WEEKDAYS[day] for day in days], "and")
        return f"{when} at {_times(description, 'and')}"
    return f"on the schedule “{description.expr}”"


def describe_cron_words(expr: str | None, lang: str) -> str:
    """E.g. "каждые 6 часов" / "every 6 hours"; None means the schedule is off.

    `lang` is "ru" or "en"; any other value gets English.
    """
    if expr is None:
        return "выключено" if lang == "ru" else "off"
    description = describe(expr)
    return _ru(description) if lang == "ru" else _en(description)


def every_interval_words(interval: timedelta, lang: str) -> str:
    """A refresh interval for the frequency notice: "каждые 3 часа" / "every 3 hours"."""
    minutes = int(interval.total_seconds() // 60)
    if minutes % 60 == 0 and minutes >= 60:
        hours = minutes // 60
        if lang == "ru":
            return _ru_every(hours, "час", "часа", "часов", feminine=False)
        return _en_every(hours, "hour")
    if lang == "ru":
        return _ru_every(minutes, "минуту", "минуты", "минут", feminine=True)
    return _en_every(minutes, "minute")
