"""/start, /help, /cancel."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.filters import Magic
from bot.texts import t
from core.settings import Settings
from core.tenants import storable_name
from storage.models import Tenant


async def start(
    message: Message,
    lang: str,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """Register the private chat as a tenant (idempotent) and explain the next step."""
    assert message.from_user is not None
    async with sessions() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.chat_id == message.chat.id))
        if tenant is None:
            session.add(
                Tenant(
                    chat_id=message.chat.id,
                    user_id=message.from_user.id,
                    user_name=storable_name(message.from_user.full_name),
                    language=lang,
                    timezone=settings.default_timezone,
                    low_stock_threshold=settings.low_stock_threshold_days,
                )
            )
            await session.commit()
            await message.answer(t(lang, "start_new"))
            return
        await message.answer(t(lang, "start_again" if tenant.has_key else "start_again_no_key"))


async def start_in_group(message: Message, lang: str) -> None:
    await message.answer(t(lang, "not_private_text"))


async def help_command(message: Message, lang: str) -> None:
    await message.answer(t(lang, "help"))


async def cancel(message: Message, lang: str, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(t(lang, "nothing_to_cancel"))
        return
    await state.clear()
    await message.answer(t(lang, "key_cancelled"))


def create_router() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart(), Magic(F.chat.type == "private"))
    router.message.register(start_in_group, CommandStart())
    router.message.register(help_command, Command("help"))
    router.message.register(cancel, Command("cancel"))
    return router
