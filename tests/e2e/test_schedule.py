"""Per-seller schedules: /schedule, jobs in the store, restarts, retries, resumes, no overlap."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from core import jobs
from core.scheduler import resume_job_id, retry_job_id, sync_job_id
from storage.models import SyncLog, Tenant
from tests.e2e.harness import Harness, onboard, running_bot, small_seller
from tests.fakes.wb import FakeWB


async def _logs(h: Harness) -> list[SyncLog]:
    async with h.app.sessions() as session:
        return list((await session.execute(select(SyncLog).order_by(SyncLog.id))).scalars())


async def _tenant(h: Harness, tenant_id: int) -> Tenant:
    async with h.app.sessions() as session:
        tenant = await session.get(Tenant, tenant_id)
    assert tenant is not None
    return tenant


async def _wait_for(cond: object, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await cond():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_new_key_gets_the_default_schedule_shown_in_words(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        tenant_id = await onboard(h, seller)
        job = h.app.scheduler.get_job(sync_job_id(tenant_id))
        assert job is not None
        assert str(job.trigger.timezone) == "Europe/Moscow"
        text = await h.reply_to("/schedule")
        assert "каждые 6 часов" in text and "Ближайшие запуски" in text
        assert text.count(":00") >= 3  # three next run times
        buttons = h.tg.last_message(1001)["reply_markup"]["inline_keyboard"]
        assert {b["callback_data"] for row in buttons for b in row} == {
            "sched:hourly",
            "sched:every_6h",
            "sched:daily_9",
            "sched:off",
        }
        english = await h.reply_to("/schedule", language_code="en")
        assert "every 6 hours" in english


async def test_schedule_set_off_presets_and_invalid_cron(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        tenant_id = await onboard(h, seller, token_type=3)
        text = await h.reply_to("/schedule 30 9 * * 1")
        assert "по понедельникам в 09:30" in text
        assert (await _tenant(h, tenant_id)).schedule_cron == "30 9 * * 1"
        bad = await h.reply_to("/schedule 61 * * * *")
        assert "минута" in bad and "Пример" in bad
        assert (await _tenant(h, tenant_id)).schedule_cron == "30 9 * * 1"
        short = await h.reply_to("/schedule every day")
        assert "нужно 5 полей" in short
        too_often = await h.reply_to("/schedule * * * * *")
        assert "слишком часто" in too_often
        assert (await _tenant(h, tenant_id)).schedule_cron == "30 9 * * 1"
        off = await h.reply_to("/schedule off")
        assert "выключено" in off
        assert h.app.scheduler.get_job(sync_job_id(tenant_id)) is None
        message_id = h.tg.last_message(1001)["message_id"]
        await h.reply_to("/schedule")
        message_id = h.tg.last_message(1001)["message_id"]
        mark = h.tg.mark()
        h.tg.press_button(1001, message_id, "sched:daily_9")
        await h.wait_text(1001, "каждый день в 09:00", since=mark)
        assert h.app.scheduler.get_job(sync_job_id(tenant_id)) is not None


async def test_base_key_schedule_says_what_refreshes_less_often(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        await onboard(h, seller, token_type=1)
        text = await h.reply_to("/schedule */30 * * * *")
        assert "заказы будут обновляться не чаще чем каждые 3 часа" in text


async def test_timezone_moves_the_runs(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        tenant_id = await onboard(h, seller)
        await h.reply_to("/schedule 0 9 * * *")
        text = await h.reply_to("/schedule tz Asia/Novosibirsk")
        assert "Asia/Novosibirsk" in text
        job = h.app.scheduler.get_job(sync_job_id(tenant_id))
        assert job.next_run_time.astimezone(UTC).hour == 2  # 09:00 in Novosibirsk is 02:00 UTC
        bad = await h.reply_to("/schedule tz Mars/Olympus")
        assert "Не знаю часовой пояс" in bad
        assert (await _tenant(h, tenant_id)).timezone == "Asia/Novosibirsk"


async def test_threshold(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        tenant_id = await onboard(h, seller)
        assert "7 дн" in await h.reply_to("/threshold")
        for bad in ("/threshold 0", "/threshold abc", "/threshold 1000", "/threshold -3"):
            assert "целое число дней" in await h.reply_to(bad)
        assert "10 дн" in await h.reply_to("/threshold 10")
        assert (await _tenant(h, tenant_id)).low_stock_threshold == 10


async def test_a_schedule_fires_and_syncs_quietly(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 1
        tenant_id = await onboard(h, seller)
        mark = h.tg.mark()
        h.app.scheduler.get_job(sync_job_id(tenant_id)).modify(next_run_time=datetime.now(UTC))
        h.app.scheduler.wakeup()

        async def synced() -> bool:
            return any(log.status == "completed" for log in await _logs(h))

        await _wait_for(synced)
        [log] = await _logs(h)
        assert log.trigger == "scheduled"
        # The first scheduled run only sets the alert baseline: nothing is posted by default.
        await asyncio.sleep(0.3)
        assert h.tg.calls_to("sendMessage", since=mark) == []


async def test_notify_all_posts_every_scheduled_run(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 1
        tenant_id = await onboard(h, seller)
        assert "каждое обновление" in await h.reply_to("/schedule notify all")
        assert "Выберите" in await h.reply_to("/schedule notify loud")
        mark = h.tg.mark()
        await jobs.run_scheduled_sync(tenant_id)
        text = await h.wait_text(1001, "Синхронизация завершена", since=mark)
        assert "Товаров" in text


async def test_scheduled_and_manual_syncs_never_overlap(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 2  # the manual sync waits ~5 s on the report
        tenant_id = await onboard(h, seller)
        h.tg.user_says("/sync")
        await _wait_for(lambda: _async_true(h.app.syncs.is_running(tenant_id)))
        await jobs.run_scheduled_sync(tenant_id)  # returns at once: skipped
        await h.wait_text(1001, "Синхронизация завершена", timeout=60)
        logs = await _logs(h)
        assert [log.trigger for log in logs] == ["manual"]
        assert h.wb.calls("remains_create") == 1


async def _async_true(value: bool) -> bool:
    return value


async def test_transient_failures_retry_three_times_then_one_message(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller, wb_retry_backoff_seconds=0.01) as h:
        tenant_id = await onboard(h, seller)
        h.wb.fail_next("cards_list", 503, times=1000)
        mark = h.tg.mark()
        await jobs.run_scheduled_sync(tenant_id)
        for attempt in (1, 2, 3):
            job = h.app.scheduler.get_job(retry_job_id(tenant_id))
            assert job is not None, f"no retry job before attempt {attempt}"
            assert job.args == (tenant_id, attempt)
            delay = job.next_run_time - datetime.now(UTC)
            assert timedelta(minutes=4) < delay <= timedelta(minutes=5)
            # Quiet until the last attempt (default notification mode).
            assert h.tg.calls_to("sendMessage", since=mark) == []
            job.remove()  # as when the one-off job fires
            await jobs.retry_sync(tenant_id, attempt)
        assert h.app.scheduler.get_job(retry_job_id(tenant_id)) is None
        text = await h.wait_text(1001, "Синхронизация не удалась", since=mark)
        assert "WB сейчас не отвечает" in text and "Попытки исчерпаны" in text
        assert len(h.tg.calls_to("sendMessage", since=mark)) == 1
        assert [log.status for log in await _logs(h)] == ["failed"] * 4
        assert [log.trigger for log in await _logs(h)] == ["scheduled", "retry", "retry", "retry"]


async def test_rejected_key_pauses_the_schedule_until_a_new_key(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        tenant_id = await onboard(h, seller)
        assert h.app.scheduler.get_job(sync_job_id(tenant_id)) is not None
        removed = h.wb.sellers.pop(seller.seller_id)  # WB now answers 401 to this key
        mark = h.tg.mark()
        await jobs.run_scheduled_sync(tenant_id)
        text = await h.wait_text(1001, "WB отклонил ключ", since=mark)
        assert "приостановлено до нового ключа" in text
        assert h.app.scheduler.get_job(sync_job_id(tenant_id)) is None
        status = await h.reply_to("/status")
        assert "по расписанию, ошибка, 0 с: WB отклонил ключ (unknown seller)" in status
        assert "key_rejected" not in status
        h.wb.sellers[seller.seller_id] = removed
        h.wb.limits_enabled = False
        await onboard(h, seller)
        assert h.app.scheduler.get_job(sync_job_id(tenant_id)) is not None
        assert (await _tenant(h, tenant_id)).key_invalid_reason is None


async def test_schedules_survive_a_restart(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    keys = "Xw4_bB3J7e1wq0s8n8x7B6rP1xQm2oYv3kQyZ0mV0cU="
    async with running_bot(database_url, tmp_path, seller, encryption_keys=keys) as h:
        tenant_id = await onboard(h, seller)
        await h.reply_to("/schedule 15 */2 * * *")
        before = h.app.scheduler.get_job(sync_job_id(tenant_id)).next_run_time
    async with running_bot(database_url, tmp_path, seller, encryption_keys=keys) as h:
        job = h.app.scheduler.get_job(sync_job_id(tenant_id))
        assert job is not None and job.next_run_time == before
        assert "каждые 2 часа" in await h.reply_to("/schedule")
        assert len(h.app.scheduler.get_jobs()) == 4  # the tenant's job + 3 maintenance jobs


async def test_resume_after_restart_mid_wait_continues_the_report(
    database_url: str, tmp_path: Path
) -> None:
    """A Base key's report waits ~15 min for its status call; a restart then continues it."""
    seller = small_seller()
    keys = "Xw4_bB3J7e1wq0s8n8x7B6rP1xQm2oYv3kQyZ0mV0cU="
    async with FakeWB(seller) as wb:
        async with running_bot(database_url, tmp_path, seller, wb=wb, encryption_keys=keys) as h:
            wb.remains_polls_until_done = 2
            tenant_id = await onboard(h, seller, token_type=1)
            h.tg.user_says("/sync")
            await h.wait_text(1001, "Синхронизация завершена", timeout=60)
            job = h.app.scheduler.get_job(resume_job_id(tenant_id))
            assert job is not None
            wait = job.next_run_time - datetime.now(UTC)
            assert timedelta(minutes=10) < wait < timedelta(minutes=16)
            assert wb.calls("remains_create") == 1
        async with running_bot(database_url, tmp_path, seller, wb=wb, encryption_keys=keys) as h:
            assert h.app.scheduler.get_job(resume_job_id(tenant_id)) is not None
            # Fifteen minutes pass: WB's limits allow the next calls.
            wb.limits_enabled = False
            async with h.app.sessions() as session, session.begin():
                await session.execute(
                    update(Tenant).where(Tenant.id == tenant_id).values(limiter_state=None)
                )
            wb.remains_polls_until_done = 0  # WB has finished the report meanwhile
            await jobs.resume_sync(tenant_id)
            logs = await _logs(h)
            assert logs[-1].trigger == "resume", logs[-1].details
            assert logs[-1].status == "completed", logs[-1].details
            assert wb.calls("remains_create") == 1  # the same task continued, none created
            assert wb.calls("remains_download") == 1
            assert logs[-1].fbo_units == seller.truth_fbo_units()


async def test_a_blocked_chat_loses_its_schedule_until_unblocked(
    database_url: str, tmp_path: Path
) -> None:
    from tests.e2e.test_telegram_faults import _membership

    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        tenant_id = await onboard(h, seller)
        job_id = sync_job_id(tenant_id)

        async def job_present() -> bool:
            return h.app.scheduler.get_job(job_id) is not None

        async def job_gone() -> bool:
            return h.app.scheduler.get_job(job_id) is None

        h.tg.add_update(_membership(h.tg.bot_user, "member", "kicked"))
        await _wait_for(job_gone)
        h.tg.add_update(_membership(h.tg.bot_user, "kicked", "member"))
        await _wait_for(job_present)
        # A 403 on any send teaches the same.
        h.tg.block_chat(1001)
        assert await h.app.notifier.send(1001, "hello") is None
        await _wait_for(job_gone)
        assert not (await _tenant(h, tenant_id)).is_active
