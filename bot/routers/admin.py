"""Admin commands: /admin, /tenants, /tenant, /pause, /resume, /force_sync, /jobs.

Only ADMIN_IDS in a private chat pass the router's filter; anyone else falls through to the
fallback router and gets exactly the unknown-command answer. Every command is logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import admin_render
from bot.filters import Magic
from bot.health import update_clock, version
from bot.routers import broadcast
from bot.texts import t
from core import admin
from core.admin import Action, PauseOutcome
from core.clock import utcnow
from core.notifier import Trigger
from core.scheduler import sync_job_id
from core.settings import Settings
from core.sync import StartResult
from storage.db import backend_name

if TYPE_CHECKING:
    from bot.app import App

TENANTS_PAGE_PREFIX = "adm:tp:"
# Tenant ids are database integers; anything longer is not an id.
MAX_ID_DIGITS = 12


async def is_admin(event: Message | CallbackQuery, settings: Settings) -> bool:
    user = event.from_user
    return user is not None and user.id in settings.admin_ids


def parse_id(command: CommandObject) -> int | None:
    """The single positive integer argument, or None."""
    arg = (command.args or "").strip().lstrip("#")
    if not arg.isascii() or not arg.isdigit() or len(arg) > MAX_ID_DIGITS:
        return None
    value = int(arg)
    return value if value > 0 else None


def admin_tz(settings: Settings) -> str:
    return settings.default_timezone


async def overview(message: Message, lang: str, app: App) -> None:
    assert message.from_user is not None
    async with app.sessions() as session:
        data = await admin.overview(session, utcnow())
    clock = update_clock(app.dispatcher)
    text = admin_render.overview(
        lang,
        data,
        running=app.syncs.running_count - app.syncs.queued_count,
        queued=app.syncs.queued_count,
        runs=admin.scheduled_runs(app.scheduler),
        backend=backend_name(app.engine),
        version=version(),
        uptime_seconds=clock.uptime_seconds if clock else None,
        tz=admin_tz(app.settings),
    )
    await admin.record(app.sessions, message.from_user.id, Action.OVERVIEW)
    await message.answer(text)


def _page_keyboard(lang: str, page: int, pages: int) -> InlineKeyboardMarkup | None:
    buttons = []
    if page > 0:
        buttons.append(
            InlineKeyboardButton(
                text=t(lang, "admin_prev"), callback_data=f"{TENANTS_PAGE_PREFIX}{page - 1}"
            )
        )
    if page < pages - 1:
        buttons.append(
            InlineKeyboardButton(
                text=t(lang, "admin_next"), callback_data=f"{TENANTS_PAGE_PREFIX}{page + 1}"
            )
        )
    return InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None


async def _page(
    sessions: async_sessionmaker[AsyncSession], lang: str, page: int, tz: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    async with sessions() as session:
        data = await admin.tenant_page(session, page)
    return admin_render.tenant_page(lang, data, tz), _page_keyboard(lang, data.page, data.pages)


async def tenants(message: Message, lang: str, app: App) -> None:
    assert message.from_user is not None
    text, keyboard = await _page(app.sessions, lang, 0, admin_tz(app.settings))
    await admin.record(app.sessions, message.from_user.id, Action.TENANTS)
    await message.answer(text, reply_markup=keyboard)


async def tenants_page(query: CallbackQuery, lang: str, app: App) -> None:
    """Next/previous page; data that is not ours (tampered or stale) gets a polite note."""
    raw = (query.data or "").removeprefix(TENANTS_PAGE_PREFIX)
    message = query.message
    if (
        not raw.isascii()
        or not raw.isdigit()
        or len(raw) > MAX_ID_DIGITS
        or message is None
        or isinstance(message, InaccessibleMessage)
    ):
        await query.answer(t(lang, "admin_bad_button"))
        return
    text, keyboard = await _page(app.sessions, lang, int(raw), admin_tz(app.settings))
    await query.answer()
    if text != message.text:
        await message.edit_text(text, reply_markup=keyboard)


async def tenant(message: Message, command: CommandObject, lang: str, app: App) -> None:
    assert message.from_user is not None
    tenant_id = parse_id(command)
    if tenant_id is None:
        await message.answer(t(lang, "admin_usage", command="tenant"))
        return
    async with app.sessions() as session:
        detail = await admin.tenant_detail(session, tenant_id)
    if detail is None:
        await message.answer(t(lang, "admin_not_found", id=tenant_id))
        return
    next_run = None
    scheduler = app.scheduler
    if scheduler is not None and scheduler.running:
        job = scheduler.get_job(sync_job_id(tenant_id))
        next_run = getattr(job, "next_run_time", None)
    await admin.record(app.sessions, message.from_user.id, Action.TENANT, tenant_id)
    await message.answer(admin_render.tenant_detail(lang, detail, next_run, admin_tz(app.settings)))


async def _pause_or_resume(
    message: Message, command: CommandObject, lang: str, app: App, *, paused: bool
) -> None:
    assert message.from_user is not None
    name = "pause" if paused else "resume"
    tenant_id = parse_id(command)
    if tenant_id is None:
        await message.answer(t(lang, "admin_usage", command=name))
        return
    outcome, row = await admin.set_paused(app.sessions, app.scheduler, tenant_id, paused)
    if outcome is PauseOutcome.NOT_FOUND or row is None:
        await message.answer(t(lang, "admin_not_found", id=tenant_id))
        return
    if outcome is PauseOutcome.ALREADY:
        key = "admin_already_paused" if paused else "admin_not_paused"
        await message.answer(t(lang, key, id=tenant_id))
        return
    await admin.record(
        app.sessions, message.from_user.id, Action.PAUSE if paused else Action.RESUME, tenant_id
    )
    notice = t(row.language, "seller_paused_notice" if paused else "seller_resumed_notice")
    told = row.is_active and await app.notifier.send(row.chat_id, notice) is not None
    lines = [
        t(lang, "admin_paused" if paused else "admin_resumed", id=tenant_id),
        t(lang, "admin_seller_told" if told else "admin_seller_not_told"),
    ]
    await message.answer("\n".join(lines))


async def pause(message: Message, command: CommandObject, lang: str, app: App) -> None:
    await _pause_or_resume(message, command, lang, app, paused=True)


async def resume(message: Message, command: CommandObject, lang: str, app: App) -> None:
    await _pause_or_resume(message, command, lang, app, paused=False)


async def force_sync(message: Message, command: CommandObject, lang: str, app: App) -> None:
    assert message.from_user is not None
    tenant_id = parse_id(command)
    if tenant_id is None:
        await message.answer(t(lang, "admin_usage", command="force_sync"))
        return
    result = await app.syncs.start(tenant_id, Trigger.ADMIN)
    key = {
        StartResult.STARTED: "admin_force_started",
        StartResult.ALREADY_RUNNING: "admin_force_running",
        StartResult.NO_KEY: "admin_force_no_key",
        StartResult.NOT_FOUND: "admin_not_found",
        StartResult.PAUSED: "admin_force_running",  # not returned for admin syncs
    }[result]
    if result is not StartResult.NOT_FOUND:
        await admin.record(
            app.sessions, message.from_user.id, Action.FORCE_SYNC, tenant_id, result.value
        )
    await message.answer(t(lang, key, id=tenant_id))


async def jobs(message: Message, lang: str, app: App) -> None:
    assert message.from_user is not None
    runs = admin.scheduled_runs(app.scheduler)
    await admin.record(app.sessions, message.from_user.id, Action.JOBS)
    await message.answer(admin_render.jobs(lang, runs, admin_tz(app.settings)))


def create_router() -> Router:
    """The admin routers under one filter: admins only, messages in private chats only."""
    root = Router(name="admin")
    root.message.filter(is_admin, Magic(F.chat.type == "private"))
    root.callback_query.filter(is_admin)
    commands = Router(name="admin-commands")
    commands.message.register(overview, Command("admin"))
    commands.message.register(tenants, Command("tenants"))
    commands.message.register(tenant, Command("tenant"))
    commands.message.register(pause, Command("pause"))
    commands.message.register(resume, Command("resume"))
    commands.message.register(force_sync, Command("force_sync"))
    commands.message.register(jobs, Command("jobs"))
    commands.callback_query.register(tenants_page, Magic(F.data.startswith(TENANTS_PAGE_PREFIX)))
    root.include_router(commands)
    root.include_router(broadcast.create_router())
    # Other "adm:" data (tampered or stale) goes on to the fallback's unknown-button answer.
    return root
