"""Bot API faults handled once, under every request: flood control, blocked and moved chats."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import AnswerCallbackQuery
from aiogram.methods.base import TelegramMethod, TelegramType
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.tenants import mark_chat_blocked, move_chat

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response

log = logging.getLogger(__name__)

# asyncio timers may fire a hair early; Telegram counts whole seconds, so never retry before.
RETRY_MARGIN_SECONDS = 0.05

Sleep = Callable[[float], Awaitable[None]]
TenantListener = Callable[[int], Awaitable[None]]


def _chat_id(method: TelegramMethod[TelegramType]) -> int | None:
    chat_id = getattr(method, "chat_id", None)
    return chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else None


class FloodControl(BaseRequestMiddleware):
    """Waits out 429 "Too Many Requests" exactly as long as Telegram says, a bounded number of
    times; a wait longer than `max_wait` is not waited at all (the caller gets the error)."""

    def __init__(self, attempts: int, max_wait: float, sleep: Sleep = asyncio.sleep) -> None:
        self._attempts = attempts
        self._max_wait = max_wait
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        retries = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                name = type(method).__name__
                if retries >= self._attempts or exc.retry_after > self._max_wait:
                    log.warning(
                        "Telegram flood control on %s: retry after %s s; giving up after %s tries",
                        name,
                        exc.retry_after,
                        retries + 1,
                    )
                    raise
                retries += 1
                log.info("Telegram flood control on %s: waiting %s s", name, exc.retry_after)
                await self._sleep(exc.retry_after + RETRY_MARGIN_SECONDS)


class StaleCallbacks(BaseRequestMiddleware):
    """Answering a button press Telegram no longer waits for ("query is too old", e.g. pressed
    while the bot was down) is a no-op, not an error that breaks the handler."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if not isinstance(method, AnswerCallbackQuery) or "query" not in exc.message:
                raise
            log.info("a button press expired before it was answered")
            # Sessions hand back the method's result (True for this method), not a Response.
            return cast("Response[TelegramType]", True)


class ChatFaults(BaseRequestMiddleware):
    """Learns from failed requests: 403 marks the chat's tenant inactive (and tells
    `on_blocked` listeners, e.g. the scheduler); a chat upgraded to a supergroup moves the
    tenant to the new id and the request is sent there."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        on_blocked: list[TenantListener] | None = None,
    ) -> None:
        self._sessions = sessions
        self.on_blocked: list[TenantListener] = list(on_blocked or ())

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramForbiddenError:
            chat_id = _chat_id(method)
            if chat_id is not None:
                await self._blocked(chat_id)
            raise
        except TelegramMigrateToChat as exc:
            chat_id = _chat_id(method)
            if chat_id is None:
                raise
            try:
                await move_chat(self._sessions, chat_id, exc.migrate_to_chat_id)
            except SQLAlchemyError as db_error:
                log.warning("could not record a chat migration: %s", type(db_error).__name__)
            moved = method.model_copy(update={"chat_id": exc.migrate_to_chat_id})
            return await make_request(bot, moved)

    async def _blocked(self, chat_id: int) -> None:
        try:
            tenant_id = await mark_chat_blocked(self._sessions, chat_id)
        except SQLAlchemyError as exc:
            # The Telegram error matters more to the caller than our bookkeeping.
            log.warning("could not mark a blocked chat inactive: %s", type(exc).__name__)
            return
        if tenant_id is None:
            return
        for listener in self.on_blocked:
            try:
                await listener(tenant_id)
            except Exception as exc:
                log.warning("a blocked-chat listener failed: %s", type(exc).__name__)


# Waiting for Telegram at start-up: quick at first, then every half minute.
STARTUP_FIRST_WAIT_SECONDS = 1.0
STARTUP_MAX_WAIT_SECONDS = 30.0


async def wait_for_telegram(
    bot: Bot,
    call: Callable[[], Awaitable[object]] | None = None,
    *,
    stop: asyncio.Event | None = None,
    first_wait: float = STARTUP_FIRST_WAIT_SECONDS,
    max_wait: float = STARTUP_MAX_WAIT_SECONDS,
) -> bool:
    """Make `call` (by default getMe) until Telegram answers, so an outage at start-up does not
    end the process (aiogram's polling gives up at once when its first getMe fails).

    False when `stop` was set while waiting. A refused token is not an outage:
    TelegramUnauthorizedError is raised for the caller to exit on.
    """
    attempt = call if call is not None else bot.me
    wait = first_wait
    failures = 0
    while True:
        try:
            await attempt()
        except TelegramUnauthorizedError:
            log.error("Telegram refused BOT_TOKEN (401 Unauthorized): check the token")
            raise
        except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter, TimeoutError) as exc:
            failures += 1
            # The exception text can carry the request URL, which holds the token: name only.
            log.warning(
                "Telegram is not reachable (%s, attempt %d); retrying in %.0f s",
                type(exc).__name__,
                failures,
                wait,
            )
            if stop is None:
                await asyncio.sleep(wait)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)
                if stop.is_set():
                    return False
            wait = min(wait * 2, max_wait)
        else:
            if failures:
                log.info("Telegram answered after %d failed attempts", failures)
            return True
