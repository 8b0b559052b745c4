"""Telegram faults: flood control waited out, blocked chats, migrated chats, long texts."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select

from bot.long_text import TEXT_LIMIT, text_length
from core.notifier import Trigger
from storage.models import SyncLog, Tenant
from tests.e2e.direct import direct_app
from tests.e2e.harness import running_bot, small_seller


def _sends(tg: object, chat_id: int, since: int = 0) -> list[object]:
    return [
        call
        for call in tg.calls_to("sendMessage", since=since)  # type: ignore[attr-defined]
        if str(call.params.get("chat_id")) == str(chat_id)
    ]


async def test_flood_control_is_waited_out_never_retried_early(
    database_url: str, tmp_path: Path
) -> None:
    async with running_bot(database_url, tmp_path, small_seller()) as h:
        await h.reply_to("/start")
        mark = h.tg.mark()
        h.tg.fail_next("sendMessage", retry_after=2, chat_id=1001)
        text = await h.reply_to("/help", timeout=15)
        assert "/sync" in text
        failed, delivered = _sends(h.tg, 1001, since=mark)
        assert failed.error_code == 429 and delivered.ok
        assert delivered.at - failed.at >= 2.0


async def test_per_chat_rate_limit_delivers_every_message_in_order(
    database_url: str, tmp_path: Path
) -> None:
    async with direct_app(database_url, tmp_path, small_seller()) as d:
        d.tg.set_rate_limit(per_chat=1, window=1.0, retry_after=1)
        texts = [f"line {i}" for i in range(3)]
        for text in texts:
            assert await d.app.notifier.send(1001, text) is not None
        assert d.tg.texts(1001) == texts
        times = d.tg.send_times(1001)
        assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(times))


async def test_flood_control_gives_up_after_bounded_attempts(
    database_url: str, tmp_path: Path
) -> None:
    async with direct_app(database_url, tmp_path, small_seller(), telegram_retry_attempts=2) as d:
        d.tg.fail_next("sendMessage", retry_after=1, times=10, chat_id=1001)
        started = time.monotonic()
        assert await d.app.notifier.send(1001, "hello") is None
        assert len(d.tg.calls_to("sendMessage")) == 3  # the first try and two retries
        assert time.monotonic() - started >= 2.0


async def test_a_flood_wait_longer_than_the_bound_is_not_waited(
    database_url: str, tmp_path: Path
) -> None:
    async with direct_app(database_url, tmp_path, small_seller(), telegram_max_retry_after=5) as d:
        d.tg.fail_next("sendMessage", retry_after=3600, chat_id=1001)
        started = time.monotonic()
        assert await d.app.notifier.send(1001, "hello") is None
        assert len(d.tg.calls_to("sendMessage")) == 1
        assert time.monotonic() - started < 2.0


async def test_blocked_chat_marks_the_tenant_inactive_and_the_sync_still_finishes(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with direct_app(database_url, tmp_path, seller) as d:
        d.wb.remains_polls_until_done = 1
        tenant = await d.onboard(seller, chat_id=1001)
        assert tenant.is_active
        d.tg.block_chat(1001)
        result = await d.app.syncs.run(tenant.id, Trigger.ADMIN)  # verbose: posts progress
        assert result is not None
        forbidden = [c for c in d.tg.calls if c.error_code == 403]
        assert forbidden, "the sync should have tried to talk to the chat"
        assert not (await d.tenant(1001)).is_active
        async with d.app.sessions() as session:
            log = await session.scalar(select(SyncLog).where(SyncLog.tenant_id == tenant.id))
        assert log is not None and log.status in ("completed", "partial")


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _membership(bot_user: dict[str, object], old: str, new: str) -> dict[str, object]:
    def member(status: str) -> dict[str, object]:
        # A "kicked" member carries until_date (0: for ever), as Telegram sends it.
        extra = {"until_date": 0} if status == "kicked" else {}
        return {"status": status, "user": bot_user, **extra}

    return {
        "my_chat_member": {
            "chat": {"id": 1001, "type": "private", "first_name": "Seller"},
            "from": {"id": 1001, "is_bot": False, "first_name": "Seller"},
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
    }


async def test_blocking_and_unblocking_learned_from_my_chat_member(
    database_url: str, tmp_path: Path
) -> None:
    async with running_bot(database_url, tmp_path, small_seller()) as h:
        await h.reply_to("/start")

        async def active() -> bool:
            async with h.app.sessions() as session:
                tenant = await session.scalar(select(Tenant).where(Tenant.chat_id == 1001))
            assert tenant is not None
            return tenant.is_active

        async def inactive() -> bool:
            return not await active()

        h.tg.add_update(_membership(h.tg.bot_user, "member", "kicked"))
        assert await _eventually(inactive)
        assert not h.tg.dropped_updates, "my_chat_member must be among the allowed updates"
        h.tg.add_update(_membership(h.tg.bot_user, "kicked", "member"))
        assert await _eventually(active)


async def test_migrated_chat_follows_the_new_id(database_url: str, tmp_path: Path) -> None:
    async with direct_app(database_url, tmp_path, small_seller()) as d:
        async with d.app.sessions() as session:
            session.add(Tenant(chat_id=-500, user_id=1001, user_name="Group"))
            await session.commit()
        d.tg.migrate_chat(-500, -1001234500)
        assert await d.app.notifier.send(-500, "Report") is not None
        assert d.tg.texts(-1001234500) == ["Report"]
        assert (await d.tenant(-1001234500)).user_name == "Group"


async def test_migration_service_message_moves_the_tenant(
    database_url: str, tmp_path: Path
) -> None:
    async with direct_app(database_url, tmp_path, small_seller()) as d:
        async with d.app.sessions() as session:
            session.add(Tenant(chat_id=-600, user_id=1001, user_name="Group"))
            await session.commit()
        await d.feed(
            {
                "update_id": 1,
                "message": {
                    "message_id": 10,
                    "date": int(time.time()),
                    "chat": {"id": -600, "type": "group", "title": "Shop"},
                    "from": {"id": 1001, "is_bot": False, "first_name": "Seller"},
                    "migrate_to_chat_id": -1009876600,
                },
            }
        )
        assert (await d.tenant(-1009876600)).user_name == "Group"
        assert d.tg.calls_to("sendMessage") == []  # a service message needs no answer


async def test_long_text_is_split_at_line_ends(database_url: str, tmp_path: Path) -> None:
    async with direct_app(database_url, tmp_path, small_seller()) as d:
        lines = [f"• ART-{i:05d} — {i % 30} дн. ({i} шт.) " + "ж" * 40 for i in range(200)]
        text = "\n".join(lines)
        assert text_length(text) > 2 * TEXT_LIMIT
        first = await d.app.notifier.send(1001, text)
        assert first is not None
        sent = d.tg.texts(1001)
        # Well packed: every part but the last is nearly full.
        assert len(sent) == -(-text_length(text) // (TEXT_LIMIT - 100))
        assert all(text_length(part) <= TEXT_LIMIT for part in sent)
        assert "\n".join(sent).split("\n") == lines  # every line whole, in order


async def test_an_edit_that_overflows_edits_the_first_part_and_sends_the_rest(
    database_url: str, tmp_path: Path
) -> None:
    async with direct_app(database_url, tmp_path, small_seller()) as d:
        message_id = await d.app.notifier.send(1001, "Синхронизация…")
        lines = [f"строка {i} " + "x" * 60 for i in range(120)]
        await d.app.notifier.edit_or_send(1001, message_id, "\n".join(lines))
        messages = d.tg.sent_messages(1001)
        assert len(messages) == 3
        assert messages[0]["message_id"] == message_id and messages[0]["_history"]
        assert "\n".join(m["text"] for m in messages).split("\n") == lines


async def test_long_errors_in_status_are_shortened_to_one_message(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with direct_app(database_url, tmp_path, seller) as d:
        tenant = await d.onboard(seller, chat_id=1001)
        async with d.app.sessions() as session:
            for i in range(5):
                session.add(
                    SyncLog(
                        tenant_id=tenant.id,
                        trigger="manual",
                        status="failed",
                        duration_ms=1000,
                        error=f"wb_unavailable: {i} " + "подробности " * 120,
                    )
                )
            await session.commit()
        texts = await d.reply_to("/status")
        assert len(texts) == 1
        assert all(text_length(text) <= TEXT_LIMIT for text in texts)
        assert texts[0].startswith("Последние синхронизации")
        assert texts[0].count("WB не отвечал (") == 5
        assert "Контент" in texts[-1]  # the key's state comes last, after every log line


async def test_a_403_from_a_chat_of_no_tenant_changes_no_tenant(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with direct_app(database_url, tmp_path, seller) as d:
        await d.onboard(seller, chat_id=1001)
        d.tg.block_chat(-700)
        assert await d.app.notifier.send(-700, "hello") is None
        assert (await d.tenant(1001)).is_active
