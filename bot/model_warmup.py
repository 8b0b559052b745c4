"""Build, at start-up, the aiogram models the bot uses, instead of on their first use.

The lean import (bot.lean_aiogram) leaves aiogram's types to be built when first used, and
aiogram parametrizes `Response[...]` for each method's answer on its first call. Either costs
50-150 ms of schema building on the event loop, and the first progress edit of the first
sync came in the middle of a busy minute: the responsiveness benchmark caught a 144 ms stall
there (docs/performance.md, item 27). Building the few the bot uses up front costs ~0.2 s of
start-up and ~12 MB, which the first chat would have paid anyway.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

# The Bot API methods this process calls: polling and webhook set-up, the notifier, the
# routers (tests/unit/test_model_warmup.py checks the source against this list).
METHODS_IN_USE = (
    "GetMe",
    "GetUpdates",
    "DeleteWebhook",
    "SetWebhook",
    "GetWebhookInfo",
    "SetMyCommands",
    "SendMessage",
    "SendDocument",
    "SendChatAction",
    "EditMessageText",
    "EditMessageReplyMarkup",
    "DeleteMessage",
    "AnswerCallbackQuery",
)
# The types the bot receives or makes itself.
TYPES_IN_USE = ("Update", "ErrorEvent", "InlineKeyboardMarkup", "InlineKeyboardButton")


def build_models_in_use() -> list[Any]:
    """Build them now; returns the response types (pydantic's cache keeps them too, see
    bot.response_types). If aiogram renames one, it is skipped with a warning."""
    from aiogram import methods, types
    from aiogram.methods import Response

    built: list[Any] = []
    for name in TYPES_IN_USE:
        model = getattr(types, name, None)
        if model is None:
            log.warning("aiogram has no type %s; not built ahead", name)
            continue
        model.model_rebuild()  # builds a deferred model; nothing when it is built already
    for name in METHODS_IN_USE:
        method = getattr(methods, name, None)
        if method is None:
            log.warning("aiogram has no method %s; its answers' type not built ahead", name)
            continue
        built.append(Response[method.__returning__])  # type: ignore[name-defined]
    return built
