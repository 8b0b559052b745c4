"""The Telegram side of the bot (aiogram); importing it imports aiogram lean (bot.lean_aiogram)."""

from bot.lean_aiogram import import_aiogram

import_aiogram()
