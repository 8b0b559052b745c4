"""/export: the stored report as an .xlsx document (no WB call)."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import render
from bot.filters import Magic
from bot.texts import t
from core.report_file import stored_report_file
from storage.models import Tenant

log = logging.getLogger(__name__)


async def export_in_group(message: Message, lang: str) -> None:
    await message.answer(t(lang, "not_private_text"))


async def export(
    message: Message,
    lang: str,
    bot: Bot,
    tenant: Tenant | None,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    file = None
    if tenant is not None:
        with contextlib.suppress(TelegramAPIError):
            await bot.send_chat_action(message.chat.id, ChatAction.UPLOAD_DOCUMENT)
        file = await stored_report_file(sessions, tenant.id, lang=lang, tz=tenant.timezone)
    if file is None:
        no_key = tenant is None or not tenant.has_key
        await message.answer(t(lang, "sync_no_key" if no_key else "export_no_report"))
        return
    assert tenant is not None
    caption = t(lang, "export_caption", when=render.local_time(file.generated_at, tenant.timezone))
    try:
        await message.answer_document(
            BufferedInputFile(file.content, filename=file.filename), caption=caption
        )
    except TelegramAPIError as error:
        log.warning("could not send the export of tenant %s: %s", tenant.id, error)
        await message.answer(t(lang, "export_failed"))


def create_router() -> Router:
    router = Router(name="export")
    router.message.register(export_in_group, Command("export"), Magic(F.chat.type != "private"))
    router.message.register(export, Command("export"))
    return router
