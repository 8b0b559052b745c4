"""Per-update data for handlers: the user's language and the chat's tenant (if any)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.texts import language_of
from core.foreground import Foreground
from storage.db import QuickReads
from storage.models import Tenant


class TenantMiddleware(BaseMiddleware):
    """Puts `lang` and `tenant` into handler data; keeps the tenant's language current.

    Every update needs the tenant, and it is one indexed row: a quick read (on SQLite in place
    on the event loop, see storage.db.inline_reader).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], reads: QuickReads) -> None:
        self._sessions = sessions
        self._reads = reads

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat = data.get("event_chat")
        lang = language_of(user.language_code if user else None)
        tenant: Tenant | None = None
        if chat is not None:
            tenant = await self._reads.scalar(select(Tenant).where(Tenant.chat_id == chat.id))
            if tenant is not None and user is not None and tenant.language != lang:
                async with self._sessions() as session:
                    await session.execute(
                        update(Tenant).where(Tenant.id == tenant.id).values(language=lang)
                    )
                    await session.commit()
                tenant.language = lang
        data["lang"] = lang
        data["tenant"] = tenant
        return await handler(event, data)


class CommandsFirst(BaseMiddleware):
    """Marks each update as in flight, so background syncs give way until it is answered."""

    def __init__(self, foreground: Foreground) -> None:
        self._foreground = foreground

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        with self._foreground.command():
            return await handler(event, data)
