"""Last in line: unknown commands and stray text get a pointer to /help."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message

from bot.texts import t


async def unknown_command(message: Message, lang: str) -> None:
    await message.answer(t(lang, "unknown_command"))


async def stray_message(message: Message, lang: str) -> None:
    await message.answer(t(lang, "unknown_command"))


def create_router() -> Router:
    router = Router(name="fallback")
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(stray_message, F.chat.type == "private")
    return router
