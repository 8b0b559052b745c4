"""The chat side of the sync: sends and edits messages through the aiogram Bot."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from bot import render
from bot.long_text import split_text
from bot.texts import t
from core.clock import utcnow
from core.notifier import (
    AlertChanges,
    ChatRef,
    ProgressState,
    SyncFailure,
    SyncSummary,
    Trigger,
)

log = logging.getLogger(__name__)


class TelegramNotifier:
    """Implements core.notifier.Notifier; a Telegram fault never breaks a sync."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self._last_text: dict[tuple[int, int], str] = {}
        self._triggers: dict[tuple[int, int], Trigger] = {}

    async def send(self, chat_id: int, text: str) -> int | None:
        """Send `text`, split at line ends when it is too long; the first message's id."""
        first: int | None = None
        for part in split_text(text):
            try:
                message = await self._bot.send_message(chat_id, part)
            except TelegramAPIError as exc:
                log.warning("could not send to chat %s: %s", chat_id, type(exc).__name__)
                return first
            if first is None:
                first = message.message_id
        return first

    async def edit_or_send(self, chat_id: int, message_id: int | None, text: str) -> None:
        """Edit the message to `text`; a text too long for one message edits in the first
        part and sends the rest after it."""
        if message_id is not None:
            if self._last_text.get((chat_id, message_id)) == text:
                return
            parts = split_text(text)
            if not parts:
                return
            try:
                await self._bot.edit_message_text(parts[0], chat_id=chat_id, message_id=message_id)
                self._last_text[(chat_id, message_id)] = text
            except TelegramBadRequest as exc:
                if "not modified" not in str(exc):
                    log.info("could not edit message in chat %s; sending a new one", chat_id)
                    await self.send(chat_id, text)
                    return
            except TelegramAPIError as exc:
                log.warning("could not edit in chat %s: %s", chat_id, type(exc).__name__)
                return
            for part in parts[1:]:
                if await self.send(chat_id, part) is None:
                    return
            return
        await self.send(chat_id, text)

    async def sync_started(self, chat: ChatRef, trigger: Trigger) -> int | None:
        message_id = await self.send(
            chat.chat_id, render.progress(chat.language, ProgressState(), trigger)
        )
        if message_id is not None:
            self._triggers[(chat.chat_id, message_id)] = trigger
        return message_id

    async def sync_progress(
        self, chat: ChatRef, message_id: int | None, progress: ProgressState
    ) -> None:
        if message_id is None:
            return
        trigger = self._triggers.get((chat.chat_id, message_id), Trigger.MANUAL)
        await self.edit_or_send(
            chat.chat_id, message_id, render.progress(chat.language, progress, trigger)
        )

    async def sync_finished(
        self, chat: ChatRef, message_id: int | None, summary: SyncSummary, trigger: Trigger
    ) -> None:
        text = render.summary(chat.language, summary, utcnow(), chat.timezone)
        await self.edit_or_send(chat.chat_id, message_id, text)
        self._forget(chat.chat_id, message_id)

    async def sync_failed(
        self, chat: ChatRef, message_id: int | None, failure: SyncFailure, trigger: Trigger
    ) -> None:
        text = render.failure(chat.language, failure, chat.timezone, trigger)
        await self.edit_or_send(chat.chat_id, message_id, text)
        self._forget(chat.chat_id, message_id)

    async def stock_alerts(
        self, chat: ChatRef, changes: AlertChanges, summary: SyncSummary
    ) -> None:
        await self.send(
            chat.chat_id, render.alerts(chat.language, changes, summary.low_stock_threshold)
        )

    async def key_expiring(self, chat: ChatRef, expires_at: datetime, days_left: int) -> None:
        date = render.local_time(expires_at, chat.timezone, "%d.%m.%Y")
        await self.send(chat.chat_id, t(chat.language, "key_expiring", date=date, days=days_left))

    async def sync_interrupted(self, chat: ChatRef) -> None:
        await self.send(chat.chat_id, t(chat.language, "sync_interrupted"))

    def _forget(self, chat_id: int, message_id: int | None) -> None:
        if message_id is not None:
            self._last_text.pop((chat_id, message_id), None)
            self._triggers.pop((chat_id, message_id), None)
