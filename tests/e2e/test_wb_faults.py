"""WB faults during a sync, seen from the seller's chat."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from storage.models import SyncLog
from tests.e2e.harness import Harness, onboard, running_bot, small_seller


async def _sync(h: Harness, chat_id: int = 1001) -> str:
    await h.app.syncs.wait_idle(timeout=10)  # the previous sync has released its lock
    mark = h.tg.mark()
    h.tg.user_says("/sync", chat_id=chat_id)

    def results() -> list[str]:
        """This chat's sync results since the mark (another seller's must not count)."""
        texts = (
            str(call.params.get("text", ""))
            for call in h.tg.calls[mark:]
            if str(call.params.get("chat_id")) == str(chat_id)
        )
        return [
            text
            for text in texts
            if "Синхронизация завершена" in text or "Синхронизация не удалась" in text
        ]

    await h.tg.wait_until(lambda: bool(results()), timeout=60)
    return results()[0]


async def test_an_empty_remains_report_means_no_fbo_stock(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 1
        h.wb.remains_download_empty = True  # WB answers 204
        await onboard(h, seller)
        text = await _sync(h)
        assert "На складах WB (FBO): 0 шт." in text
        assert "склады WB: только что" in text


async def test_a_purged_report_keeps_the_last_copy_and_says_so(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller, wb_rate_limits=False) as h:
        h.wb.limits_enabled = False
        h.wb.remains_polls_until_done = 1
        await onboard(h, seller)
        await _sync(h)
        h.wb.remains_final_status = "purged"
        text = await _sync(h)
        assert "часть данных из прошлого обновления" in text
        assert "склады WB: только что, обновится около" in text
        # The last copy's figures are still shown.
        from bot.render import number

        assert f"На складах WB (FBO): {number(seller.truth_fbo_units())} шт." in text
        h.wb.remains_final_status = "done"
        text = await _sync(h)
        assert "склады WB: только что\n" in text
        assert h.wb.calls("remains_create") == 3  # a purged task is not polled again


async def test_base_token_refused_by_a_method_is_explained(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.base_forbidden = {"remains_create"}
        await onboard(h, seller, token_type=1)
        text = await _sync(h)
        assert "не разрешает этот метод для вашего типа токена" in text
        assert "base token is not allowed" in text


async def test_malformed_json_fails_cleanly_and_plans_a_retry(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller, wb_retry_backoff_seconds=0.01) as h:
        await onboard(h, seller)
        h.wb.fail_next("cards_list", "malformed", times=10)
        text = await _sync(h)
        assert "не удалось прочитать" in text and "Повторю попытку" in text
        assert h.app.scheduler.get_job("tenant-retry:1") is not None


async def test_one_sellers_failures_never_hold_up_another(
    database_url: str, tmp_path: Path
) -> None:
    broken, healthy = small_seller(seed=1), small_seller(seed=2)
    async with running_bot(
        database_url, tmp_path, [broken, healthy], wb_retry_backoff_seconds=3.0
    ) as h:
        h.wb.remains_polls_until_done = 0
        await onboard(h, broken, chat_id=2001)
        await onboard(h, healthy, chat_id=2002)
        # The broken seller's next cards calls fail: it backs off 3 s, 6 s, 12 s. Only its
        # own: under load its third try could meet the healthy seller's first (CI saw it).
        h.wb.fail_next("cards_list", 503, times=3, seller_id=broken.seller_id)
        h.tg.user_says("/sync", chat_id=2001)
        await asyncio.sleep(0.3)
        healthy_text = await _sync(h, chat_id=2002)
        assert "Синхронизация завершена" in healthy_text
        async with h.app.sessions() as session:
            logs = {
                log.tenant_id: log for log in (await session.execute(select(SyncLog))).scalars()
            }
        assert logs[2].status == "completed"
        assert logs[1].status == "in_progress"  # still waiting on its own backoff
