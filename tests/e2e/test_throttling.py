"""Throttling through the real dispatcher: /sync cooldown and the per-user message cap."""

from __future__ import annotations

from pathlib import Path

from bot.throttling import Throttle
from tests.e2e.direct import direct_app
from tests.e2e.harness import small_seller


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_one_sync_a_minute_with_a_friendly_wait(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with direct_app(
        database_url, tmp_path, seller, throttle_sync_seconds=60, wb_rate_limits=False
    ) as d:
        d.wb.remains_polls_until_done = 1
        d.wb.limits_enabled = False  # the two syncs are a fake minute apart
        throttle: Throttle = d.app.dispatcher.workflow_data["throttle"]
        clock = Clock()
        throttle.clock = clock
        await d.onboard(seller, chat_id=1001)
        await d.says("/sync")
        await d.app.syncs.wait_idle(timeout=60)
        assert d.wb.calls("remains_create") == 1
        clock.now += 20
        [wait] = await d.reply_to("/sync")
        assert "через 40 с" in wait
        [wait_en] = await d.reply_to("/sync", language_code="en")
        assert "in 40 s" in wait_en
        await d.app.syncs.wait_idle(timeout=5)
        assert d.wb.calls("remains_create") == 1  # nothing started
        clock.now += 40
        mark = d.tg.mark()
        await d.says("/sync")
        await d.app.syncs.wait_idle(timeout=60)
        assert any("Синхронизация завершена" in text for text in d.texts_since(mark, 1001))


async def test_without_a_key_sync_is_not_held_back(database_url: str, tmp_path: Path) -> None:
    async with direct_app(database_url, tmp_path, small_seller(), throttle_sync_seconds=60) as d:
        for _ in range(3):
            [text] = await d.reply_to("/sync")
            assert "/api_key" in text


async def test_a_message_flood_is_answered_once_then_ignored(
    database_url: str, tmp_path: Path
) -> None:
    async with direct_app(
        database_url, tmp_path, small_seller(), throttle_messages=5, throttle_window_seconds=10
    ) as d:
        throttle: Throttle = d.app.dispatcher.workflow_data["throttle"]
        clock = Clock()
        throttle.clock = clock
        replies = [await d.reply_to("/help") for _ in range(5)]
        assert all(len(r) == 1 and "/sync" in r[0] for r in replies)
        [note] = await d.reply_to("/help")
        assert "Слишком много сообщений" in note
        for _ in range(20):
            assert await d.reply_to("/help") == []
        assert await d.reply_to("/help", chat_id=2002, user_id=2002) != []  # others unaffected
        clock.now += 10
        [again] = await d.reply_to("/help")
        assert "/sync" in again
