"""Graceful shutdown: stop taking updates, let syncs finish for a bounded time, else record
them as interrupted; the scheduler stops cleanly. Also through a real SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from sqlalchemy import select

from bot.app import App, create_app
from bot.lifecycle import serve
from core.leases import SCHEDULER_LEASE
from storage.db import create_engine, session_factory
from storage.models import Lease, SyncLog
from tests.e2e.harness import BOT_TOKEN, Harness, make_settings, onboard, running_bot, small_seller
from tests.fakes.telegram import FakeTelegram
from tests.fakes.wb import FakeWB


async def _stored(database_url: str) -> tuple[list[SyncLog], list[Lease]]:
    """Read the database afresh (the app's own engine is closed by then)."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            logs = list((await session.execute(select(SyncLog).order_by(SyncLog.id))).scalars())
            leases = list((await session.execute(select(Lease))).scalars())
        return logs, leases
    finally:
        await engine.dispose()


async def _until(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def _start_slow_sync(h: Harness) -> None:
    """A Personal key's sync that sits polling WB's remains report."""
    h.tg.user_says("/sync")
    await _until(lambda: h.wb.calls("remains_status") >= 1, timeout=30)
    assert h.app.syncs.running_count == 1


async def test_a_sync_still_running_after_the_grace_time_is_recorded_interrupted(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller, shutdown_grace_seconds=1) as h:
        h.wb.remains_polls_until_done = 1000  # the report never gets ready
        await onboard(h, seller)
        await _start_slow_sync(h)
        started = time.monotonic()
        await h.app.dispatcher.stop_polling()  # what SIGTERM does
        await _until(lambda: h.app.http.closed, timeout=20)
        assert time.monotonic() - started < 1 + 8
        # Updates are no longer taken.
        mark = h.tg.mark()
        h.tg.user_says("/status")
        await asyncio.sleep(1)
        assert h.tg.calls_to("sendMessage", since=mark) == []
        # The seller's progress message says what happened.
        text = await h.wait_text(1001, "прервалась")
        assert text.endswith("Синхронизация прервалась (перезапуск бота). Запустите /sync ещё раз.")
        # The scheduler stopped and gave up its lease, so a new process can take over at once.
        assert h.app.background is not None and not h.app.background.scheduler.running
    logs, leases = await _stored(database_url)
    [log] = logs
    assert (log.trigger, log.status) == ("manual", "interrupted")
    assert log.finished_at is not None and log.error is not None and "interrupted" in log.error
    assert SCHEDULER_LEASE not in {lease.name for lease in leases}


async def test_a_sync_that_finishes_within_the_grace_time_completes(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller, shutdown_grace_seconds=60) as h:
        h.wb.remains_polls_until_done = 2  # ready at the second status call, ~5 s later
        await onboard(h, seller)
        await _start_slow_sync(h)
        await h.app.dispatcher.stop_polling()
        mark = h.tg.mark()
        h.tg.user_says("/help")  # arrives during the drain: not taken
        await h.wait_text(1001, "Синхронизация завершена", timeout=60)
        await _until(lambda: h.app.http.closed, timeout=20)
        assert not any("/api_key" in text for text in _texts_since(h.tg, mark, 1001))
    [log], _leases = await _stored(database_url)
    assert log.status == "completed" and log.fbo_units == seller.truth_fbo_units()


def _texts_since(tg: FakeTelegram, mark: int, chat_id: int) -> list[str]:
    return [
        str(call.params.get("text"))
        for call in tg.calls[mark:]
        if call.method == "sendMessage" and str(call.params.get("chat_id")) == str(chat_id)
    ]


async def _serve_until_sigterm(app: App, tg: FakeTelegram, *, webhook: bool) -> float:
    task = asyncio.create_task(serve(app, webhook=webhook))
    if webhook:
        await tg.wait_until(lambda: bool(tg.webhook.get("url")), timeout=20)
    else:
        await tg.wait_for_call("getUpdates", timeout=20, since=0)
    started = time.monotonic()
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, timeout=30)
    return time.monotonic() - started


async def test_sigterm_in_polling_mode_stops_cleanly(database_url: str, tmp_path: Path) -> None:
    async with FakeTelegram(token=BOT_TOKEN) as tg, FakeWB(small_seller()) as wb:
        app = await create_app(make_settings(database_url, tmp_path, tg, wb))
        tg.user_says("/start")
        elapsed = await _serve_until_sigterm(app, tg, webhook=False)
        assert elapsed < 15
        assert any("Здравствуйте" in text for text in tg.texts(1001))
        assert app.http.closed
        polls = len(tg.calls_to("getUpdates"))
        await asyncio.sleep(0.5)
        assert len(tg.calls_to("getUpdates")) == polls


async def test_sigterm_lets_an_update_being_handled_finish_its_reply(
    database_url: str, tmp_path: Path
) -> None:
    """SIGTERM while a reply is on its way: the Telegram session is not closed under it."""
    async with FakeTelegram(token=BOT_TOKEN) as tg, FakeWB(small_seller()) as wb:
        app = await create_app(make_settings(database_url, tmp_path, tg, wb))
        tg.delay("sendMessage", 1.5)
        tg.user_says("/start")
        task = asyncio.create_task(serve(app, webhook=False))
        await tg.wait_until(lambda: tg.received["sendMessage"] >= 1, 20)  # the reply is on its way
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(task, timeout=30)
        assert any("Здравствуйте" in text for text in tg.texts(1001))
        assert app.http.closed


async def test_sigterm_in_webhook_mode_stops_cleanly(database_url: str, tmp_path: Path) -> None:
    async with FakeTelegram(token=BOT_TOKEN) as tg, FakeWB(small_seller()) as wb:
        settings = make_settings(
            database_url, tmp_path, tg, wb, webhook_url="https://bot.example.test/hook", port=0
        )
        app = await create_app(settings)
        elapsed = await _serve_until_sigterm(app, tg, webhook=True)
        assert elapsed < 15
        assert app.http.closed
        # The webhook stays set: Telegram keeps the updates for the next process.
        assert tg.webhook["url"] == "https://bot.example.test/hook"
