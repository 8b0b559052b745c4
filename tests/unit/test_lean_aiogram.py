"""bot.lean_aiogram: aiogram's models built on first use give the same results, in less memory.

Each side runs in a fresh interpreter: the eager one imports aiogram as aiogram does it, the
lean one imports it through `bot` (as the bot and the rest of the suite do).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

_SCRIPT = r"""
import json, sys

def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

if sys.argv[1] == "lean":
    import bot  # noqa: F401
import aiogram  # noqa: F401
from aiogram import Bot
from aiogram.methods import AnswerCallbackQuery, SendDocument, SendMessage
from aiogram.methods.base import Response
from aiogram.types import (
    BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update,
)

rss = rss_mb()
deferred = type(Update.__pydantic_validator__).__name__ == "MockValSer"
bot = Bot("123456:" + "A" * 35)
user = {"id": 5, "is_bot": False, "first_name": "Аня", "language_code": "ru"}
chat = {"id": 5, "type": "private", "first_name": "Аня"}
message = {
    "message_id": 10, "date": 1700000000, "chat": chat, "from": user, "text": "/sync now",
    "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
    "reply_to_message": {"message_id": 9, "date": 1699999999, "chat": chat, "text": "hi"},
    "document": {"file_id": "f", "file_unique_id": "u", "file_name": "a.xlsx"},
    "reply_markup": {"inline_keyboard": [[{"text": "ok", "callback_data": "yes"}]]},
}
updates = [
    {"update_id": 1, "message": message},
    {"update_id": 2, "callback_query": {
        "id": "q", "from": user, "chat_instance": "c", "data": "yes", "message": message}},
    {"update_id": 3, "my_chat_member": {
        "chat": chat, "from": user, "date": 1700000001,
        "old_chat_member": {"status": "member", "user": user},
        "new_chat_member": {"status": "kicked", "user": user, "until_date": 0}}},
]
out = []
for raw in updates:
    update = Update.model_validate(raw, context={"bot": bot})
    out.append(update.model_dump(mode="json", exclude_none=True))
    out.append(type(update.event).__name__)
out.append(type(Update.model_validate(updates[2]).my_chat_member.new_chat_member).__name__)
button = InlineKeyboardButton(text="x", callback_data="y")
keyboard = InlineKeyboardMarkup(inline_keyboard=[[button]])
send = SendMessage(chat_id=5, text="hello", reply_markup=keyboard)
out.append(send.model_dump(mode="json", exclude_none=True, exclude_defaults=True))
out.append(AnswerCallbackQuery(callback_query_id="q", text="ok").model_dump(exclude_none=True))
document = SendDocument(chat_id=5, document=BufferedInputFile(b"x", filename="a.txt"))
out.append(document.document.filename)
response = Response[Message].model_validate({"ok": True, "result": message}, context={"bot": bot})
out.append(response.result.model_dump(mode="json", exclude_none=True))
print(json.dumps({"rss_mb": rss, "deferred": deferred, "out": out}))
"""


def _run(mode: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def test_lean_import_defers_the_models_and_gives_the_same_results() -> None:
    eager = _run("eager")
    lean = _run("lean")
    assert eager["deferred"] is False
    assert lean["deferred"] is True
    assert lean["out"] == eager["out"]
    assert lean["out"][5] == "ChatMemberUpdated"
    assert lean["out"][6] == "ChatMemberBanned"
    # ~110 MB less measured with aiogram 3.31 / pydantic 2.13; a loose bound.
    assert lean["rss_mb"] < eager["rss_mb"] - 50, (lean["rss_mb"], eager["rss_mb"])


def test_the_suite_runs_with_the_lean_import() -> None:
    """tests/conftest.py imports `bot` first, so the suite tests the bot as it runs."""
    from aiogram.types import VideoQuality

    # A type no test uses: still waiting for its first use.
    validator = VideoQuality.__dict__.get("__pydantic_validator__")
    assert type(validator).__name__ == "MockValSer"
