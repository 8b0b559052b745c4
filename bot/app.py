"""The application: settings → database → vault → bot, dispatcher, sync service; and running it."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand, BotCommandScopeDefault
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.health import install_update_clock
from bot.lifecycle import graceful_shutdown
from bot.middlewares import CommandsFirst, TenantMiddleware
from bot.model_warmup import build_models_in_use
from bot.notifier import TelegramNotifier
from bot.routers import (
    admin,
    api_key,
    errors,
    export,
    fallback,
    membership,
    schedule,
    sheet,
    start,
    sync,
)
from bot.telegram_faults import ChatFaults, FloodControl, StaleCallbacks, wait_for_telegram
from bot.texts import LANGUAGES, t
from bot.throttling import CommandCooldown, MessageRateLimit, Throttle
from bot.webhook import leave_webhook_mode
from core.background import Background
from core.foreground import Foreground, give_way_before_statements
from core.jobs import reschedule
from core.key_rotation import audit_keys
from core.settings import Settings
from core.sheet_export import SheetSync, sheets_exporter
from core.sync import SyncService
from core.vault import KeyVault, VaultError, vault_from_settings
from storage import migrate
from storage.db import (
    QuickReads,
    create_engine,
    inline_reader,
    quick_read_engine,
    session_factory,
)

log = logging.getLogger(__name__)

MENU_COMMANDS = (
    "start",
    "help",
    "api_key",
    "sync",
    "status",
    "schedule",
    "threshold",
    "sheet",
    "export",
)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    vault: KeyVault
    bot: Bot
    dispatcher: Dispatcher
    http: aiohttp.ClientSession
    syncs: SyncService
    notifier: TelegramNotifier
    background: Background | None = None
    polling: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
    # Syncs and sheet exports have a connection pool of their own (see create_app).
    sync_engine: AsyncEngine | None = None
    # Chat commands in flight, which syncs give way to (core/foreground.py).
    foreground: Foreground | None = None
    # SQLite: the engine of the tenant lookup done in place (storage.db.inline_reader).
    inline_reader: Engine | None = None
    # PostgreSQL: the engine of chat commands' one-round-trip reads (storage.db.QuickReads).
    quick_read_engine: AsyncEngine | None = None

    @property
    def scheduler(self) -> Any:
        """The running APScheduler, or None when this process stands by (or has none)."""
        if self.background is None or not self.background.leader:
            return None
        return self.background.scheduler

    async def close(self) -> None:
        if self.background is not None:
            await self.background.stop()
        await self.syncs.wait_idle(timeout=5)
        await self.http.close()
        await self.bot.session.close()
        if self.sync_engine is not None:
            await self.sync_engine.dispose()
        if self.inline_reader is not None:
            self.inline_reader.dispose()
        if self.quick_read_engine is not None:
            await self.quick_read_engine.dispose()
        await self.engine.dispose()


def build_bot(settings: Settings) -> Bot:
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
        if settings.telegram_api_url
        else AiohttpSession()
    )
    session.middleware(
        FloodControl(settings.telegram_retry_attempts, settings.telegram_max_retry_after)
    )
    session.middleware(StaleCallbacks())
    return Bot(settings.bot_token.get_secret_value(), session=session)


def build_dispatcher() -> Dispatcher:
    dp = Dispatcher(storage=MemoryStorage())
    # Order matters: the catch-all fallback comes last.
    features = (errors, membership, start, api_key, sync, schedule, sheet, export, admin)
    for module in (*features, fallback):
        dp.include_router(module.create_router())
    install_update_clock(dp)
    return dp


async def create_app(settings: Settings) -> App:
    """Everything wired, schema upgraded; nothing polling yet."""
    engine = create_engine(settings.database_url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    encryption_keys = (
        settings.encryption_keys.get_secret_value() if settings.encryption_keys else None
    )
    try:
        vault = vault_from_settings(encryption_keys, settings.default_key_file())
        await check_vault(sessions, vault)
    except VaultError:
        await engine.dispose()
        raise
    bot = build_bot(settings)
    dp = build_dispatcher()
    http = aiohttp.ClientSession()
    notifier = TelegramNotifier(bot)
    # Syncs get a pool of their own: however many run or queue, and however long they wait
    # for SQLite's write lock, chat commands never wait behind them for a connection.
    sync_engine = create_engine(settings.database_url, **sync_pool_size(settings))
    # ...and give way to them: while a command is answered, syncs hold their next statement
    # and their parsing (core/foreground.py).
    foreground = Foreground()
    give_way_before_statements(sync_engine, foreground)
    dp.update.outer_middleware(CommandsFirst(foreground))
    sync_sessions = session_factory(sync_engine)
    syncs = SyncService(
        sessions=sync_sessions,
        vault=vault,
        notifier=notifier,
        settings=settings,
        http=http,
        foreground=foreground,
    )
    sheets = sheets_exporter(settings)
    if sheets is not None:
        syncs.exporter = SheetSync(sync_sessions, sheets)
    chat_faults = ChatFaults(sessions)  # `on_blocked` listeners: e.g. pause the schedule
    bot.session.middleware(chat_faults)
    throttle = Throttle(
        settings.throttle_messages,
        settings.throttle_window_seconds,
        {"sync": settings.throttle_sync_seconds},
    )
    # Before the tenant lookup, so a flood costs no database work.
    dp.message.outer_middleware(MessageRateLimit(throttle))
    dp.callback_query.outer_middleware(MessageRateLimit(throttle))
    dp.message.middleware(CommandCooldown(throttle))
    dp.workflow_data.update(throttle=throttle, chat_faults=chat_faults)
    reader = inline_reader(settings.database_url)
    quick = quick_read_engine(settings.database_url)
    reads = QuickReads(sessions, reader, quick)
    middleware = TenantMiddleware(sessions, reads)
    dp.message.outer_middleware(middleware)
    dp.callback_query.outer_middleware(middleware)
    dp.workflow_data.update(
        settings=settings,
        sessions=sessions,
        reads=reads,
        vault=vault,
        http=http,
        syncs=syncs,
        sheets=sheets,
    )
    app = App(settings, engine, sessions, vault, bot, dp, http, syncs, notifier)
    app.sync_engine = sync_engine
    app.foreground = foreground
    app.inline_reader = reader
    app.quick_read_engine = quick
    app.background = Background(
        settings=settings,
        sessions=sessions,
        syncs=syncs,
        notifier=notifier,
        polling_alive=lambda: app.polling,
    )
    dp.workflow_data["app"] = app

    async def pause_blocked(tenant_id: int) -> None:
        await reschedule(app.scheduler, sessions, tenant_id)

    chat_faults.on_blocked.append(pause_blocked)
    build_models_in_use()  # now, not on first use under load (bot/model_warmup.py)
    return app


def sync_pool_size(settings: Settings) -> dict[str, int]:
    """One connection per working sync and one for the queued ones' bookkeeping, doubled at
    peaks: small, as hosted PostgreSQL plans allow ~20 connections in all."""
    base = settings.max_concurrent_syncs + 1
    return {"pool_size": base, "max_overflow": base}


async def check_vault(sessions: async_sessionmaker[AsyncSession], vault: KeyVault) -> None:
    """Fail fast when ENCRYPTION_KEYS cannot read every stored key (nothing is changed)."""
    audit = await audit_keys(sessions, vault)
    if not audit.ok:
        raise VaultError(
            f"ENCRYPTION_KEYS cannot decrypt {audit.unreadable} of {audit.total} stored WB keys; "
            "start with the keys they were encrypted with (newest first), then run "
            "`python -m bot rotate-keys`"
        )


async def set_commands(bot: Bot) -> None:
    """The command menu in Russian (default) and English; a failure is logged, not fatal."""
    for lang in LANGUAGES:
        commands = [BotCommand(command=c, description=t(lang, f"cmd_{c}")) for c in MENU_COMMANDS]
        try:
            await bot.set_my_commands(
                commands,
                scope=BotCommandScopeDefault(),
                language_code=None if lang == "ru" else lang,
            )
        except (TimeoutError, TelegramAPIError, aiohttp.ClientError) as exc:
            log.warning("could not set the %s command menu: %s", lang, type(exc).__name__)


async def run_polling(app: App) -> None:
    """Long polling until cancelled or stopped by a signal."""

    async def polling_started() -> None:
        app.polling = True

    async def polling_stopped() -> None:
        app.polling = False

    app.dispatcher.startup.register(polling_started)
    app.dispatcher.shutdown.register(polling_stopped)
    try:
        # The scheduler starts first: scheduled syncs and sheets go on while Telegram is down.
        if app.background is not None:
            await app.background.start()
        await wait_for_telegram(app.bot)
        await set_commands(app.bot)
        await leave_webhook_mode(app.bot)
        await app.dispatcher.start_polling(
            app.bot,
            handle_signals=False,
            close_bot_session=False,
            drop_pending_updates=app.settings.drop_pending_updates,
        )
    finally:
        with contextlib.suppress(Exception):
            await graceful_shutdown(app)
