"""Last in line: unknown commands and stray text get a pointer to /help; buttons nobody
handles (outdated or tampered callback data) get a short answer."""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message

from bot.filters import Magic
from bot.texts import t


async def unknown_command(message: Message, lang: str, bot: Bot) -> None:
    assert message.text is not None
    mention = message.text.split(maxsplit=1)[0].partition("@")[2]
    if mention and message.chat.type != "private":
        me = await bot.me()
        if mention.lower() != (me.username or "").lower():
            return  # a command for another bot in the same group
    await message.answer(t(lang, "unknown_command"))


async def stray_message(message: Message, lang: str) -> None:
    await message.answer(t(lang, "unknown_command"))


async def unknown_button(query: CallbackQuery, lang: str) -> None:
    # The query may be too old to answer (e.g. pressed while the bot was down).
    with contextlib.suppress(TelegramBadRequest):
        await query.answer(t(lang, "button_unknown"), show_alert=True)


def create_router() -> Router:
    router = Router(name="fallback")
    router.message.register(unknown_command, Magic(F.text.startswith("/")))
    router.message.register(stray_message, Magic(F.chat.type == "private"))
    router.callback_query.register(unknown_button)
    return router
