"""Random and hostile updates through the real dispatcher: nothing crashes, every private
message gets an answer, commands meant for other bots in a group are left alone."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiogram import Router
from aiogram.types import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.texts import t
from tests.e2e.direct import Direct, LoopApp
from tests.e2e.harness import small_seller

BOT_USERNAME = "test_wb_bot"
ADMIN = 900
COMMANDS = (
    "start",
    "help",
    "api_key",
    "cancel",
    "sync",
    "status",
    "schedule",
    "threshold",
    "sheet",
    "export",
    "admin",
    "tenants",
    "tenant",
    "pause",
    "resume",
    "force_sync",
    "jobs",
    "broadcast",
    "nonsense",
)
HOSTILE_TEXTS = (
    "/",
    "/ start",
    "//start",
    "/sync@otherbot",
    "/start@" + BOT_USERNAME,
    "/START",
    "/api_key " + "A" * 10_000,
    "/api_key a.b.c",
    "/api_key eyJ.eyJ.x",
    "/status\u202e\u202d\u200b",
    "/\t",
    "/help@",
    "@" + BOT_USERNAME + " /help",
    "/schedule 0 0 31 2 *",
    "/schedule * * * * * * *",
    "/threshold -1",
    "/threshold 1e309",
    "/threshold 99999999999999999999999",
    "/threshold NaN",
    "/sheet javascript:alert(1)",
    "/sheet https://docs.google.com/spreadsheets/d/" + "x" * 500,
    "/tenant 99999999999999999999999",
    "/tenant -1",
    "/pause 1; DROP TABLE tenants",
    "/force_sync 0",
    "/broadcast " + "я" * 5000,
    "/cancel",
    "ж" * 4096,
    "\u0000\u0001\u0002\r\n",
    "\ufeff/start",
    "/start " + "🙂" * 3000,
)
LANGUAGES = (None, "ru", "en", "en-GB", "de", "", "EN", "x" * 40)

mention = st.sampled_from(("", "", "@" + BOT_USERNAME, "@otherbot", "@"))
arguments = st.one_of(
    st.just(""),
    st.text(max_size=40).map(lambda s: " " + s),
    st.integers().map(lambda n: f" {n}"),
    st.integers(min_value=4_000, max_value=12_000).map(lambda n: " " + "9" * n),
)
command_texts = st.builds(
    lambda name, at, args: f"/{name}{at}{args}", st.sampled_from(COMMANDS), mention, arguments
)
odd_unicode = st.text(
    st.characters(categories=("Cc", "Cf", "Mn", "Me", "So", "Zl", "Zp", "Zs", "Co", "Lo")),
    min_size=1,
    max_size=300,
)
huge = st.builds(
    lambda n, s: (s * n)[: n * 2],
    st.integers(min_value=4_097, max_value=20_000),
    st.text(min_size=1, max_size=3),
)
texts = st.one_of(
    command_texts,
    st.sampled_from(HOSTILE_TEXTS),
    odd_unicode,
    huge,
    st.text(min_size=1, max_size=200),
)
entities = st.one_of(
    st.none(),
    st.lists(
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(("bot_command", "mention", "bold", "url", "spoiler")),
                "offset": st.integers(min_value=0, max_value=20_000),
                "length": st.integers(min_value=1, max_value=20_000),
            }
        ),
        max_size=3,
    ),
)


def telegram_clean(text: str) -> str:
    """What Telegram delivers of a typed text: its servers turn C0 control characters other
    than tab and newline into spaces and drop carriage returns (tdlib's clean_input_string)."""
    return "".join("" if c == "\r" else " " if ord(c) < 32 and c not in "\t\n" else c for c in text)


@dataclass(frozen=True)
class Action:
    kind: str  # message | edited | nontext | callback | stale_callback | membership
    chat_type: str
    user_id: int
    text: str
    language: str | None
    first_name: str
    entities: list[dict[str, Any]] | None
    data: str


actions = st.builds(
    Action,
    kind=st.sampled_from(
        (
            *("message", "message", "message", "edited", "nontext"),
            *("callback", "stale_callback", "membership"),
        )
    ),
    chat_type=st.sampled_from(("private", "private", "private", "group", "supergroup", "channel")),
    user_id=st.one_of(
        st.sampled_from((1001, 1002, 1003, ADMIN)),
        st.integers(min_value=10**9, max_value=2 * 10**12),  # a new user every time
    ),
    text=texts.map(telegram_clean).filter(str.strip),
    language=st.sampled_from(LANGUAGES),
    first_name=st.one_of(
        st.sampled_from(("Seller", "A\x00B", "\u202eevil", "Имя" * 200)),
        st.text(min_size=1, max_size=300),
    ),
    entities=entities,
    data=st.one_of(
        st.text(min_size=1, max_size=64),
        st.sampled_from(("sched:hourly", "sched:off", "sched:", "sched:../../etc", ":", "x" * 64)),
        st.builds(lambda n: f"sched:{n}", st.integers()),
    ),
)


_update_ids = itertools.count(10**6)


def _chat_id(action: Action) -> int:
    if action.chat_type == "private":
        return action.user_id
    return {"group": -4001, "supergroup": -1001000004002, "channel": -1001000004003}[
        action.chat_type
    ]


def _message_update(d: Direct, action: Action) -> dict[str, Any]:
    return d.tg.make_update_json(
        action.text,
        chat_id=_chat_id(action),
        user_id=None if action.chat_type == "channel" else action.user_id,
        language_code=action.language,
        chat_type=action.chat_type,
        first_name=action.first_name,
        entities=action.entities,
    )


def _build(d: Direct, action: Action) -> dict[str, Any]:
    chat_id = _chat_id(action)
    user = {"id": action.user_id, "is_bot": False, "first_name": action.first_name}
    if action.language is not None:
        user["language_code"] = action.language
    if action.kind == "edited":
        update = _message_update(d, action)
        kind = "message" if "message" in update else "channel_post"
        message = update.pop(kind)
        message["edit_date"] = int(time.time())
        update["edited_" + kind] = message
        return update
    if action.kind == "nontext":
        update = _message_update(d, action)
        message = update.get("message") or update["channel_post"]
        for key in ("text", "entities"):
            message.pop(key, None)
        message["dice"] = {"emoji": "🎲", "value": 3}
        return update
    if action.kind == "callback":
        own = [m for m in d.tg.sent_messages(chat_id) if not m["_deleted"]]
        if own:
            return d.tg.make_callback_update_json(
                chat_id,
                own[-1]["message_id"],
                action.data,
                user_id=action.user_id,
                language_code=action.language,
                check=False,
            )
    if action.kind in ("callback", "stale_callback"):
        return {
            "update_id": next(_update_ids),
            "callback_query": {
                "id": f"stale{action.user_id}{time.monotonic_ns()}",
                "from": user,
                "chat_instance": "1",
                "data": action.data,
            },
        }
    if action.kind == "membership":
        bot_user = dict(d.tg.bot_user)
        return {
            "update_id": next(_update_ids),
            "my_chat_member": {
                "chat": {"id": chat_id, "type": action.chat_type, "title": "Chat"}
                if action.chat_type != "private"
                else {"id": chat_id, "type": "private", "first_name": "Seller"},
                "from": user,
                "date": int(time.time()),
                "old_chat_member": {"status": "member", "user": bot_user},
                "new_chat_member": {"status": "kicked", "user": bot_user, "until_date": 0}
                if len(action.data) % 2
                else {"status": "member", "user": bot_user},
            },
        }
    return _message_update(d, action)


def _for_another_bot(text: str) -> bool:
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    at = first.partition("@")[2]
    return first.startswith("/") and bool(at) and at.lower() != BOT_USERNAME


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def errors() -> Iterator[Errors]:
    handler = Errors()
    logging.getLogger().addHandler(handler)
    try:
        yield handler
    finally:
        logging.getLogger().removeHandler(handler)


@pytest.fixture
def hostile_app(database_url: str, tmp_path: Path) -> Iterator[tuple[LoopApp, Direct]]:
    runner = LoopApp()
    try:
        direct = runner.start(
            database_url, tmp_path, small_seller(), throttle_messages=0, admin_ids=str(ADMIN)
        )
        yield runner, direct
    finally:
        runner.close()


def _answers(d: Direct, mark: int, chat_id: int) -> list[str]:
    return [
        call.method
        for call in d.tg.calls[mark:]
        if call.ok
        and call.method in ("sendMessage", "editMessageText", "sendDocument")
        and str(call.params.get("chat_id")) == str(chat_id)
    ]


def test_hostile_updates_never_crash_and_private_messages_get_answers(
    hostile_app: tuple[LoopApp, Direct], errors: Errors
) -> None:
    runner, d = hostile_app
    fed: list[str] = []

    @settings(
        max_examples=120,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(actions, min_size=1, max_size=5))
    def feed(batch: list[Action]) -> None:
        errors.records.clear()
        for action in batch:
            fed.append(action.kind)
            update = _build(d, action)
            chat_id = _chat_id(action)
            mark = d.tg.mark()
            runner.run(d.feed(update))
            runner.run(d.app.syncs.wait_idle(timeout=30))
            assert not errors.records, [r.getMessage() for r in errors.records]
            if action.kind == "callback" and "callback_query" in update:
                query = update["callback_query"]["id"]
                if not query.startswith("stale"):
                    assert query in d.tg.callback_answers, "every button press is answered"
            is_message = action.kind in ("message", "nontext") and "message" in update
            if not is_message:
                continue
            answers = _answers(d, mark, chat_id)
            if action.chat_type == "private":
                assert answers, f"no answer to {action.text[:80]!r}"
            elif action.kind == "message" and _for_another_bot(action.text):
                assert not answers, f"answered {action.text[:80]!r} meant for another bot"

    feed()
    assert len(fed) > 200 and set(fed) >= {"message", "edited", "callback", "membership"}
    assert not d.tg.server_errors


def test_tampered_callback_data_gets_a_short_answer(
    hostile_app: tuple[LoopApp, Direct], errors: Errors
) -> None:
    runner, d = hostile_app
    runner.run(d.says("/help"))
    [help_message] = d.tg.sent_messages(1001)
    for data in ("sched:../../admin", "evil:1", "x" * 64):
        update = d.tg.make_callback_update_json(1001, help_message["message_id"], data, check=False)
        runner.run(d.feed(update))
        answer = d.tg.callback_answers[update["callback_query"]["id"]]
        assert answer.get("text"), f"{data!r} got an empty answer"
    assert "кнопка устарела" in answer["text"]
    assert not errors.records


def test_commands_for_another_bot_in_a_group_are_left_alone(
    hostile_app: tuple[LoopApp, Direct],
) -> None:
    runner, d = hostile_app
    for text in ("/sync@otherbot", "/start@otherbot", "/nonsense@otherbot"):
        runner.run(d.says(text, chat_id=-4001, user_id=1001, chat_type="group"))
    assert d.tg.calls_to("sendMessage") == []
    runner.run(d.says("/nonsense@" + BOT_USERNAME, chat_id=-4001, user_id=1001, chat_type="group"))
    assert d.tg.texts(-4001) == [t("ru", "unknown_command")]


def test_an_unhandled_error_is_logged_without_its_message_and_answered_politely(
    hostile_app: tuple[LoopApp, Direct], errors: Errors
) -> None:
    runner, d = hostile_app
    secret = "eyJhbGciOiJFUzI1NiIsInNlY3JldCI6dHJ1ZX0.secret-part-of-a-key"

    async def broken(message: Message) -> None:
        raise ValueError(f"boom with {secret}")

    # No feature handles edited messages, so a test-only handler for them is reached.
    router = Router(name="broken-for-test")
    router.edited_message.register(broken)
    d.app.dispatcher.include_router(router)
    update = d.tg.make_update_json("/status", language_code="en")
    update["edited_message"] = {**update.pop("message"), "edit_date": int(time.time())}
    runner.run(d.feed(update))
    [record] = errors.records
    logged = record.getMessage()
    assert "ValueError" in logged and "broken" in logged
    assert secret not in logged and "boom" not in logged and record.exc_info is None
    assert "Something went wrong" in d.tg.texts(1001)[-1]
    errors.records.clear()


def test_a_name_with_control_characters_registers_cleanly(
    hostile_app: tuple[LoopApp, Direct], errors: Errors
) -> None:
    runner, d = hostile_app
    runner.run(d.says("/start", first_name="A\x00B\x07", chat_id=1005, user_id=1005))
    assert "Здравствуйте" in d.tg.texts(1005)[-1]
    assert runner.run(d.tenant(1005)).user_name == "A B"
    assert not errors.records
