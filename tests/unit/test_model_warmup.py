"""The aiogram models the bot uses are built at start-up (bot.model_warmup), not on first use
in the middle of a busy minute."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from aiogram import Bot, methods, types
from aiogram.methods import Response
from aiogram.types import CallbackQuery, Message
from pydantic._internal import _generics

import bot  # noqa: F401  (imports aiogram as the bot does)
from bot.model_warmup import METHODS_IN_USE, TYPES_IN_USE, build_models_in_use

ROOT = Path(__file__).resolve().parents[2]
# Names of Bot API methods that our code calls on other objects: `.close()` closes sessions,
# cursors and files (the Bot API's close is never called).
NOT_BOT_CALLS = {"close"}


def test_the_models_in_use_are_built_and_kept() -> None:
    built = build_models_in_use()
    assert len(built) == len(METHODS_IN_USE)
    for name in TYPES_IN_USE:
        assert getattr(types, name).__pydantic_complete__, name
    strong = [m for m in _generics._GENERIC_TYPES_CACHE.maps[1:] if isinstance(m, dict)]
    for name, response_type in zip(METHODS_IN_USE, built, strict=True):
        assert response_type.__pydantic_complete__, name
        assert any(response_type in m.values() for m in strong), name
        # What aiogram parametrizes on a call is this very model: nothing left to build.
        assert Response[getattr(methods, name).__returning__] is response_type  # type: ignore[name-defined]


def _methods_called_in(package: str) -> set[str]:
    """The Bot API methods the package's code calls: Bot's own methods (bot.send_message) and
    the shortcuts of messages and callback queries (message.answer), found by name."""
    called: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name in NOT_BOT_CALLS:
                continue
            if callable(getattr(Bot, name, None)) and not name.startswith("_"):
                camel = "".join(part.capitalize() for part in name.split("_"))
                if hasattr(methods, camel):
                    called.add(camel)
            for owner in (Message, CallbackQuery):
                shortcut = getattr(owner, name, None)
                if callable(shortcut) and not name.startswith("_"):
                    returned = inspect.signature(shortcut).return_annotation
                    returned = getattr(returned, "__name__", returned)
                    if isinstance(returned, str) and hasattr(methods, returned):
                        called.add(returned)
    return called


def test_every_method_the_code_calls_is_built_ahead() -> None:
    called = _methods_called_in("bot") | _methods_called_in("core")
    assert {"SendMessage", "EditMessageText", "AnswerCallbackQuery"} <= called  # found at all
    assert called <= set(METHODS_IN_USE), called - set(METHODS_IN_USE)
