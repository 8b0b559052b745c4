"""The scheduler against a busy or failing job store: no lost wake-up, no long loop stall."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from core.scheduler import (
    BulkSQLAlchemyJobStore,
    create_scheduler,
    retry_job_id,
    schedule_once,
    shutdown_scheduler,
)
from tests.unit import scheduler_jobs_for_tests as jobs


@pytest.fixture(autouse=True)
def _clear_calls() -> Any:
    jobs.CALLS.clear()
    yield
    jobs.CALLS.clear()


async def _wait_for_calls(count: int, timeout: float) -> None:
    for _ in range(int(timeout / 0.05)):
        if len(jobs.CALLS) >= count:
            return
        await asyncio.sleep(0.05)


async def test_a_locked_sqlite_file_neither_stalls_the_loop_nor_loses_jobs(
    tmp_path: Path,
) -> None:
    """Another connection holds the write lock while two one-off jobs fall due.

    Before: the store waited pysqlite's 5 s for the lock on the loop thread (and, past that,
    the `database is locked` error inside `wakeup` left the scheduler with no next wake-up).
    """
    file = tmp_path / "tracker.db"
    scheduler = create_scheduler(f"sqlite+aiosqlite:///{file}")
    scheduler.start(paused=True)
    try:
        now = datetime.now(UTC)
        schedule_once(scheduler, retry_job_id(1), jobs.RETRY_REF, now + timedelta(seconds=0.5), [1])
        schedule_once(scheduler, retry_job_id(2), jobs.RETRY_REF, now + timedelta(seconds=1.2), [2])
        blocker = sqlite3.connect(file, isolation_level=None)
        blocker.execute("PRAGMA journal_mode=WAL")
        blocker.execute("BEGIN IMMEDIATE")  # the write lock, as a long sync transaction holds it
        scheduler.resume()

        lags: list[float] = []

        async def tick() -> None:
            while True:
                started = time.monotonic()
                await asyncio.sleep(0.02)
                lags.append(time.monotonic() - started - 0.02)

        ticker = asyncio.create_task(tick())
        try:
            await asyncio.sleep(3.0)  # both jobs fall due while the file is locked
            blocker.execute("ROLLBACK")
            blocker.close()
            await _wait_for_calls(2, timeout=10)
            await asyncio.sleep(2.5)  # a retry of the write that ran them must not rerun them
        finally:
            ticker.cancel()
        assert sorted(jobs.CALLS) == [("retry", (1,)), ("retry", (2,))]
        assert max(lags) < 1.0, f"the loop stalled for {max(lags):.2f} s"
        # The finished one-off jobs were removed once the lock was free.
        for _ in range(100):
            if not scheduler.get_jobs():
                break
            await asyncio.sleep(0.1)
        assert scheduler.get_jobs() == []
    finally:
        await shutdown_scheduler(scheduler)


async def test_a_job_store_error_inside_wakeup_keeps_the_next_wake_up(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """get_next_run_time fails once after a job ran: APScheduler alone would never wake again."""
    scheduler = create_scheduler(database_url)
    scheduler.start(paused=True)
    store = scheduler._lookup_jobstore("default")
    assert isinstance(store, BulkSQLAlchemyJobStore)
    failures = [0]
    original = BulkSQLAlchemyJobStore.get_next_run_time
    now = datetime.now(UTC)
    first_due = now + timedelta(seconds=0.3)

    def failing_once(self: BulkSQLAlchemyJobStore) -> datetime | None:
        # Fails in the pass that runs the first job, before the second one is due.
        if datetime.now(UTC) >= first_due and not failures[0]:
            failures[0] += 1
            raise OperationalError("UPDATE apscheduler_jobs", {}, Exception("database is locked"))
        return original(self)

    try:
        schedule_once(scheduler, retry_job_id(1), jobs.RETRY_REF, first_due, [1])
        schedule_once(scheduler, retry_job_id(2), jobs.RETRY_REF, now + timedelta(seconds=1.0), [2])
        monkeypatch.setattr(BulkSQLAlchemyJobStore, "get_next_run_time", failing_once)
        scheduler.resume()
        await _wait_for_calls(2, timeout=8)
        assert failures[0] == 1
        assert sorted(jobs.CALLS) == [("retry", (1,)), ("retry", (2,))]
    finally:
        await shutdown_scheduler(scheduler)
