"""Per-update data for handlers: the user's language and the chat's tenant (if any)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from bot.texts import language_of
from core.foreground import Foreground
from storage.models import Tenant


class TenantMiddleware(BaseMiddleware):
    """Puts `lang` and `tenant` into handler data; keeps the tenant's language current.

    With `inline` (SQLite, see storage.db.inline_reader) the chat's tenant is read in place on
    the event loop: every update needs it, and it is one indexed row.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        inline: sessionmaker[Session] | None = None,
    ) -> None:
        self._sessions = sessions
        self._inline = inline

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
            tenant = await self._tenant(chat.id)
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

    async def _tenant(self, chat_id: int) -> Tenant | None:
        query = select(Tenant).where(Tenant.chat_id == chat_id)
        if self._inline is not None:
            try:
                with self._inline() as session:
                    return session.scalar(query)
            except OperationalError:
                pass  # the database is locked (not in WAL mode?): read the usual way
        async with self._sessions() as session:
            return await session.scalar(query)


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
