"""Scenario 2: /status answers while many sellers sync at once.

The real app (create_app + aiogram long polling) runs against the Telegram fake in this
process, as in tests/e2e; the WB fake serves from its own process. Other chats send /status on
a fixed schedule; a reply's latency is the time from the moment the command was due to the
moment the fake Telegram received the bot's answer, so a stalled event loop cannot hide its
own delay. A ticker task measures the loop's lag (how late a 10 ms sleep wakes up).

Two phases: idle (no syncs) for a baseline, then the load: every syncing seller sends /sync at
once, and /status keeps coming until all syncs have finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from sqlalchemy import func, select

from benchmarks.support import (
    BOT_TOKEN,
    Result,
    add_tenant,
    database,
    make_settings,
    new_encryption_key,
    peak_rss_mb,
    percentile,
    workdir,
)
from bot.app import create_app, run_polling
from core.runtime import tune_garbage_collector
from core.sync import SyncService
from storage.models import SyncLog
from tests.fakes.telegram import FakeTelegram

P99_GOAL_MS = 100.0
SYNC_CHAT_BASE = 10_000
STATUS_CHAT_BASE = 20_000
TICK = 0.01


class _LoopLag:
    """Samples how late a short sleep wakes up: the time the loop was busy elsewhere."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (monotonic, lag seconds)
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(TICK)
            after = time.monotonic()
            self.samples.append((after, max(0.0, after - before - TICK)))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def between(self, start: float, end: float) -> list[float]:
        return [lag for at, lag in self.samples if start <= at <= end]


class _StatusStream:
    """Sends /status from the status chats in turn, one every `interval` seconds."""

    def __init__(self, tg: FakeTelegram, chats: list[int], interval: float) -> None:
        self._tg = tg
        self._chats = chats
        self._interval = interval
        self.due: dict[int, list[float]] = {chat: [] for chat in chats}
        self.first_call = len(tg.calls)
        self._stop = asyncio.Event()

    async def run(self) -> None:
        started = time.monotonic()
        n = 0
        while not self._stop.is_set():
            due = started + n * self._interval
            delay = due - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                if self._stop.is_set():
                    break
            chat = self._chats[n % len(self._chats)]
            self.due[chat].append(due)
            self._tg.user_says("/status", chat_id=chat)
            n += 1

    def stop(self) -> None:
        self._stop.set()

    async def latencies(self, timeout: float) -> tuple[list[float], int]:
        """Seconds from due to answer for each command, and how many got no answer."""
        expected = sum(len(d) for d in self.due.values())

        def answers() -> dict[int, list[float]]:
            got: dict[int, list[float]] = {chat: [] for chat in self.due}
            for call in self._tg.calls[self.first_call :]:
                if call.method == "sendMessage" and call.ok:
                    chat = int(call.params.get("chat_id", 0))
                    if chat in got:
                        got[chat].append(call.at)
            return got

        with contextlib.suppress(AssertionError):
            await self._tg.wait_until(
                lambda: sum(len(a) for a in answers().values()) >= expected, timeout=timeout
            )
        got = answers()
        latencies: list[float] = []
        for chat, due in self.due.items():
            latencies.extend(at - when for when, at in zip(due, got[chat], strict=False))
        return latencies, expected - len(latencies)


async def _wait_syncs(
    tg: FakeTelegram, syncs: SyncService, count: int, first_call: int, timeout: float
) -> None:
    """Until every syncing chat got its progress message and no sync runs any more.

    Polled a few times a second: a check on every Telegram request would add its own load.
    """
    chats = {str(SYNC_CHAT_BASE + i) for i in range(count)}
    started: set[str] = set()
    seen = first_call
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        calls = tg.calls[seen:]
        seen += len(calls)
        started.update(str(c.params.get("chat_id")) for c in calls if c.method == "sendMessage")
        if chats <= started and syncs.running_count == 0:
            return
    raise TimeoutError(f"syncs still running after {timeout:.0f} s")


def _phase(name: str, latencies: list[float], lost: int, lags: list[float]) -> dict[str, Any]:
    ms = [x * 1000 for x in latencies]
    lag_ms = [x * 1000 for x in lags]
    return {
        f"{name}: /status replies": len(ms),
        f"{name}: /status lost": lost,
        f"{name}: /status p50": round(percentile(ms, 50), 1),
        f"{name}: /status p99": round(percentile(ms, 99), 1),
        f"{name}: /status max": round(max(ms, default=0.0), 1),
        f"{name}: loop lag p50": round(percentile(lag_ms, 50), 1),
        f"{name}: loop lag p99": round(percentile(lag_ms, 99), 1),
        f"{name}: loop lag max": round(max(lag_ms, default=0.0), 1),
    }


async def responsiveness(params: dict[str, Any]) -> Result:
    backend: str = params["backend"]
    seller_ids: list[str] = params["seller_ids"]
    status_chats = [STATUS_CHAT_BASE + j for j in range(int(params["status_chats"]))]
    interval = float(params["status_interval"])
    idle_seconds = float(params.get("idle_seconds", 5.0))
    timeout = float(params.get("timeout", 540))
    result = Result(f"responsiveness_{len(seller_ids)}_syncs", backend)
    lag = _LoopLag()
    with workdir() as tmp, database(backend, tmp) as url:
        async with FakeTelegram(token=BOT_TOKEN) as tg:
            settings = make_settings(
                url,
                params["wb_url"],
                new_encryption_key(),
                telegram_api_url=tg.url,
                key_file=str(tmp / "encryption.key"),
                wb_orders_page_rows=int(params["page_rows"]),
            )
            app = await create_app(settings)
            tune_garbage_collector()  # as `python -m bot` does after create_app
            for i, seller_id in enumerate(seller_ids):
                await add_tenant(
                    app.sessions, app.vault, chat_id=SYNC_CHAT_BASE + i, seller_id=seller_id
                )
            for chat in status_chats:
                await add_tenant(app.sessions, app.vault, chat_id=chat, seller_id=seller_ids[0])
            polling = asyncio.create_task(run_polling(app))
            try:
                await tg.wait_polling(timeout=30)
                # Warm-up: the first /status of a chat pays one-off costs (imports, caches).
                for chat in status_chats:
                    mark = tg.mark()
                    tg.user_says("/status", chat_id=chat)
                    await tg.wait_for_message(chat, since=mark, timeout=30)
                lag.start()

                idle = _StatusStream(tg, status_chats, interval)
                idle_start = time.monotonic()
                streaming = asyncio.create_task(idle.run())
                await asyncio.sleep(idle_seconds)
                idle.stop()
                await streaming
                idle_end = time.monotonic()
                idle_latencies, idle_lost = await idle.latencies(timeout=30)

                load = _StatusStream(tg, status_chats, interval)
                load_start = time.monotonic()
                streaming = asyncio.create_task(load.run())
                for i in range(len(seller_ids)):
                    tg.user_says("/sync", chat_id=SYNC_CHAT_BASE + i)
                await _wait_syncs(tg, app.syncs, len(seller_ids), load.first_call, timeout)
                await app.syncs.wait_idle(timeout=60)
                load_end = time.monotonic()
                load.stop()
                await streaming
                load_latencies, load_lost = await load.latencies(timeout=30)
                await lag.stop()
                async with app.sessions() as session:
                    completed = await session.scalar(
                        select(func.count())
                        .select_from(SyncLog)
                        .where(SyncLog.status == "completed")
                    )
                    statuses = dict(
                        (
                            await session.execute(
                                select(SyncLog.status, func.count()).group_by(SyncLog.status)
                            )
                        ).all()
                    )
            finally:
                await lag.stop()
                await app.syncs.wait_idle(timeout=60)
                with contextlib.suppress(RuntimeError):
                    await app.dispatcher.stop_polling()
                try:
                    await asyncio.wait_for(polling, timeout=20)
                except (TimeoutError, asyncio.CancelledError):
                    polling.cancel()

    idle_figures = _phase("idle", idle_latencies, idle_lost, lag.between(idle_start, idle_end))
    load_figures = _phase(
        "under load", load_latencies, load_lost, lag.between(load_start, load_end)
    )
    p99 = load_figures["under load: /status p99"]
    result.add(
        "/status p99 while syncing",
        p99,
        "ms",
        goal=f"< {P99_GOAL_MS:.0f} ms",
        ok=p99 < P99_GOAL_MS and load_lost == 0,
    )
    result.add("/status p50 while syncing", load_figures["under load: /status p50"], "ms")
    result.add("/status max while syncing", load_figures["under load: /status max"], "ms")
    result.add("loop lag p99 while syncing", load_figures["under load: loop lag p99"], "ms")
    result.add("loop lag max while syncing", load_figures["under load: loop lag max"], "ms")
    result.add("/status p99 idle", idle_figures["idle: /status p99"], "ms")
    result.add(
        "syncs completed",
        f"{completed}/{len(seller_ids)}",
        goal=f"{len(seller_ids)}/{len(seller_ids)}",
        ok=completed == len(seller_ids),
    )
    result.add("time for all syncs", round(load_end - load_start, 1), "s")
    result.add("peak RSS", round(peak_rss_mb(), 1), "MB")
    result.details = {**idle_figures, **load_figures, "sync_log_statuses": statuses}
    return result
