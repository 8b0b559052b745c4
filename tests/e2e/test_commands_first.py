"""Chat commands come first: a running sync holds its next step while a command is answered."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e.harness import onboard, running_bot, small_seller


async def test_a_sync_gives_way_while_another_chat_is_answered(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller(seed=7)
    async with running_bot(database_url, tmp_path, seller) as h:
        await onboard(h, seller, chat_id=1001)
        foreground = h.app.foreground
        assert foreground is not None and foreground.waits == 0
        h.wb.remains_polls_until_done = 3  # the sync polls the remains report a while
        mark = h.tg.mark()
        h.tg.user_says("/sync", chat_id=1001)
        await h.wait_text(1001, "Синхронизация\n", since=mark)
        # Another chat's replies take 0.5 s to reach Telegram: each /status is in flight
        # that long, and the sync's statements meanwhile wait for it.
        h.tg.delay("sendMessage", 0.5)
        seen_busy = False
        for _ in range(6):
            reply_mark = h.tg.mark()
            h.tg.user_says("/status", chat_id=2002)
            for _ in range(40):
                seen_busy = seen_busy or foreground.busy
                await asyncio.sleep(0.01)
            await h.wait_text(2002, "", since=reply_mark)
            await h.tg.wait_until(lambda: not foreground.busy, 5)  # the reply got its answer
        h.tg.delay("sendMessage", 0)
        summary = await h.wait_text(1001, "Синхронизация завершена", since=mark, timeout=60)
    assert seen_busy
    assert foreground.waits >= 1
    assert 0 < foreground.waited_seconds < 0.5 * 6 + 1
    assert "Товаров: 40" in summary
