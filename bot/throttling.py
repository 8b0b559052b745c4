"""Per-user throttling: a cap on messages in a short window, and cooldowns on costly commands.

`MessageRateLimit` (outer middleware, before any database work) lets at most `messages` updates
per user through in `window` seconds; the first one over gets a polite note, the rest are
dropped silently until the window frees up. `CommandCooldown` (inner middleware) enforces a
cooldown on handlers registered with `flags={"cooldown": name}` (e.g. one `/sync` a minute for a
connected shop) and tells the user how long to wait.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot.texts import language_of, t
from storage.models import Tenant

Clock = Callable[[], float]
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Above this many tracked users, idle ones are forgotten (a flood of fresh ids stays bounded).
_PRUNE_ABOVE = 10_000


class Verdict(StrEnum):
    ALLOW = "allow"
    WARN = "warn"  # the first update over the cap: say so once
    DROP = "drop"


class Throttle:
    """The bookkeeping, with an injectable clock; a limit of 0 turns it off."""

    def __init__(
        self,
        messages: int,
        window: float,
        cooldowns: Mapping[str, float],
        clock: Clock = time.monotonic,
    ) -> None:
        self.messages = messages
        self.window = window
        self.cooldowns = dict(cooldowns)
        self.clock = clock  # public so a test can move time
        self._hits: dict[int, deque[float]] = {}
        self._warned: set[int] = set()
        self._last_run: dict[tuple[int, str], float] = {}

    def hit(self, user_id: int) -> Verdict:
        """Count one update from `user_id`."""
        if self.messages <= 0 or self.window <= 0:
            return Verdict.ALLOW
        now = self.clock()
        hits = self._hits.setdefault(user_id, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.messages:
            hits.append(now)
            self._warned.discard(user_id)
            self._prune(now)
            return Verdict.ALLOW
        if user_id in self._warned:
            return Verdict.DROP
        self._warned.add(user_id)
        return Verdict.WARN

    def cooldown_left(self, user_id: int, name: str) -> float:
        """Seconds until `user_id` may run `name` again; 0 means now (and starts the cooldown)."""
        seconds = self.cooldowns.get(name, 0.0)
        if seconds <= 0:
            return 0.0
        now = self.clock()
        last = self._last_run.get((user_id, name))
        if last is not None and now - last < seconds:
            return seconds - (now - last)
        self._last_run[(user_id, name)] = now
        return 0.0

    def _prune(self, now: float) -> None:
        if len(self._hits) > _PRUNE_ABOVE:
            since = now - self.window
            idle = [u for u, hits in self._hits.items() if not hits or hits[-1] <= since]
            for user_id in idle:
                del self._hits[user_id]
                self._warned.discard(user_id)
        if len(self._last_run) > _PRUNE_ABOVE:
            longest = max(self.cooldowns.values(), default=0.0)
            for key in [k for k, at in self._last_run.items() if at <= now - longest]:
                del self._last_run[key]


class MessageRateLimit(BaseMiddleware):
    """Outer middleware for messages and callback queries."""

    def __init__(self, throttle: Throttle) -> None:
        self._throttle = throttle

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        verdict = self._throttle.hit(user.id)
        if verdict is Verdict.ALLOW:
            return await handler(event, data)
        lang = language_of(user.language_code)
        try:
            if isinstance(event, CallbackQuery):
                # An unanswered button keeps spinning; the note goes in the same answer.
                text = t(lang, "throttle_too_many") if verdict is Verdict.WARN else None
                await event.answer(text)
            elif (
                verdict is Verdict.WARN
                and isinstance(event, Message)
                and event.chat.type == "private"
            ):
                await event.answer(t(lang, "throttle_too_many"))
        except TelegramAPIError:
            pass  # a note about throttling is not worth more requests
        return None


class CommandCooldown(BaseMiddleware):
    """Inner middleware: enforces the cooldown named by a handler's `cooldown` flag.

    Only a connected shop is held back; without a key the handler's own answer (connect a key)
    is more useful than a wait.
    """

    def __init__(self, throttle: Throttle) -> None:
        self._throttle = throttle

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        name = get_flag(data, "cooldown")
        user: User | None = data.get("event_from_user")
        tenant: Tenant | None = data.get("tenant")
        if (
            not isinstance(name, str)
            or user is None
            or tenant is None
            or not tenant.has_key
            or not isinstance(event, Message)
        ):
            return await handler(event, data)
        left = self._throttle.cooldown_left(user.id, name)
        if left <= 0:
            return await handler(event, data)
        lang = data.get("lang") or language_of(user.language_code)
        await event.answer(t(lang, f"throttle_{name}_wait", seconds=math.ceil(left)))
        return None
