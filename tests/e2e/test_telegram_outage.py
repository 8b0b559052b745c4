"""Telegram down when the bot starts: the process waits for it instead of exiting; a token
Telegram refuses still ends the process, with a clear message."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from pathlib import Path

import pytest
from aiogram.exceptions import TelegramUnauthorizedError

from bot.__main__ import _run
from bot.app import create_app, run_polling
from bot.webhook import run_webhook
from core.settings import Settings
from tests.e2e.harness import BOT_TOKEN, make_settings, small_seller
from tests.fakes.telegram import FakeTelegram
from tests.fakes.wb import FakeWB

# getMe is retried after 1 s, then 2 s: by then at least two attempts were refused.
DOWN_SECONDS = 2.5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _settings_for_telegram_down(
    database_url: str, tmp_path: Path, wb: FakeWB, **overrides: object
) -> tuple[FakeTelegram, Settings]:
    """A fake Telegram on a fixed port, stopped: the settings point at a closed port."""
    tg = FakeTelegram(token=BOT_TOKEN, port=_free_port())
    await tg.start()
    settings = make_settings(database_url, tmp_path, tg, wb, **overrides)
    await tg.close()
    return tg, settings


def _outage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "Telegram is not reachable" in r.getMessage()]


async def test_polling_waits_for_telegram_at_start_up_then_answers(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with FakeWB(small_seller()) as wb:
        tg, settings = await _settings_for_telegram_down(database_url, tmp_path, wb)
        app = await create_app(settings)
        polling = asyncio.create_task(run_polling(app))
        await asyncio.sleep(DOWN_SECONDS)
        assert not polling.done(), "the bot gave up while Telegram was down"
        assert len(_outage_warnings(caplog)) >= 2
        assert app.background is not None and app.background.scheduler.running
        await tg.start()
        try:
            tg.user_says("/start")
            await tg.wait_until(lambda: any("Здравствуйте" in t for t in tg.texts(1001)), 20)
            await app.dispatcher.stop_polling()
            await asyncio.wait_for(polling, 30)
        finally:
            await tg.close()
    assert app.http.closed
    token_secret = BOT_TOKEN.split(":", 1)[1]
    assert not any(token_secret in r.getMessage() for r in caplog.records)


async def test_a_stop_while_telegram_is_down_shuts_down_cleanly(
    database_url: str, tmp_path: Path
) -> None:
    async with FakeWB(small_seller()) as wb:
        _tg, settings = await _settings_for_telegram_down(database_url, tmp_path, wb)
        app = await create_app(settings)
        polling = asyncio.create_task(run_polling(app))
        await asyncio.sleep(1.5)
        polling.cancel()  # what serve() does on SIGTERM before polling has started
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(polling, 30)
    assert app.http.closed
    assert app.background is not None and not app.background.scheduler.running


async def test_webhook_mode_keeps_trying_to_set_the_webhook(
    database_url: str, tmp_path: Path
) -> None:
    async with FakeWB(small_seller()) as wb:
        tg, settings = await _settings_for_telegram_down(
            database_url, tmp_path, wb, webhook_url="https://bot.example.test/hook", port=0
        )
        app = await create_app(settings)
        stop = asyncio.Event()
        started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(run_webhook(app, stop, host="127.0.0.1", started=started))
        await asyncio.sleep(DOWN_SECONDS)
        assert not task.done() and not started.done()
        await tg.start()
        try:
            await asyncio.wait_for(started, 20)
            assert tg.webhook.get("url") == "https://bot.example.test/hook"
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            await tg.close()
    assert app.http.closed


async def test_a_token_telegram_refuses_ends_the_process_with_a_clear_message(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    thresholds = gc.get_threshold()  # `_run` tunes the collector as the real process does
    try:
        async with FakeTelegram(token=BOT_TOKEN) as tg, FakeWB(small_seller()) as wb:
            settings = make_settings(
                database_url, tmp_path, tg, wb, bot_token="123456:REFUSED-TOKEN"
            )
            code = await asyncio.wait_for(_run(settings), 30)
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    assert code == 4
    messages = [r.getMessage() for r in caplog.records]
    assert any("refused BOT_TOKEN" in m for m in messages)
    assert not any("REFUSED-TOKEN" in m for m in messages)
    assert tg.calls_to("getUpdates") == []


async def test_run_polling_raises_on_a_refused_token(database_url: str, tmp_path: Path) -> None:
    async with FakeTelegram(token=BOT_TOKEN) as tg, FakeWB(small_seller()) as wb:
        settings = make_settings(database_url, tmp_path, tg, wb, bot_token="123456:REFUSED-TOKEN")
        app = await create_app(settings)
        with pytest.raises(TelegramUnauthorizedError):
            await asyncio.wait_for(run_polling(app), 30)
    assert app.http.closed
