"""Webhook mode end to end: Telegram POSTs updates with its secret header; /healthz answers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bot.app import App, create_app, run_polling
from bot.webhook import run_webhook
from storage.models import Tenant
from tests.conftest import BACKEND
from tests.e2e.harness import BOT_TOKEN, make_settings, small_seller
from tests.fakes.telegram import FakeTelegram
from tests.fakes.wb import FakeWB

URL = "https://bot.example.test/tg/updates"
SECRET = "s3cret_Token-42"
START_TEXT = "Здравствуйте!"


@dataclass
class Served:
    tg: FakeTelegram
    app: App
    base: str
    http: aiohttp.ClientSession
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def post(self, update: dict[str, Any], secret: str | None) -> int:
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with self.http.post(self.base + "/tg/updates", json=update, headers=headers) as r:
            return r.status

    async def healthz(self) -> tuple[int, dict[str, Any]]:
        async with self.http.get(self.base + "/healthz") as response:
            return response.status, await response.json()

    async def tenants(self) -> int:
        async with self.app.sessions() as session:
            return int(await session.scalar(select(func.count(Tenant.id))) or 0)


@contextlib.asynccontextmanager
async def webhook_bot(database_url: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[Served]:
    async with FakeTelegram(token=BOT_TOKEN) as tg, FakeWB(small_seller()) as wb:
        values: dict[str, Any] = {"webhook_url": URL, "webhook_secret": SECRET, "port": 0}
        values.update(overrides)
        settings = make_settings(database_url, tmp_path, tg, wb, **values)
        app = await create_app(settings)
        stop = asyncio.Event()
        started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(run_webhook(app, stop, host="127.0.0.1", started=started))
        port = await asyncio.wait_for(started, timeout=20)
        async with aiohttp.ClientSession() as http:
            try:
                yield Served(tg, app, f"http://127.0.0.1:{port}", http, stop, task)
            finally:
                stop.set()
                await asyncio.wait_for(task, timeout=30)


async def test_updates_are_processed_only_with_telegrams_secret_header(
    database_url: str, tmp_path: Path
) -> None:
    async with webhook_bot(database_url, tmp_path) as s:
        # Telegram was told where to send updates, and with which secret.
        assert s.tg.webhook["url"] == URL
        assert s.tg.webhook["secret_token"] == SECRET
        assert {"message", "callback_query"} <= set(s.tg.webhook["allowed_updates"])

        for secret in (None, "wrong-secret", SECRET + "x"):
            update = s.tg.make_update_json("/start", chat_id=1001)
            assert await s.post(update, secret) == 401
        await asyncio.sleep(0.5)
        assert s.tg.texts(1001) == [] and await s.tenants() == 0

        mark = s.tg.mark()
        assert await s.post(s.tg.make_update_json("/start", chat_id=1001), SECRET) == 200
        reply = await s.tg.wait_for_message(1001, since=mark)
        assert str(reply["text"]).startswith(START_TEXT)
        assert await s.tenants() == 1

        # Admin commands work the same way over the webhook.
        mark = s.tg.mark()
        update = s.tg.make_update_json("/admin", chat_id=900, user_id=900)
        assert await s.post(update, SECRET) == 200
        overview = await s.tg.wait_for_message(900, since=mark)
        assert "Продавцов: 1" in str(overview["text"])
        # No long polling in webhook mode.
        assert s.tg.calls_to("getUpdates") == []
    assert s.task.done() and s.task.exception() is None
    assert s.app.http.closed


async def test_healthz_reports_database_scheduler_and_the_last_update(
    database_url: str, tmp_path: Path
) -> None:
    async with webhook_bot(database_url, tmp_path) as s:
        status, report = await s.healthz()
        assert status == 200
        assert report["status"] == "ok"
        assert report["database"]["ok"] is True
        assert report["database"]["backend"] == (
            "PostgreSQL" if BACKEND == "postgres" else "SQLite"
        )
        assert report["scheduler"] == {"running": True}
        assert report["last_update_at"] is None
        assert report["version"] == "0.1.0"

        mark = s.tg.mark()
        await s.post(s.tg.make_update_json("/help", chat_id=1001), SECRET)
        await s.tg.wait_for_message(1001, since=mark)
        status, report = await s.healthz()
        assert status == 200 and report["last_update_at"] is not None
        # A rejected update is not "seen".
        seen = report["last_update_at"]
        await s.post(s.tg.make_update_json("/help", chat_id=1001), None)
        assert (await s.healthz())[1]["last_update_at"] == seen


async def test_a_random_secret_is_used_when_none_is_configured(
    database_url: str, tmp_path: Path
) -> None:
    async with webhook_bot(database_url, tmp_path, webhook_secret=None) as s:
        secret = s.tg.webhook["secret_token"]
        assert len(secret) >= 32
        assert await s.post(s.tg.make_update_json("/start", chat_id=1001), None) == 401
        mark = s.tg.mark()
        assert await s.post(s.tg.make_update_json("/start", chat_id=1001), secret) == 200
        await s.tg.wait_for_message(1001, since=mark)


async def test_polling_after_a_webhook_deployment_removes_the_webhook_and_polls(
    database_url: str, tmp_path: Path
) -> None:
    async with FakeTelegram(token=BOT_TOKEN) as tg, FakeWB(small_seller()) as wb:
        app = await create_app(make_settings(database_url, tmp_path, tg, wb))
        await app.bot.set_webhook(URL, secret_token=SECRET)  # left by the web process
        polling = asyncio.create_task(run_polling(app))
        try:
            mark = tg.mark()
            tg.user_says("/start", chat_id=1001)
            reply = await tg.wait_for_message(1001, since=mark, timeout=20)
            assert str(reply["text"]).startswith(START_TEXT)
            assert tg.webhook == {}
        finally:
            await tg.wait_for_call("getUpdates", timeout=20, since=0)
            await app.dispatcher.stop_polling()
            await asyncio.wait_for(polling, timeout=30)
