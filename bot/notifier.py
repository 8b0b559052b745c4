"""The chat side of the sync: sends and edits messages through the aiogram Bot."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from bot import render
from core.clock import utcnow
from core.notifier import ChatRef, ProgressState, SyncFailure, SyncSummary, Trigger

log = logging.getLogger(__name__)


class TelegramNotifier:
    """Implements core.notifier.Notifier; a Telegram fault never breaks a sync."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self._last_text: dict[tuple[int, int], str] = {}
        self._triggers: dict[tuple[int, int], Trigger] = {}

    async def send(self, chat_id: int, text: str) -> int | None:
        try:
            message = await self._bot.send_message(chat_id, text)
        except TelegramAPIError as exc:
            log.warning("could not send to chat %s: %s", chat_id, type(exc).__name__)
            return None
        return message.message_id

    async def edit_or_send(self, chat_id: int, message_id: int | None, text: str) -> None:
        if message_id is not None:
            if self._last_text.get((chat_id, message_id)) == text:
                return
            try:
                await self._bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
                self._last_text[(chat_id, message_id)] = text
                return
            except TelegramBadRequest as exc:
                if "not modified" in str(exc):
                    return
                log.info("could not edit message in chat %s; sending a new one", chat_id)
            except TelegramAPIError as exc:
                log.warning("could not edit in chat %s: %s", chat_id, type(exc).__name__)
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
        text = render.failure(chat.language, failure, chat.timezone)
        await self.edit_or_send(chat.chat_id, message_id, text)
        self._forget(chat.chat_id, message_id)

    def _forget(self, chat_id: int, message_id: int | None) -> None:
        if message_id is not None:
            self._last_text.pop((chat_id, message_id), None)
            self._triggers.pop((chat_id, message_id), None)
