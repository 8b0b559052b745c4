"""Maintenance jobs, crash recovery and the scheduler lease."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core import jobs
from core.background import Background
from core.scheduler import CLEANUP_JOB_ID, EXPIRING_KEYS_JOB_ID, HEALTH_JOB_ID
from storage.models import HealthCheck, SyncLog, Tenant
from tests.e2e.harness import Harness, onboard, running_bot, small_seller

KEYS = "Xw4_bB3J7e1wq0s8n8x7B6rP1xQm2oYv3kQyZ0mV0cU="


async def _logs(h: Harness) -> list[SyncLog]:
    async with h.app.sessions() as session:
        return list((await session.execute(select(SyncLog).order_by(SyncLog.id))).scalars())


async def test_maintenance_jobs_are_scheduled(database_url: str, tmp_path: Path) -> None:
    async with running_bot(database_url, tmp_path, small_seller()) as h:
        cleanup = h.app.scheduler.get_job(CLEANUP_JOB_ID)
        health = h.app.scheduler.get_job(HEALTH_JOB_ID)
        assert h.app.scheduler.get_job(EXPIRING_KEYS_JOB_ID) is not None
        local = cleanup.next_run_time.astimezone(cleanup.trigger.timezone)
        assert (local.hour, local.minute) == (3, 0)
        assert health.next_run_time - datetime.now(UTC) <= timedelta(minutes=5)


async def test_old_sync_logs_are_removed(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        tenant_id = await onboard(h, seller)
        now = datetime.now(UTC)
        async with h.app.sessions() as session, session.begin():
            for age_days in (40, 31, 29, 1):
                session.add(
                    SyncLog(
                        tenant_id=tenant_id,
                        trigger="scheduled",
                        status="completed",
                        started_at=now - timedelta(days=age_days),
                    )
                )
        await jobs.cleanup_sync_logs()
        ages = sorted(
            round((now - log.started_at).total_seconds() / 86400) for log in await _logs(h)
        )
        assert ages == [1, 29]


async def test_health_check_is_stored(database_url: str, tmp_path: Path) -> None:
    async with running_bot(database_url, tmp_path, small_seller()) as h:
        await jobs.health_check()
        async with h.app.sessions() as session:
            [check] = (await session.execute(select(HealthCheck))).scalars()
        assert check.ok is True
        assert check.details["database"] is True and check.details["scheduler"] is True
        assert check.details["polling"] is True


async def test_key_expiry_warned_7_days_and_1_day_before(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        tenant_id = await onboard(h, seller)

        async def expire_in(delta: timedelta) -> None:
            async with h.app.sessions() as session, session.begin():
                await session.execute(
                    update(Tenant)
                    .where(Tenant.id == tenant_id)
                    .values(key_expires_at=datetime.now(UTC) + delta)
                )

        await expire_in(timedelta(days=30))
        mark = h.tg.mark()
        await jobs.warn_expiring_keys()
        assert h.tg.calls_to("sendMessage", since=mark) == []
        await expire_in(timedelta(days=6, hours=20))
        await jobs.warn_expiring_keys()
        text = await h.wait_text(1001, "Ключ WB истекает", since=mark)
        assert "осталось дней: 7" in text
        await jobs.warn_expiring_keys()  # once only
        assert len(h.tg.calls_to("sendMessage", since=mark)) == 1
        await expire_in(timedelta(hours=20))
        await jobs.warn_expiring_keys()
        assert "осталось дней: 1" in await h.wait_text(1001, "осталось дней: 1", since=mark)
        assert len(h.tg.calls_to("sendMessage", since=mark)) == 2


async def test_sync_killed_mid_way_is_marked_interrupted_at_next_start(
    database_url: str, tmp_path: Path
) -> None:
    """A SIGKILL leaves the log "in progress" and no live lease: the next start tells the seller."""
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller, encryption_keys=KEYS) as h:
        tenant_id = await onboard(h, seller)
        async with h.app.sessions() as session, session.begin():
            session.add(SyncLog(tenant_id=tenant_id, trigger="manual", status="in_progress"))
    async with running_bot(database_url, tmp_path, seller, encryption_keys=KEYS) as h:
        text = await h.wait_text(1001, "прервалась")
        assert "/sync" in text
        [log] = await _logs(h)
        assert log.status == "interrupted"
        h.wb.remains_polls_until_done = 1
        h.tg.user_says("/sync")
        await h.wait_text(1001, "Синхронизация завершена", timeout=60)
        assert [log.status for log in await _logs(h)] == ["interrupted", "completed"]
        assert len(h.app.scheduler.get_jobs()) == 4  # no duplicate jobs


async def test_second_process_stands_by_and_runs_no_scheduler(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        tenant_id = await onboard(h, seller)
        second = Background(
            settings=h.settings,
            sessions=h.app.sessions,
            syncs=h.app.syncs,
            notifier=h.app.notifier,
            polling_alive=lambda: True,
        )
        with caplog.at_level(logging.WARNING, logger="core.background"):
            await second.start()
        try:
            assert not second.leader and not second.scheduler.running
            assert "another process holds the scheduler lease" in caplog.text
            # The standby's syncs are refused while the first holds the tenant's lease too.
            assert h.app.background is not None and h.app.background.leader
        finally:
            await second.stop()
        # second.stop() uninstalled the job runtime: put the leader's back for teardown.
        jobs.install(
            jobs.JobRuntime(
                syncs=h.app.syncs,
                sessions=h.app.sessions,
                scheduler=h.app.scheduler,
                notifier=h.app.notifier,
                settings=h.settings,
                polling_alive=lambda: True,
            )
        )
        assert h.app.scheduler.get_job(f"tenant-sync:{tenant_id}") is not None


async def test_a_second_process_never_syncs_a_tenant_twice(
    database_url: str, tmp_path: Path
) -> None:
    from core import leases
    from core.notifier import Trigger
    from core.sync import SyncService, sync_lease

    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 2  # keeps the first sync busy for ~5 s
        tenant_id = await onboard(h, seller)
        other = SyncService(
            sessions=h.app.sessions,
            vault=h.app.vault,
            notifier=h.app.notifier,
            settings=h.settings,
            http=h.app.http,
        )
        h.tg.user_says("/sync")
        await h.wait_text(1001, "Синхронизация\n")
        assert await other.run(tenant_id, Trigger.SCHEDULED) is None
        await h.wait_text(1001, "Синхронизация завершена", timeout=60)
        assert [log.trigger for log in await _logs(h)] == ["manual"]
        # The lease is free again once the sync finished.
        assert await leases.acquire(h.app.sessions, sync_lease(tenant_id), "x", timedelta(1))
