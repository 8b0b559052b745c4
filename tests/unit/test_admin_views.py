"""Admin views that need no chat: scheduled runs from APScheduler, uptime and job lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.admin_render import jobs, uptime
from core.admin import scheduled_runs


def _noop() -> None:
    """A job function (never run: the scheduler stays paused)."""


async def test_scheduled_runs_come_soonest_first_with_paused_jobs_last() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    assert scheduled_runs(scheduler) is None  # not started: "no scheduler here"
    assert scheduled_runs(None) is None
    scheduler.start(paused=True)
    try:
        now = datetime.now(UTC)
        for job_id, minutes in (("tenant-sync:3", 30), ("maintenance:x", 5), ("tenant-sync:1", 60)):
            scheduler.add_job(_noop, DateTrigger(now + timedelta(minutes=minutes)), id=job_id)
        scheduler.get_job("maintenance:x").pause()
        runs = scheduled_runs(scheduler)
        assert runs is not None
        assert [(r.job_id, r.tenant_id) for r in runs] == [
            ("tenant-sync:3", 3),
            ("tenant-sync:1", 1),
            ("maintenance:x", None),
        ]
        assert runs[-1].next_run_at is None
        text = jobs("en", runs, "Europe/Moscow")
        assert text.splitlines()[0] == "Scheduled jobs (3):"
        assert text.splitlines()[-1] == "• paused — maintenance:x"
    finally:
        scheduler.shutdown(wait=False)


def test_jobs_without_a_scheduler_say_so() -> None:
    assert jobs("ru", None, "UTC") == "Планировщик в этом процессе не запущен."
    assert jobs("en", [], "UTC") == "No scheduled jobs."


def test_uptime_reads_in_hours_then_days() -> None:
    assert uptime("ru", 59) == "0 ч 0 мин"
    assert uptime("en", 3 * 3600 + 7 * 60 + 5) == "3 h 7 min"
    assert uptime("en", 2 * 86400 + 5 * 3600) == "2 d 5 h"
