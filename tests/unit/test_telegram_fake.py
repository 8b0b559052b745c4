"""FakeTelegram driven by the real aiogram Bot / Dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from tests.fakes.telegram import ApiCall, FakeTelegram, FakeTelegramTimeout, UploadedFile

TOKEN = "123456:TEST"


def _keyboard(*datas: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=d.title(), callback_data=d) for d in datas]]
    )


def make_bot(tg: FakeTelegram, token: str = TOKEN, *, html: bool = False) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(tg.url))
    default = DefaultBotProperties(parse_mode="HTML") if html else None
    return Bot(token, session=session, default=default)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(tg)
    try:
        yield bot
    finally:
        await bot.session.close()


def echo_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        name = message.from_user.first_name if message.from_user else "?"
        await message.answer(f"Hello, {name}!", reply_markup=_keyboard("edit", "noop"))

    @router.message(Command("doc"))
    async def doc(message: Message) -> None:
        await message.answer_document(
            BufferedInputFile(b"sku;qty\n1;5\n", filename="stock.csv"), caption="Stock"
        )

    @router.message(F.text == "delete me")
    async def delete_me(message: Message) -> None:
        await message.delete()
        await message.answer("deleted")

    @router.message(F.document)
    async def got_document(message: Message) -> None:
        assert message.document is not None
        assert message.bot is not None
        data = await message.bot.download(message.document.file_id)
        assert data is not None
        await message.answer(f"got {message.document.file_name}: {data.read().decode()}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    @router.edited_message(F.text)
    async def edited(message: Message) -> None:
        await message.answer(f"edited: {message.text}")

    @router.callback_query(F.data == "edit")
    async def on_edit(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Edited!", reply_markup=_keyboard("noop"))
        await query.answer("done")

    return router


@contextlib.asynccontextmanager
async def polling(bot: Bot, router: Router) -> AsyncIterator[Dispatcher]:
    """Run dp.start_polling in a task; stop it cleanly on exit."""
    dp = Dispatcher()
    dp.include_router(router)
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
    )
    try:
        yield dp
    finally:
        with contextlib.suppress(RuntimeError):  # "Polling is not started" if it died early
            await dp.stop_polling()
        await task


# ---------------------------------------------------------------- end to end with polling


async def test_polling_echo_edit_delete_document_callback(tg: FakeTelegram, bot: Bot) -> None:
    async with polling(bot, echo_router()):
        await tg.wait_polling()
        user_msg = tg.user_says("/start", first_name="Ivan")
        hello = await tg.wait_for_message(1001, "Hello, Ivan!")
        assert hello["from"]["username"] == "test_wb_bot"
        assert hello["chat"]["id"] == 1001
        assert hello["message_id"] > user_msg
        assert hello["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "edit"

        query_id = tg.press_button(1001, hello["message_id"], "edit")
        edited = await tg.wait_for_message(1001, "Edited!", include_edits=True)
        assert edited["message_id"] == hello["message_id"]
        assert [h["text"] for h in edited["_history"]] == ["Hello, Ivan!"]
        await tg.wait_until(lambda: query_id in tg.callback_answers)
        assert tg.callback_answers[query_id]["text"] == "done"

        to_delete = tg.user_says("delete me")
        await tg.wait_for_message(1001, "deleted")
        assert tg.deleted(1001) == {to_delete}

        tg.user_says("/doc")
        await tg.wait_for_call("sendDocument")
        [document] = tg.documents(1001)
        assert (document.filename, document.content) == ("stock.csv", b"sku;qty\n1;5\n")
        assert document.caption == "Stock"
        call = tg.calls_to("sendDocument")[0]
        assert call.params["document"] == UploadedFile(
            "stock.csv", b"sku;qty\n1;5\n", call.params["document"].content_type
        )

        tg.user_says("123")
        reply = await tg.wait_for_message(1001)
        assert reply["text"] == "echo: 123"  # text "123" is not JSON-decoded to an int

        mid = tg.user_says("first")
        await tg.wait_for_message(1001, "echo: first")
        tg.edit_user_message(1001, mid, "second")
        await tg.wait_for_message(1001, "edited: second")

        tg.user_sends_document("in.txt", b"payload")
        await tg.wait_for_message(1001, "got in.txt: payload")

    texts = tg.texts(1001)
    assert texts[0] == "Edited!"
    assert "deleted" in texts
    history = tg.chat_history(1001)
    assert history[0]["text"] == "/start"
    assert history[0]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert [m["message_id"] for m in history] == sorted(m["message_id"] for m in history)
    assert tg.send_times(1001) == sorted(tg.send_times(1001))
    assert len(tg.send_times(1001)) == len(tg.sent_messages(1001))
    assert not tg.pending_updates


async def test_polling_survives_fault_and_group_updates(tg: FakeTelegram, bot: Bot) -> None:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"{message.chat.type}: {message.text}")

    async with polling(bot, router):
        tg.user_says("hi all", chat_id=-100500, user_id=7, chat_type="supergroup")
        reply = await tg.wait_for_message(-100500)
        assert reply["text"] == "supergroup: hi all"
        assert reply["chat"]["type"] == "supergroup"

        # callback_query is not in allowed_updates (no handler) -> Telegram never delivers it
        tg.add_update(
            {
                "message": {
                    "message_id": 50,
                    "date": int(time.time()),
                    "chat": {"id": 1001, "type": "private", "first_name": "Seller"},
                    "from": {"id": 1001, "is_bot": False, "first_name": "Seller"},
                    "text": "raw",
                }
            }
        )
        assert (await tg.wait_for_message(1001))["text"] == "private: raw"


# ---------------------------------------------------------------- direct API behaviour


async def test_get_me_and_unauthorized(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "test_wb_bot"
    assert me.id == 123456
    other = make_bot(tg, "999:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await other.get_me()
    finally:
        await other.session.close()


async def test_unknown_method_is_404_and_recorded(tg: FakeTelegram) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{tg.url}/bot{TOKEN}/frobnicate", data={"x": "1"}) as resp,
    ):
        assert resp.status == 404
        assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert tg.calls[-1].method == "frobnicate"
    assert tg.calls[-1].params == {"x": 1}
    assert tg.calls[-1].error_code == 404


async def test_json_body_and_case_insensitive_method(tg: FakeTelegram) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{tg.url}/bot{TOKEN}/SENDMESSAGE", json={"chat_id": 5, "text": "hi"}) as resp,
    ):
        body = await resp.json()
    assert body["ok"] is True
    assert body["result"]["text"] == "hi"
    assert tg.calls[-1].method == "sendMessage"


async def test_send_message_ids_increase_per_chat(tg: FakeTelegram, bot: Bot) -> None:
    a1 = await bot.send_message(1, "a1")
    a2 = await bot.send_message(1, "a2")
    b1 = await bot.send_message(2, "b1")
    assert (a1.message_id, a2.message_id, b1.message_id) == (1, 2, 1)
    assert a1.from_user is not None and a1.from_user.is_bot
    assert [m["text"] for m in tg.sent_messages(1)] == ["a1", "a2"]


async def test_retry_after_is_surfaced(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", retry_after=3, description="Too Many Requests: retry after 3")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(1001, "x")
    assert info.value.retry_after == 3
    assert (await bot.send_message(1001, "y")).text == "y"  # only once
    assert [c.ok for c in tg.calls_to("sendMessage")] == [False, True]
    assert tg.calls_to("sendMessage")[0].error_code == 429


async def test_fault_restricted_to_chat_and_times(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("*", error_code=502, description="Bad Gateway", times=2, chat_id=7)
    await bot.send_message(8, "fine")
    for _ in range(2):
        with pytest.raises(Exception, match="Bad Gateway"):
            await bot.send_message(7, "x")
    await bot.send_message(7, "ok now")


async def test_blocked_chat_is_forbidden(tg: FakeTelegram, bot: Bot) -> None:
    tg.block_chat(1001)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(1001, "x")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_document(1001, BufferedInputFile(b"1", "a.txt"))
    tg.unblock_chat(1001)
    await bot.send_message(1001, "back")


async def test_migrated_chat(tg: FakeTelegram, bot: Bot) -> None:
    tg.migrate_chat(-42, -1000000000042)
    with pytest.raises(TelegramMigrateToChat) as info:
        await bot.send_message(-42, "x")
    assert info.value.migrate_to_chat_id == -1000000000042


async def test_text_limits(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(1, "я" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(1, "я" * 4097)
    sent = await bot.send_message(1, "short")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.edit_message_text("x" * 5000, chat_id=1, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_document(1, BufferedInputFile(b"1", "a.txt"), caption="c" * 1025)


async def test_html_parsing(tg: FakeTelegram) -> None:
    html_bot = make_bot(tg, html=True)
    try:
        msg = await html_bot.send_message(1, "<b>Stock</b> &lt;5 &amp; <i>low</i>")
        assert msg.text == "Stock <5 & low"
        stored = tg.last_message(1)
        assert stored["entities"] == [
            {"type": "bold", "offset": 0, "length": 5},
            {"type": "italic", "offset": 11, "length": 3},
        ]
        with pytest.raises(TelegramBadRequest, match="Unsupported start tag"):
            await html_bot.send_message(1, "qty < 5")
        with pytest.raises(TelegramBadRequest, match="Can't find end tag"):
            await html_bot.send_message(1, "<b>open")
        with pytest.raises(TelegramBadRequest, match="is reserved"):
            await html_bot.send_message(1, "1.5", parse_mode="MarkdownV2")
        ok = await html_bot.send_message(1, r"*bold* 1\.5", parse_mode="MarkdownV2")
        assert ok.text == "bold 1.5"
    finally:
        await html_bot.session.close()


async def test_edit_errors(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(1, "same", reply_markup=_keyboard("a"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "same", chat_id=1, message_id=sent.message_id, reply_markup=_keyboard("a")
        )
    # same text but markup dropped -> modified
    edited = await bot.edit_message_text("same", chat_id=1, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=1, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=1, message_id=sent.message_id)
    await bot.edit_message_reply_markup(
        chat_id=1, message_id=sent.message_id, reply_markup=_keyboard("b")
    )
    assert tg.last_message(1)["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "b"
    assert len(tg.last_message(1)["_history"]) == 2


async def test_delete_message(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(1, "bye")
    assert await bot.delete_message(1, sent.message_id) is True
    assert tg.deleted(1) == {sent.message_id}
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(1, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=1, message_id=sent.message_id)


async def test_inline_button_validation(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(1, "x", reply_markup=_keyboard("d" * 65))
    sent = await bot.send_message(1, "x", reply_markup=_keyboard("ok"))
    with pytest.raises(ValueError, match="no button"):
        tg.press_button(1, sent.message_id, "missing")


async def test_commands(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Начать")])
    await bot.set_my_commands(
        [BotCommand(command="stock", description="Остатки")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="ru",
    )
    assert tg.commands() == [{"command": "start", "description": "Начать"}]
    assert tg.commands("ru", scope={"type": "all_private_chats"}) == [
        {"command": "stock", "description": "Остатки"}
    ]
    assert tg.commands("ru") == []
    fetched = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    assert [c.command for c in fetched] == ["stock"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Cmd", description="x")])


async def test_chat_action_callback_answer_and_get_chat(tg: FakeTelegram, bot: Bot) -> None:
    assert await bot.send_chat_action(1001, "upload_document") is True
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat(555)
    tg.user_says("hi", first_name="Olga")
    chat = await bot.get_chat(1001)
    assert chat.type == "private" and chat.first_name == "Olga"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("nope")


async def test_long_polling_waits_and_honours_offset(tg: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9

    async def later() -> None:
        await asyncio.sleep(0.2)
        tg.user_says("wake")

    waker = asyncio.create_task(later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    await waker
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["wake"]

    tg.user_says("a")
    tg.user_says("b")
    again = await bot.get_updates(limit=2)  # not confirmed yet: "wake" is redelivered
    assert [u.update_id for u in again] == [updates[0].update_id, updates[0].update_id + 1]
    rest = await bot.get_updates(offset=again[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["b"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == []
    assert tg.pending_updates == []


async def test_allowed_updates_filter(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(1001, "pick", reply_markup=_keyboard("x"))
    tg.press_button(1001, sent.message_id, "x")
    tg.user_says("text")
    updates = await bot.get_updates(allowed_updates=["message"])
    assert [u.event_type for u in updates] == ["message"]
    assert tg.dropped_updates[0]["callback_query"]["data"] == "x"


async def test_webhook_methods_and_conflict(tg: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_webhook("https://example.com/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.com/hook"
    with pytest.raises(TelegramConflictError):
        await bot.get_updates()
    tg.user_says("queued")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == []


async def test_make_update_json_is_not_enqueued(tg: FakeTelegram, bot: Bot) -> None:
    update = tg.make_update_json("/start deep", chat_id=77)
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert update["message"]["from"]["language_code"] == "ru"
    assert tg.pending_updates == []
    # the message exists in the chat, so the bot can delete it
    assert await bot.delete_message(77, update["message"]["message_id"])
    sent = await bot.send_message(77, "menu", reply_markup=_keyboard("x"))
    callback = tg.make_callback_update_json(77, sent.message_id, "x")
    assert callback["callback_query"]["message"]["text"] == "menu"
    assert callback["update_id"] > update["update_id"]
    assert tg.pending_updates == []


async def test_rate_limit_enforcement(tg: FakeTelegram, bot: Bot) -> None:
    tg.set_rate_limit(per_chat=2, window=10, retry_after=5)
    await bot.send_message(1, "1")
    await bot.send_message(1, "2")
    await bot.send_message(2, "other chat")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(1, "3")
    assert info.value.retry_after == 5
    assert len(tg.send_times(1)) == 2
    assert len(tg.send_times()) == 3


async def test_wait_helpers(tg: FakeTelegram, bot: Bot) -> None:
    mark = tg.mark()

    async def send_later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(3, "not this")
        await bot.send_message(3, "this one")

    task = asyncio.create_task(send_later())
    found = await tg.wait_for_message(3, lambda m: m["text"].startswith("this"), since=mark)
    await task
    assert found["text"] == "this one"
    call: ApiCall = await tg.wait_for_call(
        "sendMessage", lambda c: c.params["text"] == "not this", since=mark
    )
    assert call.params["chat_id"] == 3
    with pytest.raises(FakeTelegramTimeout, match="no matching bot message"):
        await tg.wait_for_message(3, since=tg.mark(), timeout=0.1)


async def test_concurrent_get_updates_conflict(tg: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_polling()
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    assert await second == []


async def test_close_releases_pending_long_poll() -> None:
    async with FakeTelegram() as fake:
        bot = make_bot(fake)
        try:
            poll = asyncio.create_task(bot.get_updates(timeout=30))
            await fake.wait_polling()
            started = time.monotonic()
            await fake.close()
            assert await poll == []
            assert time.monotonic() - started < 2
        finally:
            await bot.session.close()


async def test_webhook_style_update_sets_default_since(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(1001, "old")
    update = tg.make_update_json("/stock")
    assert update["message"]["chat"]["id"] == 1001

    async def webhook_handler() -> None:  # stands in for the bot's webhook endpoint
        await bot.send_message(1001, "reply to /stock")

    await webhook_handler()
    assert (await tg.wait_for_message(1001))["text"] == "reply to /stock"
