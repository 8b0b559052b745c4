"""The Telegram side of the bot (aiogram); importing it imports aiogram lean (bot.lean_aiogram)
and keeps the per-request response types alive (bot.response_types)."""

from bot.lean_aiogram import import_aiogram
from bot.response_types import keep_generic_models

import_aiogram()
keep_generic_models()
