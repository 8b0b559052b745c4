"""Turning the sync's data into chat messages, in the seller's language and timezone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.texts import DEFAULT_LANGUAGE, LANGUAGES, t
from core.notifier import (
    AlertChanges,
    FailureReason,
    PartStatus,
    ProgressState,
    SyncFailure,
    SyncStep,
    SyncSummary,
    Trigger,
)
from core.wb.token import Category, categories_from_mask

LOW_STOCK_SHOWN = 15
RETRIED = frozenset(
    {FailureReason.WB_UNAVAILABLE, FailureReason.WB_BAD_RESPONSE, FailureReason.RATE_LIMITED}
)


def number(value: int) -> str:
    """1234567 -> '1 234 567' (a thin space reads well in both languages)."""
    return f"{value:,}".replace(",", "\u202f")


def days(value: float) -> str:
    return f"{value:.1f}"


def duration(lang: str, seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return t(lang, "duration_seconds", n=whole)
    return t(lang, "duration_minutes", m=whole // 60, s=whole % 60)


def local_time(moment: datetime, tz: str, fmt: str = "%d.%m.%Y %H:%M") -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime(fmt)


def age(lang: str, moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return t(lang, "age_never")
    minutes = int((now - moment).total_seconds() // 60)
    if minutes < 1:
        return t(lang, "age_now")
    if minutes < 60:
        return t(lang, "age_minutes", n=minutes)
    if minutes < 48 * 60:
        return t(lang, "age_hours", n=minutes // 60, m=minutes % 60)
    return t(lang, "age_days", n=minutes // 1440)


def token_type(lang: str, value: int | None) -> str:
    return t(lang, f"token_type_{value}") if value in (1, 2, 3, 4) else "?"


def categories(lang: str, mask: int | None) -> str:
    if mask is None:
        return "—"
    names = [t(lang, f"category_{c.value}") for c in sorted(categories_from_mask(mask))]
    if mask & (1 << 30):
        names.append(t(lang, "read_only"))
    return ", ".join(names)


def category_names(lang: str, items: Iterable[Category]) -> str:
    return ", ".join(t(lang, f"category_{c.value}") for c in sorted(items))


def progress(lang: str, state: ProgressState, trigger: Trigger) -> str:
    title = t(
        lang, "progress_title_scheduled" if trigger is Trigger.SCHEDULED else "progress_title"
    )
    lines = [title]
    for step in SyncStep:
        mark = "✓" if step in state.done else ("…" if step == state.current else "·")
        lines.append(f"{mark} {t(lang, 'step_' + step.value)}")
    if state.queue_place:
        lines += ["", t(lang, "progress_queued", place=state.queue_place)]
    return "\n".join(lines)


def part_ages(lang: str, parts: Sequence[PartStatus], now: datetime, tz: str) -> list[str]:
    lines = [t(lang, "summary_ages_title")]
    for status in parts:
        name = t(lang, "part_" + status.part.value)
        when_age = age(lang, status.fetched_at, now)
        if not status.refreshed and status.next_refresh_at is not None:
            lines.append(
                t(
                    lang,
                    "age_line_stale",
                    part=name,
                    age=when_age,
                    when=local_time(status.next_refresh_at, tz, "%H:%M"),
                )
            )
        else:
            lines.append(t(lang, "age_line", part=name, age=when_age))
    return lines


def summary(lang: str, data: SyncSummary, now: datetime, tz: str) -> str:
    totals = data.totals
    partial = any(not p.refreshed for p in data.parts)
    lines = [
        t(
            lang,
            "done_title_partial" if partial else "done_title",
            duration=duration(lang, data.duration_seconds),
        ),
        "",
        t(lang, "summary_products", products=number(totals.products), sizes=number(totals.sizes)),
        t(lang, "summary_fbo", units=number(totals.fbo_units)),
        t(lang, "summary_fbs", units=number(totals.fbs_units)),
        t(
            lang,
            "summary_transit",
            to_buyers=number(totals.in_transit_to_buyers),
            returns=number(totals.in_transit_returns),
        ),
        t(
            lang,
            "summary_orders",
            days=data.window_days,
            orders=number(totals.orders),
            cancelled=number(totals.cancelled),
        ),
        "",
    ]
    threshold = f"{data.low_stock_threshold:g}"
    if data.low_stock:
        lines.append(t(lang, "summary_low_title", threshold=threshold))
        for item in data.low_stock[:LOW_STOCK_SHOWN]:
            lines.append(
                t(
                    lang,
                    "summary_low_item",
                    article=item.vendor_code or str(item.nm_id),
                    days=days(item.days_of_cover),
                    stock=number(item.stock),
                )
            )
        if len(data.low_stock) > LOW_STOCK_SHOWN:
            lines.append(t(lang, "summary_low_more", count=len(data.low_stock) - LOW_STOCK_SHOWN))
    else:
        lines.append(t(lang, "summary_low_none", threshold=threshold))
    lines.append("")
    lines.extend(part_ages(lang, data.parts, now, tz))
    if data.sheet_written is True:
        lines.append(t(lang, "sheet_written"))
    elif data.sheet_written is False:
        lines.append(t(lang, "sheet_failed", reason=sheet_reason(lang, data.sheet_error)))
    return "\n".join(lines)


def alerts(lang: str, changes: AlertChanges, threshold: float) -> str:
    lines = [t(lang, "alerts_title")]
    if changes.newly_low:
        lines.append(t(lang, "alerts_newly_low", threshold=f"{threshold:g}"))
        for item in changes.newly_low[:LOW_STOCK_SHOWN]:
            lines.append(
                t(
                    lang,
                    "summary_low_item",
                    article=item.vendor_code or str(item.nm_id),
                    days=days(item.days_of_cover),
                    stock=number(item.stock),
                )
            )
        if len(changes.newly_low) > LOW_STOCK_SHOWN:
            more = len(changes.newly_low) - LOW_STOCK_SHOWN
            lines.append(t(lang, "summary_low_more", count=more))
    if changes.recovered:
        shown = ", ".join(changes.recovered[:LOW_STOCK_SHOWN])
        if len(changes.recovered) > LOW_STOCK_SHOWN:
            shown += " " + t(
                lang, "summary_low_more", count=len(changes.recovered) - LOW_STOCK_SHOWN
            )
        lines.append(t(lang, "alerts_recovered", articles=shown))
    return "\n".join(lines)


def sheet_reason(lang: str, code: str | None) -> str:
    """Why the sheet was not written, from the problem code the exporter returned."""
    key = f"sheet_reason_{code}"
    return t(lang, key if key in LANGUAGES[DEFAULT_LANGUAGE] else "sheet_reason_internal")


def sync_error(lang: str, error: str) -> str:
    """A stored "reason: detail" error in the seller's words (WB's own detail kept short)."""
    reason, _, detail = error.partition(":")
    key = f"error_{reason.strip()}"
    if key not in LANGUAGES[DEFAULT_LANGUAGE]:
        return error[:200]
    detail = detail.strip()
    if not detail or reason.strip() in ("interrupted", "internal"):
        return t(lang, key)
    return f"{t(lang, key)} ({detail[:120]})"


def failure(lang: str, data: SyncFailure, tz: str, trigger: Trigger = Trigger.MANUAL) -> str:
    when = local_time(data.will_retry_at, tz, "%H:%M") if data.will_retry_at else "?"
    lines = [
        t(lang, "fail_title"),
        t(lang, "fail_" + data.reason.value, detail=data.detail or "—", when=when),
    ]
    if data.will_retry_at is not None and data.attempts_left > 0:
        lines.append(t(lang, "fail_retry", when=when, left=data.attempts_left))
    elif trigger is Trigger.RETRY and data.reason in RETRIED:
        lines.append(t(lang, "fail_final"))
    if data.schedule_paused:
        lines.append(t(lang, "fail_schedule_paused"))
    return "\n".join(lines)
