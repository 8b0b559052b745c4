"""/sheet: link, show or unlink the seller's Google Sheet.

Private chats only, like every command that touches a tenant: a group has no tenant of its own.
"""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import render
from bot.filters import Magic
from bot.texts import t
from core.exporters.sheets import SheetsExporter
from core.settings import Settings
from core.sheet_export import (
    SheetProblem,
    account_email,
    link_sheet,
    sheet_url,
    unlink_sheet,
)
from storage.models import Tenant

OFF_WORDS = frozenset({"off", "выкл", "отключить"})


async def sheet_in_group(message: Message, lang: str) -> None:
    await message.answer(t(lang, "not_private_text"))


async def sheet(
    message: Message,
    command: CommandObject,
    lang: str,
    bot: Bot,
    tenant: Tenant | None,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sheets: SheetsExporter | None,
) -> None:
    if tenant is None:
        await message.answer(t(lang, "sheet_no_tenant"))
        return
    args = (command.args or "").strip()
    if not args:
        await message.answer(_status(lang, tenant, settings))
        return
    if args.lower() in OFF_WORDS:
        unlinked = await unlink_sheet(sessions, tenant.id)
        await message.answer(t(lang, "sheet_off" if unlinked else "sheet_off_none"))
        return
    email = account_email(settings)
    exporter = sheets if email is not None else None
    if exporter is not None:
        with contextlib.suppress(TelegramAPIError):
            await bot.send_chat_action(message.chat.id, ChatAction.TYPING)
    result = await link_sheet(sessions, exporter, tenant.id, args)
    if result.problem is None:
        assert result.spreadsheet_id is not None
        text = t(
            lang,
            "sheet_linked",
            title=result.title or result.spreadsheet_id,
            url=sheet_url(result.spreadsheet_id),
            email=email,
        )
    else:
        text = t(lang, _PROBLEM_TEXTS[result.problem], email=email or "—")
    await message.answer(text, disable_web_page_preview=True)


_PROBLEM_TEXTS = {
    SheetProblem.BAD_LINK: "sheet_bad_link",
    SheetProblem.NOT_SHARED: "sheet_not_shared",
    SheetProblem.NOT_FOUND: "sheet_not_found",
    SheetProblem.UNAVAILABLE: "sheet_unavailable",
    SheetProblem.NOT_CONFIGURED: "sheet_not_configured",
    SheetProblem.REJECTED: "sheet_rejected",
    SheetProblem.UNLINKED: "sheet_internal",
    SheetProblem.INTERNAL: "sheet_internal",
}


def _status(lang: str, tenant: Tenant, settings: Settings) -> str:
    email = account_email(settings)
    if tenant.spreadsheet_id is None:
        if email is None:
            return t(lang, "sheet_status_not_configured")
        return t(lang, "sheet_status_not_linked", email=email)
    lines = [t(lang, "sheet_status_linked", url=sheet_url(tenant.spreadsheet_id))]
    if tenant.sheet_written_at is not None:
        when = render.local_time(tenant.sheet_written_at, tenant.timezone)
        lines.append(t(lang, "sheet_status_written", when=when))
    if tenant.sheet_error:
        reason = render.sheet_reason(lang, tenant.sheet_error)
        lines.append(t(lang, "sheet_status_failed", reason=reason))
    elif tenant.sheet_written_at is None:
        lines.append(t(lang, "sheet_status_never_written"))
    if email is None:
        lines.append(t(lang, "sheet_status_not_configured"))
    lines.append(t(lang, "sheet_status_manage"))
    return "\n".join(lines)


def create_router() -> Router:
    router = Router(name="sheet")
    router.message.register(sheet_in_group, Command("sheet"), Magic(F.chat.type != "private"))
    router.message.register(sheet, Command("sheet"))
    return router
