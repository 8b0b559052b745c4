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
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.middlewares import TenantMiddleware
from bot.notifier import TelegramNotifier
from bot.routers import api_key, fallback, start, sync
from bot.texts import LANGUAGES, t
from core.settings import Settings
from core.sync import SyncService
from core.vault import KeyVault, VaultError, vault_from_settings
from storage import migrate
from storage.db import create_engine, session_factory
from storage.models import Tenant

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
    extras: dict[str, Any] = field(default_factory=dict)

    async def close(self) -> None:
        await self.syncs.wait_idle(timeout=5)
        await self.http.close()
        await self.bot.session.close()
        await self.engine.dispose()


def build_bot(settings: Settings) -> Bot:
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
        if settings.telegram_api_url
        else AiohttpSession()
    )
    return Bot(settings.bot_token.get_secret_value(), session=session)


def build_dispatcher() -> Dispatcher:
    dp = Dispatcher(storage=MemoryStorage())
    # Order matters: the catch-all fallback comes last.
    for module in (start, api_key, sync, fallback):
        dp.include_router(module.create_router())
    return dp


async def create_app(settings: Settings) -> App:
    """Everything wired, schema upgraded; nothing polling yet."""
    engine = create_engine(settings.database_url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    encryption_keys = (
        settings.encryption_keys.get_secret_value() if settings.encryption_keys else None
    )
    vault = vault_from_settings(encryption_keys, settings.default_key_file())
    await check_vault(sessions, vault)
    bot = build_bot(settings)
    dp = build_dispatcher()
    http = aiohttp.ClientSession()
    notifier = TelegramNotifier(bot)
    syncs = SyncService(
        sessions=sessions, vault=vault, notifier=notifier, settings=settings, http=http
    )
    middleware = TenantMiddleware(sessions)
    dp.message.outer_middleware(middleware)
    dp.callback_query.outer_middleware(middleware)
    dp.workflow_data.update(
        settings=settings, sessions=sessions, vault=vault, http=http, syncs=syncs
    )
    return App(settings, engine, sessions, vault, bot, dp, http, syncs, notifier)


async def check_vault(sessions: async_sessionmaker[AsyncSession], vault: KeyVault) -> None:
    """Fail fast when ENCRYPTION_KEYS cannot read the stored keys (nothing is changed)."""
    async with sessions() as session:
        stored = await session.scalar(
            select(Tenant.wb_key_encrypted).where(Tenant.wb_key_encrypted.is_not(None)).limit(1)
        )
    if stored is not None and not vault.can_decrypt(stored):
        raise VaultError(
            "ENCRYPTION_KEYS cannot decrypt the stored WB keys; start with the keys they were "
            "encrypted with (newest first), then run `python -m bot rotate-keys`"
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
    await set_commands(app.bot)
    try:
        await app.dispatcher.start_polling(
            app.bot,
            handle_signals=False,
            close_bot_session=False,
            drop_pending_updates=app.settings.drop_pending_updates,
        )
    finally:
        with contextlib.suppress(Exception):
            await app.close()
