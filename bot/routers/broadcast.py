"""/broadcast <text>: confirm with yes/no, then deliver to every active seller in the background.

The draft is an admin_actions row, so the yes/no buttons carry only its id (and a draft is sent
at most once, even when two admins press "yes"). Included by bot.routers.admin under its
admin-only filter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.broadcast import BroadcastProgress, Recipient, SendPacer, deliver, registry
from bot.filters import Magic
from bot.texts import t
from core import admin
from core.admin import Action

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

PREFIX = "adm:bc:"
PROGRESS_EVERY_SECONDS = 3.0
TEXT_LIMIT = 4096
FINAL_EDIT_ATTEMPTS = 3


def _fit(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


async def broadcast(message: Message, command: CommandObject, lang: str, app: App) -> None:
    """Ask for confirmation; nothing is sent yet."""
    assert message.from_user is not None
    text = (command.args or "").strip()
    if not text:
        await message.answer(t(lang, "admin_broadcast_usage"))
        return
    async with app.sessions() as session:
        recipients = await admin.active_recipients(session)
    if not recipients:
        await message.answer(t(lang, "admin_broadcast_none"))
        return
    draft_id = await admin.record(
        app.sessions, message.from_user.id, Action.BROADCAST_DRAFT, "all", text
    )
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t(lang, "admin_yes"), callback_data=f"{PREFIX}y:{draft_id}"
                ),
                InlineKeyboardButton(
                    text=t(lang, "admin_no"), callback_data=f"{PREFIX}n:{draft_id}"
                ),
            ]
        ]
    )
    preview = t(lang, "admin_broadcast_confirm", count=len(recipients), text=text)
    await message.answer(_fit(preview), reply_markup=keyboard)


def _parse(data: str | None) -> tuple[bool, int] | None:
    """("y"|"n", draft id) from the button data, or None for anything else."""
    parts = (data or "").removeprefix(PREFIX).split(":")
    if len(parts) != 2 or parts[0] not in ("y", "n"):
        return None
    if not parts[1].isascii() or not parts[1].isdigit() or len(parts[1]) > 12:
        return None
    return parts[0] == "y", int(parts[1])


async def decide(query: CallbackQuery, lang: str, app: App, bot: Bot) -> None:
    """Yes: start the delivery; no: drop the draft. A used or unknown draft sends nothing."""
    parsed = _parse(query.data)
    message = query.message
    if parsed is None or message is None or isinstance(message, InaccessibleMessage):
        await query.answer(t(lang, "admin_bad_button"))
        return
    confirmed, draft_id = parsed
    running = registry(app)
    # Claimed before any await, so a double press in this process cannot pass twice.
    if draft_id in running.drafts_in_flight:
        await query.answer(t(lang, "admin_broadcast_gone"))
        return
    running.drafts_in_flight.add(draft_id)
    launched = False
    try:
        async with app.sessions() as session:
            draft = await admin.broadcast_draft(session, draft_id)
        if draft is None:
            await query.answer(t(lang, "admin_broadcast_gone"))
            await message.edit_reply_markup(reply_markup=None)
            return
        target = admin.draft_target(draft_id)
        if not confirmed:
            await admin.record(app.sessions, query.from_user.id, Action.BROADCAST_CANCELLED, target)
            await query.answer()
            await message.edit_text(t(lang, "admin_broadcast_cancelled"))
            return
        async with app.sessions() as session:
            recipients = [Recipient(*row) for row in await admin.active_recipients(session)]
        entry_id = await admin.record(
            app.sessions,
            query.from_user.id,
            Action.BROADCAST,
            target,
            f"recipients={len(recipients)}",
        )
        await query.answer(t(lang, "admin_broadcast_sending"))
        progress = BroadcastProgress(total=len(recipients))
        await message.edit_text(_progress_text(lang, progress))
        running.launch(
            _deliver(
                app,
                bot,
                message.chat.id,
                message.message_id,
                lang,
                recipients,
                draft.details or "",
                entry_id,
                progress,
                draft_id,
            )
        )
        launched = True
    finally:
        if not launched:
            running.drafts_in_flight.discard(draft_id)


def _progress_text(lang: str, progress: BroadcastProgress) -> str:
    return t(
        lang,
        "admin_broadcast_progress",
        done=progress.done,
        total=progress.total,
        delivered=progress.delivered,
        failed=progress.failed,
    )


def _final_text(lang: str, progress: BroadcastProgress, *, stopped: bool) -> str:
    values = {
        "done": progress.done,
        "total": progress.total,
        "delivered": progress.delivered,
        "failed": progress.failed,
    }
    lines = [t(lang, "admin_broadcast_stopped" if stopped else "admin_broadcast_done", **values)]
    if progress.blocked:
        lines.append(t(lang, "admin_broadcast_blocked", count=len(progress.blocked)))
    return "\n".join(lines)


async def _deliver(
    app: App,
    bot: Bot,
    chat_id: int,
    message_id: int,
    lang: str,
    recipients: list[Recipient],
    text: str,
    entry_id: int,
    progress: BroadcastProgress,
    draft_id: int,
) -> None:
    pacer = SendPacer()
    last_edit = time.monotonic()

    async def on_progress(current: BroadcastProgress) -> None:
        nonlocal last_edit
        if current.done >= current.total or time.monotonic() - last_edit < PROGRESS_EVERY_SECONDS:
            return
        last_edit = time.monotonic()
        await pacer.wait(chat_id)  # the progress edit counts against the same limits
        try:
            await bot.edit_message_text(
                _progress_text(lang, current), chat_id=chat_id, message_id=message_id
            )
        except TelegramRetryAfter as exc:
            pacer.hold(exc.retry_after)
        except TelegramAPIError as exc:
            log.info("broadcast progress not shown: %s", type(exc).__name__)

    async def on_blocked(recipient: Recipient) -> None:
        await admin.mark_inactive(app.sessions, app.scheduler, recipient.tenant_id)

    stopped = False
    try:
        await deliver(
            bot,
            recipients,
            text,
            pacer=pacer,
            on_progress=on_progress,
            on_blocked=on_blocked,
            progress=progress,
        )
    except asyncio.CancelledError:
        stopped = True
        raise
    finally:
        summary = (
            f"delivered={progress.delivered} failed={progress.failed} "
            f"blocked={len(progress.blocked)}" + (" stopped" if stopped else "")
        )
        log.info("broadcast %s: %s", draft_id, summary)
        await admin.set_details(app.sessions, entry_id, summary)
        await _final_edit(
            bot, pacer, chat_id, message_id, _final_text(lang, progress, stopped=stopped)
        )
        registry(app).drafts_in_flight.discard(draft_id)


async def _final_edit(bot: Bot, pacer: SendPacer, chat_id: int, message_id: int, text: str) -> None:
    """The result must reach the admin: wait out a 429, else send it as a new message."""
    for _attempt in range(FINAL_EDIT_ATTEMPTS):
        await pacer.wait(chat_id)
        try:
            await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
            return
        except TelegramRetryAfter as exc:
            pacer.hold(exc.retry_after)
        except TelegramAPIError as exc:
            log.info("broadcast result not edited in: %s", type(exc).__name__)
            break
    try:
        await bot.send_message(chat_id, text)
    except TelegramAPIError as exc:
        log.warning("broadcast result not delivered to the admin: %s", type(exc).__name__)


def create_router() -> Router:
    router = Router(name="admin-broadcast")
    router.message.register(broadcast, Command("broadcast"))
    router.callback_query.register(decide, Magic(F.data.startswith(PREFIX)))
    return router
