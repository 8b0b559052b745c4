"""Delivering one text to many chats within Telegram's limits.

Telegram allows about 30 messages a second overall and one a second per chat; past that it
answers 429 with `retry_after`, which applies to the whole bot. The pacer spaces sends to
`per_second` overall and `chat_interval` per chat, and a 429 holds every send for the time
Telegram asks. A chat that blocked the bot (403) is reported through `on_blocked`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

MESSAGES_PER_SECOND = 25.0
CHAT_INTERVAL_SECONDS = 1.0
MAX_ATTEMPTS = 5
# A 5xx or a dropped connection is retried after this pause, doubling each time.
SERVER_ERROR_PAUSE = 1.0


@dataclass(frozen=True, slots=True)
class Recipient:
    tenant_id: int
    chat_id: int


@dataclass(slots=True)
class BroadcastProgress:
    total: int
    delivered: int = 0
    failed: int = 0
    blocked: list[int] = field(default_factory=list)  # tenant ids

    @property
    def done(self) -> int:
        return self.delivered + self.failed


class SendPacer:
    """At most `per_second` sends overall and one per chat per `chat_interval` seconds."""

    def __init__(
        self,
        per_second: float = MESSAGES_PER_SECOND,
        chat_interval: float = CHAT_INTERVAL_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._spacing = 1.0 / per_second
        self._chat_interval = chat_interval
        self._clock = clock
        self._sleep = sleep
        self._next_send = 0.0
        self._chat_next: dict[int, float] = {}
        self._lock = asyncio.Lock()

    async def wait(self, chat_id: int) -> None:
        """Return when a message to `chat_id` may go out now, and count it as sent."""
        async with self._lock:
            while True:
                now = self._clock()
                ready = max(self._next_send, self._chat_next.get(chat_id, 0.0))
                if ready <= now:
                    break
                await self._sleep(ready - now)
            self._next_send = now + self._spacing
            self._chat_next[chat_id] = now + self._chat_interval

    def hold(self, seconds: float) -> None:
        """Telegram said 429: no send at all for `seconds`."""
        self._next_send = max(self._next_send, self._clock() + seconds)


class Outcome(StrEnum):
    DELIVERED = "delivered"
    BLOCKED = "blocked"  # 403: the user blocked the bot or is gone
    FAILED = "failed"


async def deliver(
    bot: Bot,
    recipients: Sequence[Recipient],
    text: str,
    *,
    pacer: SendPacer | None = None,
    on_progress: Callable[[BroadcastProgress], Awaitable[None]] | None = None,
    on_blocked: Callable[[Recipient], Awaitable[None]] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    progress: BroadcastProgress | None = None,
) -> BroadcastProgress:
    """Send `text` to every recipient once; counts what was delivered and what failed.

    Pass `progress` to keep the counts when the delivery is cancelled half-way.
    """
    pacer = pacer or SendPacer()
    progress = progress or BroadcastProgress(total=len(recipients))
    for recipient in recipients:
        outcome = await send_one(bot, pacer, recipient.chat_id, text, sleep=sleep)
        if outcome is Outcome.DELIVERED:
            progress.delivered += 1
        else:
            progress.failed += 1
        if outcome is Outcome.BLOCKED:
            progress.blocked.append(recipient.tenant_id)
            if on_blocked is not None:
                await on_blocked(recipient)
        if on_progress is not None:
            await on_progress(progress)
    return progress


async def send_one(
    bot: Bot,
    pacer: SendPacer,
    chat_id: int,
    text: str,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    attempts: int = MAX_ATTEMPTS,
) -> Outcome:
    """One message, paced; waits out 429s and retries 5xx/network errors `attempts` times."""
    pause = SERVER_ERROR_PAUSE
    for _attempt in range(attempts):
        await pacer.wait(chat_id)
        try:
            await bot.send_message(chat_id, text)
            return Outcome.DELIVERED
        except TelegramRetryAfter as exc:
            log.info("broadcast: Telegram asks to wait %s s", exc.retry_after)
            pacer.hold(exc.retry_after)
        except TelegramForbiddenError:
            return Outcome.BLOCKED
        except (TelegramServerError, TelegramNetworkError) as exc:
            log.info("broadcast: %s for chat %s; retrying", type(exc).__name__, chat_id)
            await sleep(pause)
            pause *= 2
        except TelegramAPIError as exc:
            log.info("broadcast: chat %s refused: %s", chat_id, type(exc).__name__)
            return Outcome.FAILED
    return Outcome.FAILED


class BroadcastRegistry:
    """The broadcasts running in this process, so a shutdown can stop them."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()
        self.drafts_in_flight: set[int] = set()

    def launch(self, coroutine: Awaitable[None]) -> asyncio.Task[None]:
        async def run() -> None:
            await coroutine

        task = asyncio.create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def wait(self, timeout: float) -> bool:
        """Wait for running broadcasts; False if some still run after `timeout`."""
        if not self.tasks:
            return True
        _done, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
        return not pending

    async def cancel(self) -> None:
        tasks = set(self.tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def registry(app: App) -> BroadcastRegistry:
    found = app.extras.get("broadcasts")
    if isinstance(found, BroadcastRegistry):
        return found
    created = BroadcastRegistry()
    app.extras["broadcasts"] = created
    return created
