"""The last resort: an exception no handler caught is logged (type and place, never its
message, which could hold user input such as a key) and the user gets a generic apology."""

from __future__ import annotations

import logging
import traceback

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot.texts import language_of, t

log = logging.getLogger(__name__)


def _where(exc: BaseException) -> str:
    """Where it was raised, and the innermost frame of our own code: a traceback without the
    message."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "site-packages" not in f.filename]
    places = [f"{f.filename}:{f.lineno} in {f.name}" for f in [*frames[-1:], *ours[-1:]]]
    return " <- ".join(dict.fromkeys(places))


async def unhandled_error(event: ErrorEvent, bot: Bot) -> bool:
    exc = event.exception
    log.error(
        "unhandled %s while handling update %s (%s) at %s",
        type(exc).__name__,
        event.update.update_id,
        event.update.event_type,
        _where(exc),
    )
    if isinstance(exc, TelegramForbiddenError):
        return True  # the chat cannot be reached; an apology would fail the same way
    inner = event.update.event
    user = getattr(inner, "from_user", None)
    text = t(language_of(user.language_code if user else None), "error_generic")
    try:
        if isinstance(inner, CallbackQuery):
            await inner.answer(text, show_alert=True)
        elif isinstance(inner, Message) and inner.chat.type == "private":
            await bot.send_message(inner.chat.id, text)
    except TelegramAPIError:
        pass  # nothing more to do for this update
    return True


def create_router() -> Router:
    router = Router(name="errors")
    router.errors.register(unhandled_error)
    return router
