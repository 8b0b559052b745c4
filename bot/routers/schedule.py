"""/schedule (cron, timezone, notification mode, presets) and /threshold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.filters import Magic
from bot.schedule_words import describe_cron_words, every_interval_words
from bot.texts import t
from core.clock import utcnow
from core.jobs import apply_tenant_schedule
from core.scheduling import (
    PRESETS,
    CronProblem,
    InvalidCron,
    InvalidTimezone,
    frequency_limits,
    next_runs,
    validate_cron,
    validate_timezone,
)
from core.sync import NotifyMode
from storage.models import Tenant

CALLBACK_PREFIX = "sched:"
THRESHOLD_RANGE = (1, 365)


def _keyboard(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=t(lang, "button_hourly"), callback_data="sched:hourly"),
                InlineKeyboardButton(
                    text=t(lang, "button_every_6h"), callback_data="sched:every_6h"
                ),
            ],
            [
                InlineKeyboardButton(text=t(lang, "button_daily_9"), callback_data="sched:daily_9"),
                InlineKeyboardButton(text=t(lang, "button_off"), callback_data="sched:off"),
            ],
        ]
    )


def _overview(lang: str, tenant: Tenant, now: datetime) -> str:
    lines: list[str] = []
    if tenant.schedule_cron:
        words = describe_cron_words(tenant.schedule_cron, lang)
        lines.append(t(lang, "schedule_now", words=words, tz=tenant.timezone))
        runs = next_runs(tenant.schedule_cron, tenant.timezone, now, 3)
        lines.append(
            t(lang, "schedule_next", runs=", ".join(r.strftime("%d.%m %H:%M") for r in runs))
        )
    else:
        lines.append(t(lang, "schedule_off_now"))
    if tenant.key_invalid_reason:
        lines.append(t(lang, "schedule_key_paused"))
    lines.append(t(lang, "schedule_notify", mode=t(lang, f"notify_{tenant.notify_mode}")))
    lines.append("")
    lines.append(t(lang, "schedule_usage"))
    return "\n".join(lines)


def _cron_reason(lang: str, exc: InvalidCron) -> str:
    field = t(lang, f"cron_field_{exc.field}") if exc.field else ""
    if exc.reason is CronProblem.FIELD_COUNT:
        return t(lang, "cron_field_count", count=exc.field_count)
    if exc.reason is CronProblem.BAD_VALUE:
        if exc.allowed is not None:
            low, high = exc.allowed
            return t(lang, "cron_bad_value", field=field, value=exc.value, low=low, high=high)
        return t(lang, "cron_bad_value_plain", field=field, value=exc.value)
    return t(lang, f"cron_{exc.reason.value}")


async def _save(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, **values: Any
) -> Tenant | None:
    async with sessions() as session:
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            return None
        for name, value in values.items():
            setattr(tenant, name, value)
        await session.commit()
        return tenant


async def _set_cron(
    lang: str,
    tenant: Tenant,
    cron: str | None,
    sessions: async_sessionmaker[AsyncSession],
    app: Any,
) -> str:
    """Validate and store a schedule (None: off); the reply text either way."""
    now = utcnow()
    slow_text = ""
    if cron is not None:
        try:
            normalized = validate_cron(cron)
            if normalized is None:
                return await _set_cron(lang, tenant, None, sessions, app)
            slow = frequency_limits(normalized, tenant.timezone, now, tenant.token_type or 1)
        except InvalidCron as exc:
            return t(lang, "schedule_invalid", expr=cron, reason=_cron_reason(lang, exc))
        cron = normalized
        if slow:
            parts = "; ".join(
                t(
                    lang,
                    "schedule_slow_part",
                    part=t(lang, f"slow_part_{item.part}"),
                    interval=every_interval_words(item.interval, lang),
                )
                for item in slow
            )
            slow_text = "\n" + t(lang, "schedule_slow_parts", parts=parts)
    saved = await _save(sessions, tenant.id, schedule_cron=cron)
    if saved is None:
        return t(lang, "schedule_needs_key")
    apply_tenant_schedule(app.scheduler, saved)
    if cron is None:
        return t(lang, "schedule_turned_off")
    runs = next_runs(cron, saved.timezone, now, 3)
    return (
        t(lang, "schedule_set", words=describe_cron_words(cron, lang), tz=saved.timezone)
        + "\n"
        + t(lang, "schedule_next", runs=", ".join(r.strftime("%d.%m %H:%M") for r in runs))
        + slow_text
    )


async def schedule(
    message: Message,
    command: CommandObject,
    lang: str,
    tenant: Tenant | None,
    sessions: async_sessionmaker[AsyncSession],
    app: Any,
) -> None:
    if tenant is None or not tenant.has_key:
        await message.answer(t(lang, "schedule_needs_key"))
        return
    args = (command.args or "").strip()
    if not args:
        await message.answer(_overview(lang, tenant, utcnow()), reply_markup=_keyboard(lang))
        return
    word, _, rest = args.partition(" ")
    rest = rest.strip()
    if word.lower() == "tz":
        try:
            tz = validate_timezone(rest)
        except InvalidTimezone:
            await message.answer(t(lang, "schedule_tz_invalid", tz=rest[:64]))
            return
        saved = await _save(sessions, tenant.id, timezone=tz)
        if saved is not None:
            apply_tenant_schedule(app.scheduler, saved)
        words = describe_cron_words(tenant.schedule_cron, lang)
        await message.answer(t(lang, "schedule_tz_set", tz=tz, words=words))
        return
    if word.lower() == "notify":
        if rest.lower() not in {mode.value for mode in NotifyMode}:
            await message.answer(t(lang, "schedule_notify_invalid"))
            return
        await _save(sessions, tenant.id, notify_mode=rest.lower())
        await message.answer(t(lang, "schedule_notify_set", mode=t(lang, f"notify_{rest.lower()}")))
        return
    cron = None if args.lower() == "off" else args
    await message.answer(await _set_cron(lang, tenant, cron, sessions, app))


async def schedule_preset(
    query: CallbackQuery,
    lang: str,
    tenant: Tenant | None,
    sessions: async_sessionmaker[AsyncSession],
    app: Any,
) -> None:
    preset = (query.data or "")[len(CALLBACK_PREFIX) :]
    if preset not in PRESETS or tenant is None or not tenant.has_key:
        await query.answer(
            t(lang, "schedule_needs_key" if preset in PRESETS else "unknown_command")
        )
        return
    text = await _set_cron(lang, tenant, PRESETS[preset], sessions, app)
    await query.answer()
    if query.message is not None:
        await query.message.answer(text)


async def threshold(
    message: Message,
    command: CommandObject,
    lang: str,
    tenant: Tenant | None,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    if tenant is None:
        await message.answer(t(lang, "threshold_needs_start"))
        return
    args = (command.args or "").strip()
    if not args:
        await message.answer(t(lang, "threshold_now", days=tenant.low_stock_threshold))
        return
    low, high = THRESHOLD_RANGE
    # int() refuses non-ASCII digits ("²" is a digit) and strings of over 4,300 digits.
    digits = args.isascii() and args.isdigit() and len(args) <= 10
    if not digits or not low <= int(args) <= high:
        await message.answer(t(lang, "threshold_invalid"))
        return
    await _save(sessions, tenant.id, low_stock_threshold=int(args))
    await message.answer(t(lang, "threshold_set", days=int(args)))


def create_router() -> Router:
    router = Router(name="schedule")
    router.message.register(schedule, Command("schedule"))
    router.message.register(threshold, Command("threshold"))
    router.callback_query.register(schedule_preset, Magic(F.data.startswith(CALLBACK_PREFIX)))
    return router
