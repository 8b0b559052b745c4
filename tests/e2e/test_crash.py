"""The bot process killed with SIGKILL during a sync: the next start recovers cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

from sqlalchemy import select

from storage.models import SyncLog
from tests.e2e.harness import BOT_TOKEN, _app, onboard, small_seller
from tests.fakes.telegram import FakeTelegram
from tests.fakes.wb import FakeWB

KEYS = "Xw4_bB3J7e1wq0s8n8x7B6rP1xQm2oYv3kQyZ0mV0cU="
ROOT = Path(__file__).resolve().parents[2]


async def test_sigkill_during_a_sync_is_recovered_at_next_start(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with contextlib.AsyncExitStack() as stack:
        tg = await stack.enter_async_context(FakeTelegram(token=BOT_TOKEN))
        wb = await stack.enter_async_context(FakeWB(seller))
        settings = {"encryption_keys": KEYS}
        async with _app(database_url, tmp_path, tg, wb, settings) as h:
            tenant_id = await onboard(h, seller)

        wb.remains_polls_until_done = 50  # the report "takes" minutes: the sync is mid-way
        env = {
            **os.environ,
            "BOT_TOKEN": BOT_TOKEN,
            "DATABASE_URL": database_url,
            "ENCRYPTION_KEYS": KEYS,
            "TELEGRAM_API_URL": tg.url,
            "WB_API_URL": wb.url,
            "KEY_FILE": str(tmp_path / "unused.key"),
        }
        log_file = (tmp_path / "bot.log").open("w")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT, env=env, stdout=log_file, stderr=log_file
        )
        try:
            mark = tg.mark()
            await tg.wait_for_call("getMe", since=mark, timeout=30)
            tg.user_says("/sync")
            await tg.wait_until(
                lambda: any("… Остатки на складах WB" in text for text in tg.texts(1001)),
                timeout=30,
            )
        finally:
            process.kill()  # SIGKILL: no cleanup of any kind
            await process.wait()
            log_file.close()
        assert process.returncode == -9

        wb.remains_polls_until_done = 1
        async with _app(database_url, tmp_path, tg, wb, settings) as h:
            mark = tg.mark()
            text = await h.wait_text(1001, "прервалась", timeout=30)
            assert "/sync" in text
            async with h.app.sessions() as session:
                logs = list((await session.execute(select(SyncLog))).scalars())
            assert [log.status for log in logs] == ["interrupted"]
            assert logs[0].tenant_id == tenant_id
            h.tg.user_says("/sync")
            await h.wait_text(1001, "Синхронизация завершена", since=mark, timeout=60)
            async with h.app.sessions() as session:
                statuses = [
                    log.status for log in (await session.execute(select(SyncLog))).scalars()
                ]
            assert statuses == ["interrupted", "completed"]
            jobs = [job.id for job in h.app.scheduler.get_jobs()]
            assert len(jobs) == len(set(jobs)) == 4
        assert tenant_id
