"""At most `MAX_CONCURRENT_SYNCS` syncs work at once; the others wait their turn, and a seller
who asked sees the place in the queue, then the usual progress and summary."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core import leases
from storage.models import SyncLog
from tests.e2e.harness import onboard, running_bot, small_seller


async def test_a_sync_beyond_the_bound_waits_in_the_queue_then_completes(
    database_url: str, tmp_path: Path
) -> None:
    first, second = small_seller(seed=7), small_seller(seed=8)
    async with running_bot(database_url, tmp_path, [first, second], max_concurrent_syncs=1) as h:
        await onboard(h, first, chat_id=1001)
        await onboard(h, second, chat_id=1002)
        h.wb.remains_polls_until_done = 1000  # the first sync sits on the remains report
        h.tg.user_says("/sync", chat_id=1001)
        await h.wait_text(1001, "Синхронизация\n")
        await h.tg.wait_until(lambda: h.wb.calls("remains_status") >= 1, 30)

        mark, wb_mark = h.tg.mark(), len(h.wb.requests)
        queued_at = time.monotonic()
        h.tg.user_says("/sync", chat_id=1002)
        queued = await h.wait_text(1002, "В очереди: 1-я", since=mark)
        assert queued.startswith("Синхронизация\n")
        assert h.app.syncs.queued_count == 1 and h.app.syncs.running_count == 2
        await asyncio.sleep(4)  # the queue holds while the first sync polls
        assert h.app.syncs.queued_count == 1
        overview = await h.reply_to("/admin", chat_id=900)
        assert "идёт сейчас: 1, в очереди: 1" in overview
        h.wb.remains_polls_until_done = 0  # from now on reports are ready at the first look
        # A second /sync from the waiting seller says it is already on its way.
        assert "уже идёт" in await h.reply_to("/sync", chat_id=1002)

        await h.wait_text(1001, "Синхронизация завершена", timeout=60)
        done = await h.wait_text(1002, "Синхронизация завершена", since=mark, timeout=60)
        waited = time.monotonic() - queued_at
        assert "В очереди" not in done
        assert h.app.syncs.queued_count == 0
        # The second seller's sync asked WB nothing until the first one had finished.
        requests = h.wb.requests[wb_mark:]
        last_of_first = max(i for i, r in enumerate(requests) if r.token_sid == first.seller_id)
        of_second = [i for i, r in enumerate(requests) if r.token_sid == second.seller_id]
        assert of_second and min(of_second) > last_of_first

        async with h.app.sessions() as session:
            logs = list((await session.execute(select(SyncLog).order_by(SyncLog.id))).scalars())
    assert [log.status for log in logs] == ["completed", "completed"]
    assert len({log.tenant_id for log in logs}) == 2
    # The duration is the sync's own, not its 4+ s in the queue.
    assert logs[1].duration_ms is not None and logs[1].duration_ms / 1000 < waited - 3


async def test_a_sync_asked_for_right_after_the_summary_starts(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary is out while the finished sync still releases its lease (a slow database
    here): a /sync sent at once waits for that instead of hearing "already running"."""
    real_release = leases.release

    async def slow_release(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(1.5)
        await real_release(*args, **kwargs)

    monkeypatch.setattr(leases, "release", slow_release)
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        await onboard(h, seller)
        h.tg.user_says("/sync")
        await h.wait_text(1001, "Синхронизация завершена", timeout=60)
        mark = h.tg.mark()
        h.tg.user_says("/sync")
        await h.wait_text(1001, "Синхронизация\n", since=mark, timeout=30)  # a new sync's progress
        replies = [
            str(call.params.get("text"))
            for call in h.tg.calls_to("sendMessage", since=mark)
            if str(call.params.get("chat_id")) == "1001"
        ]
        assert not any("уже идёт" in text for text in replies)
        async with h.app.sessions() as session:
            logs = list((await session.execute(select(SyncLog))).scalars())
        assert len(logs) == 2
