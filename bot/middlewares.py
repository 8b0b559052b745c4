"""Per-update data for handlers: the user's language and the chat's tenant (if any)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.texts import language_of
from core.foreground import Foreground
from storage.models import Tenant


class TenantMiddleware(BaseMiddleware):
    """Puts `lang` and `tenant` into handler data; keeps the tenant's language current."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

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
            async with self._sessions() as session:
                tenant = await session.scalar(select(Tenant).where(Tenant.chat_id == chat.id))
                if tenant is not None and user is not None and tenant.language != lang:
                    tenant.language = lang
                    await session.commit()
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
