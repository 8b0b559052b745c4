"""Every user-facing string, one module per language; `t` picks and fills one."""

from __future__ import annotations

from typing import Any

from bot.texts import en, ru

LANGUAGES: dict[str, dict[str, str]] = {"ru": ru.TEXTS, "en": en.TEXTS}
DEFAULT_LANGUAGE = "ru"


def language_of(telegram_code: str | None) -> str:
    """English for users whose Telegram language is English; Russian otherwise."""
    if telegram_code and telegram_code.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def t(lang: str, key: str, **values: Any) -> str:
    texts = LANGUAGES.get(lang, LANGUAGES[DEFAULT_LANGUAGE])
    template = texts.get(key) or LANGUAGES[DEFAULT_LANGUAGE][key]
    return template.format(**values) if values else template
