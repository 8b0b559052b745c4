"""Scenario 2: /status answers while many sellers sync at once.

The real app (create_app + aiogram long polling) runs in this process; the Telegram fake
(benchmarks/telegram_server.py) and the WB fake serve from processes of their own, as the real
services would. The Telegram fake's process also sends the /status commands, from other chats
on a fixed schedule, and times them: a reply's latency is the time from the moment the command
was due to the moment the fake received the bot's answer, so a stalled bot cannot hide its own
delay. A ticker task measures the bot's loop lag (how late a 10 ms sleep wakes up).

Two phases: idle (no syncs) for a baseline, then the load: every syncing seller sends /sync at
once, and /status keeps coming until all syncs have finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import aiohttp
from sqlalchemy import func, select

from benchmarks.support import (
    Result,
    add_tenant,
    database,
    make_settings,
    new_encryption_key,
    peak_rss_mb,
    percentile,
    telegram_server,
    workdir,
)
from bot.app import create_app, run_polling
from core.runtime import tune_garbage_collector
from core.sync import SyncService
from storage.models import SyncLog

P99_GOAL_MS = 100.0
SYNC_CHAT_BASE = 10_000
STATUS_CHAT_BASE = 20_000
TICK = 0.01
STATUS_ANSWER = "Ключ WB:"  # every /status answer has the key's part; an error message has not


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


class _Telegram:
    """The Telegram fake's control server (benchmarks/telegram_server.py)."""

    def __init__(self, http: aiohttp.ClientSession, control: str) -> None:
        self._http = http
        self._control = control

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self._http.post(f"{self._control}{path}", json=body) as response:
            response.raise_for_status()
            result: dict[str, Any] = await response.json()
            return result

    async def _get(self, path: str, **query: str) -> dict[str, Any]:
        async with self._http.get(f"{self._control}{path}", params=query) as response:
            response.raise_for_status()
            result: dict[str, Any] = await response.json()
            return result

    async def say(self, text: str, chat_id: int) -> int:
        """Send a message from the chat; the number of calls so far (for `messaged_since`)."""
        return int((await self._post("/say", {"text": text, "chat_id": chat_id}))["mark"])

    async def messaged_since(self, since: int) -> tuple[set[int], int]:
        """Chats that were sent a message since call `since`, and the next `since`."""
        got = await self._get("/messages", since=str(since))
        return {int(chat) for chat in got["chats"]}, int(got["next"])

    async def wait_polling(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while (await self._get("/polling"))["getUpdates"] < 1:
            if time.monotonic() > deadline:
                raise TimeoutError("the bot never polled")
            await asyncio.sleep(0.05)

    async def answer_to(self, text: str, chat_id: int, timeout: float) -> None:
        since = await self.say(text, chat_id)
        deadline = time.monotonic() + timeout
        while chat_id not in (await self.messaged_since(since))[0]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer to {text} in chat {chat_id}")
            await asyncio.sleep(0.02)

    async def start_stream(self, chats: list[int], interval: float) -> None:
        body = {"chats": chats, "interval": interval, "expect": STATUS_ANSWER}
        await self._post("/stream/start", body)

    async def stop_stream(self, timeout: float) -> tuple[list[float], int]:
        got = await self._post("/stream/stop", {"timeout": timeout})
        return [float(x) for x in got["latencies"]], int(got["lost"])


async def _wait_syncs(
    tg: _Telegram, syncs: SyncService, count: int, since: int, timeout: float
) -> None:
    """Until every syncing chat got its progress message and no sync runs any more.

    Polled a few times a second: a check on every Telegram request would add its own load.
    """
    chats = {SYNC_CHAT_BASE + i for i in range(count)}
    started: set[int] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        messaged, since = await tg.messaged_since(since)
        started |= messaged
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
    with (
        workdir() as tmp,
        database(backend, tmp) as url,
        telegram_server() as telegram,
    ):
        async with aiohttp.ClientSession() as http:
            tg = _Telegram(http, telegram.control)
            settings = make_settings(
                url,
                params["wb_url"],
                new_encryption_key(),
                telegram_api_url=telegram.url,
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
                    await tg.answer_to("/status", chat, timeout=30)
                lag.start()

                idle_start = time.monotonic()
                await tg.start_stream(status_chats, interval)
                await asyncio.sleep(idle_seconds)
                idle_end = time.monotonic()
                idle_latencies, idle_lost = await tg.stop_stream(timeout=30)

                load_start = time.monotonic()
                since = await tg.say("/sync", SYNC_CHAT_BASE)
                await tg.start_stream(status_chats, interval)
                for i in range(1, len(seller_ids)):
                    await tg.say("/sync", SYNC_CHAT_BASE + i)
                await _wait_syncs(tg, app.syncs, len(seller_ids), since - 1, timeout)
                await app.syncs.wait_idle(timeout=60)
                load_end = time.monotonic()
                load_latencies, load_lost = await tg.stop_stream(timeout=30)
                await lag.stop()
                foreground = app.foreground
                gave_way = (foreground.waits, foreground.waited_seconds) if foreground else (0, 0.0)
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
    result.add("/status not answered", load_lost, "", goal="0", ok=load_lost == 0)
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
    result.add("syncs gave way to commands", gave_way[0], "times")
    result.add("syncs' time giving way", round(gave_way[1], 1), "s")
    result.add("peak RSS", round(peak_rss_mb(), 1), "MB")
    result.details = {**idle_figures, **load_figures, "sync_log_statuses": statuses}
    return result
