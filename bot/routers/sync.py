"""/sync and /status."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot import render
from bot.long_text import answer_long
from bot.texts import t
from core.notifier import Trigger
from core.sync import StartResult, SyncService, recent_logs_query
from storage.db import QuickReads
from storage.models import SyncLog, Tenant


async def sync(message: Message, lang: str, tenant: Tenant | None, syncs: SyncService) -> None:
    """Start a sync in the background; the progress message follows."""
    if tenant is None or not tenant.has_key:
        await message.answer(t(lang, "sync_no_key"))
        return
    result = await syncs.start(tenant.id, Trigger.MANUAL)
    if result is StartResult.ALREADY_RUNNING:
        await message.answer(t(lang, "sync_already_running"))
    elif result is StartResult.PAUSED:
        await message.answer(t(lang, "sync_paused"))
    elif result in (StartResult.NO_KEY, StartResult.NOT_FOUND):
        await message.answer(t(lang, "sync_no_key"))


async def status(
    message: Message,
    lang: str,
    tenant: Tenant | None,
    reads: QuickReads,
) -> None:
    """The last five syncs and the key's state."""
    if tenant is None:
        await message.answer(t(lang, "status_no_key"))
        return
    logs: list[SyncLog] = await reads.scalars(recent_logs_query(tenant.id, 5))
    tz = tenant.timezone
    lines = [t(lang, "status_title")] if logs else [t(lang, "status_none")]
    for entry in logs:
        values = {
            "when": render.local_time(entry.started_at, tz),
            "trigger": t(lang, f"trigger_{entry.trigger}"),
            "result": t(lang, f"result_{entry.status}"),
            "duration": render.duration(lang, (entry.duration_ms or 0) / 1000),
        }
        if entry.error:
            lines.append(
                t(lang, "status_line_error", error=render.sync_error(lang, entry.error), **values)
            )
        else:
            lines.append(t(lang, "status_line", **values))
    lines.append("")
    lines.append(t(lang, "status_key_title"))
    if not tenant.has_key:
        lines.append(t(lang, "status_no_key"))
    else:
        expires = (
            render.local_time(tenant.key_expires_at, tz, "%d.%m.%Y")
            if tenant.key_expires_at
            else "—"
        )
        lines.append(
            t(
                lang,
                "status_key",
                token_type=render.token_type(lang, tenant.token_type),
                categories=render.categories(lang, tenant.token_categories),
                expires=expires,
            )
        )
        if tenant.key_last_used_at:
            lines.append(
                t(lang, "status_key_last_used", when=render.local_time(tenant.key_last_used_at, tz))
            )
        else:
            lines.append(t(lang, "status_key_never_used"))
        if tenant.key_invalid_reason:
            lines.append(t(lang, "status_key_invalid", reason=tenant.key_invalid_reason))
    await answer_long(message, "\n".join(lines))


def create_router() -> Router:
    router = Router(name="sync")
    router.message.register(sync, Command("sync"), flags={"cooldown": "sync"})
    router.message.register(status, Command("status"))
    return router
