"""The persistent scheduler: job store URLs, reconciling, restarts, coalescing, firing."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from psycopg import sql
from sqlalchemy.engine import make_url

from core.scheduler import (
    MaintenanceJob,
    TenantSchedule,
    create_scheduler,
    ensure_maintenance_jobs,
    job_store_url,
    reconcile_tenant_jobs,
    resume_job_id,
    retry_job_id,
    schedule_once,
    set_tenant_schedule,
    shutdown_scheduler,
    sync_job_id,
)
from core.scheduling import InvalidCron
from tests.unit import scheduler_jobs_for_tests as jobs

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.mark.parametrize(
    ("app_url", "store_url"),
    [
        ("sqlite+aiosqlite:///data/stock_tracker.db", "sqlite:///data/stock_tracker.db"),
        ("sqlite+aiosqlite:////var/lib/bot/db.sqlite", "sqlite:////var/lib/bot/db.sqlite"),
        ("sqlite:///plain.db", "sqlite:///plain.db"),
        (
            "postgresql+asyncpg://bot:s3cr%40t@db.example:6543/tracker?application_name=bot",
            "postgresql+psycopg://bot:s3cr%40t@db.example:6543/tracker?application_name=bot",
        ),
        ("postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        (
            "postgres://u:p@h:5432/db?sslmode=require",
            "postgresql+psycopg://u:p@h:5432/db?sslmode=require",
        ),
        ("postgresql+asyncpg://u@h/db?ssl=require", "postgresql+psycopg://u@h/db?sslmode=require"),
    ],
)
def test_job_store_url_is_the_sync_twin_of_the_app_url(app_url: str, store_url: str) -> None:
    assert job_store_url(app_url) == store_url


@pytest.mark.parametrize("app_url", ["mysql+aiomysql://u@h/db", "not a url"])
def test_job_store_url_refuses_unsupported_databases(app_url: str) -> None:
    with pytest.raises(ValueError):
        job_store_url(app_url)


@pytest.fixture(autouse=True)
def _clear_calls() -> Iterator[None]:
    jobs.CALLS.clear()
    yield
    jobs.CALLS.clear()


def _postgres_database() -> Iterator[str]:
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    name = f"scheduler_test_{uuid4().hex[:12]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The app's (async) database URL: a temp SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}"
    else:
        yield from _postgres_database()


@asynccontextmanager
async def started(database_url: str, *, paused: bool = True) -> AsyncIterator[AsyncIOScheduler]:
    scheduler = create_scheduler(database_url)
    scheduler.start(paused=paused)
    try:
        yield scheduler
    finally:
        await shutdown_scheduler(scheduler)


def run_events(scheduler: AsyncIOScheduler) -> asyncio.Queue[JobEvent]:
    """A queue that receives every executed, failed or missed job run."""
    queue: asyncio.Queue[JobEvent] = asyncio.Queue()
    scheduler.add_listener(
        queue.put_nowait, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
    )
    return queue


async def next_event(queue: asyncio.Queue[JobEvent]) -> JobEvent:
    return await asyncio.wait_for(queue.get(), timeout=5)


THREE_TENANTS = [
    TenantSchedule(1, "0 */6 * * *", "Europe/Moscow", active=True),
    TenantSchedule(2, "0 9 * * *", "Asia/Novosibirsk", active=True),
    TenantSchedule(3, "30 8 * * 1-5", "Europe/Berlin", active=True),
]


def next_run_times(scheduler: AsyncIOScheduler) -> dict[str, datetime]:
    return {job.id: job.next_run_time for job in scheduler.get_jobs()}


async def test_schedules_survive_a_restart(database_url: str) -> None:
    async with started(database_url) as scheduler:
        result = reconcile_tenant_jobs(scheduler, THREE_TENANTS, func_ref=jobs.SYNC_REF)
        assert (result.added, result.removed, result.replaced) == (3, 0, 0)
        before = next_run_times(scheduler)
    assert set(before) == {sync_job_id(1), sync_job_id(2), sync_job_id(3)}

    async with started(database_url) as scheduler:
        assert next_run_times(scheduler) == before
        again = reconcile_tenant_jobs(scheduler, THREE_TENANTS, func_ref=jobs.SYNC_REF)
        assert (again.added, again.replaced, again.removed, again.unchanged) == (0, 0, 0, 3)
        assert next_run_times(scheduler) == before
        novosibirsk = scheduler.get_job(sync_job_id(2))
        assert novosibirsk.args == (2,)
        assert novosibirsk.next_run_time.astimezone(UTC).hour == 2


async def test_reconcile_removes_jobs_of_paused_unscheduled_and_unknown_tenants(
    database_url: str,
) -> None:
    async with started(database_url) as scheduler:
        reconcile_tenant_jobs(
            scheduler,
            [*THREE_TENANTS, TenantSchedule(4, "0 * * * *", "UTC", active=True)],
            func_ref=jobs.SYNC_REF,
        )
        in_an_hour = datetime.now(UTC) + timedelta(hours=1)
        schedule_once(scheduler, retry_job_id(2), jobs.RETRY_REF, in_an_hour, [2])
        schedule_once(scheduler, resume_job_id(3), jobs.RETRY_REF, in_an_hour, [3])
        schedule_once(scheduler, "unrelated", jobs.RETRY_REF, in_an_hour, [0])

        result = reconcile_tenant_jobs(
            scheduler,
            [
                TenantSchedule(1, "0 9 * * *", "Europe/Moscow", active=True),  # changed
                TenantSchedule(2, "0 9 * * *", "Asia/Novosibirsk", active=False),  # paused
                TenantSchedule(3, None, "Europe/Berlin", active=True),  # schedule off
            ],  # tenant 4 is gone
            func_ref=jobs.SYNC_REF,
        )

        assert (result.added, result.replaced, result.unchanged) == (0, 1, 0)
        assert result.removed == 4  # sync 2, sync 3, sync 4, retry 2
        remaining = next_run_times(scheduler)
        # A manual sync of an active tenant may still be waiting for WB: its resume job stays.
        assert set(remaining) == {sync_job_id(1), resume_job_id(3), "unrelated"}
        moscow_nine = remaining[sync_job_id(1)].astimezone(UTC)
        assert (moscow_nine.hour, moscow_nine.minute) == (6, 0)

    async with started(database_url) as scheduler:
        assert set(next_run_times(scheduler)) == {sync_job_id(1), resume_job_id(3), "unrelated"}


async def test_missed_runs_within_grace_run_once_after_restart(database_url: str) -> None:
    every_five = [TenantSchedule(7, "*/5 * * * *", "UTC", active=True)]
    async with started(database_url) as scheduler:
        reconcile_tenant_jobs(scheduler, every_five, func_ref=jobs.SYNC_REF)
        # The bot goes down for 22 minutes: four runs are missed while it is away.
        scheduler.modify_job(
            sync_job_id(7), next_run_time=datetime.now(UTC) - timedelta(minutes=22)
        )

    async with started(database_url) as scheduler:
        events = run_events(scheduler)
        result = reconcile_tenant_jobs(scheduler, every_five, func_ref=jobs.SYNC_REF)
        assert result.unchanged == 1  # the missed runs are not thrown away by reconciling
        scheduler.resume()
        event = await next_event(events)
        assert event.code == EVENT_JOB_EXECUTED
        await asyncio.sleep(0.3)
        assert jobs.CALLS == [("sync", (7,))]
        assert events.empty()
        assert scheduler.get_job(sync_job_id(7)).next_run_time > datetime.now(UTC)


async def test_fired_cron_job_calls_the_job_function_with_the_tenant_id(database_url: str) -> None:
    async with started(database_url, paused=False) as scheduler:
        events = run_events(scheduler)
        reconcile_tenant_jobs(
            scheduler,
            [TenantSchedule(42, "0 9 * * *", "Asia/Novosibirsk", active=True)],
            func_ref=jobs.SYNC_REF,
        )
        job = scheduler.get_job(sync_job_id(42))
        job.modify(next_run_time=datetime.now(UTC))
        assert (await next_event(events)).code == EVENT_JOB_EXECUTED
        assert jobs.CALLS == [("sync", (42,))]
        following = scheduler.get_job(sync_job_id(42)).next_run_time.astimezone(UTC)
        assert (following.hour, following.minute) == (2, 0)


async def test_one_off_retry_runs_once_and_leaves_the_store(database_url: str) -> None:
    async with started(database_url, paused=False) as scheduler:
        events = run_events(scheduler)
        schedule_once(scheduler, retry_job_id(5), jobs.RETRY_REF, datetime.now(UTC), [5])
        assert (await next_event(events)).code == EVENT_JOB_EXECUTED
        assert jobs.CALLS == [("retry", (5,))]
        assert scheduler.get_job(retry_job_id(5)) is None


async def test_set_tenant_schedule_replaces_and_removes_one_job(database_url: str) -> None:
    async with started(database_url) as scheduler:
        first = set_tenant_schedule(scheduler, 9, "0 9 * * *", "UTC", func_ref=jobs.SYNC_REF)
        assert first is not None
        assert (first.hour, first.minute) == (9, 0)
        second = set_tenant_schedule(scheduler, 9, "0 */6 * * *", "UTC", func_ref=jobs.SYNC_REF)
        assert second is not None
        assert second.hour % 6 == 0
        assert [job.id for job in scheduler.get_jobs()] == [sync_job_id(9)]
        with pytest.raises(InvalidCron):
            set_tenant_schedule(scheduler, 9, "0 25 * * *", "UTC", func_ref=jobs.SYNC_REF)
        assert scheduler.get_job(sync_job_id(9)).next_run_time == second
        assert set_tenant_schedule(scheduler, 9, None, "UTC") is None
        assert scheduler.get_jobs() == []


async def test_reconcile_skips_tenants_whose_stored_schedule_no_longer_parses(
    database_url: str,
) -> None:
    async with started(database_url) as scheduler:
        result = reconcile_tenant_jobs(
            scheduler,
            [
                TenantSchedule(1, "0 9 * * *", "UTC", active=True),
                TenantSchedule(2, "every day", "UTC", active=True),
                TenantSchedule(3, "0 9 * * *", "Atlantis/Capital", active=True),
            ],
            func_ref=jobs.SYNC_REF,
        )
        assert result.invalid == (2, 3)
        assert [job.id for job in scheduler.get_jobs()] == [sync_job_id(1)]


async def test_maintenance_jobs_are_written_once(database_url: str) -> None:
    specs = [
        MaintenanceJob("maintenance:cleanup", jobs.MAINTENANCE_REF, "0 3 * * *"),
        MaintenanceJob("maintenance:health", jobs.MAINTENANCE_REF, "*/5 * * * *"),
    ]
    async with started(database_url) as scheduler:
        assert ensure_maintenance_jobs(scheduler, "Europe/Moscow", specs) == 2
        before = next_run_times(scheduler)
    async with started(database_url) as scheduler:
        assert ensure_maintenance_jobs(scheduler, "Europe/Moscow", specs) == 0
        assert next_run_times(scheduler) == before
        cleanup = before["maintenance:cleanup"].astimezone(UTC)
        assert (cleanup.hour, cleanup.minute) == (0, 0)  # 03:00 in Moscow


async def test_many_tenants_reconcile_in_bulk_and_restart_writes_nothing(
    database_url: str,
) -> None:
    tenants = [
        TenantSchedule(i, "0 */6 * * *" if i % 2 else "30 9 * * *", "Europe/Moscow", True)
        for i in range(1, 1001)
    ]
    async with started(database_url) as scheduler:
        assert reconcile_tenant_jobs(scheduler, tenants, func_ref=jobs.SYNC_REF).added == 1000
    async with started(database_url) as scheduler:
        result = reconcile_tenant_jobs(scheduler, tenants, func_ref=jobs.SYNC_REF)
        assert (result.added, result.replaced, result.removed, result.unchanged) == (0, 0, 0, 1000)
        assert len(scheduler.get_jobs()) == 1000


async def test_reconcile_needs_a_started_scheduler(tmp_path: Path) -> None:
    scheduler = create_scheduler(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(RuntimeError):
        reconcile_tenant_jobs(scheduler, THREE_TENANTS, func_ref=jobs.SYNC_REF)


async def test_jobs_falling_due_together_each_run_once_and_keep_their_next_runs(
    database_url: str,
) -> None:
    tenants = [TenantSchedule(i, "*/5 * * * *", "UTC", active=True) for i in range(1, 51)]
    ten_minutes_ago = datetime.now(UTC) - timedelta(minutes=10)
    async with started(database_url) as scheduler:
        events = run_events(scheduler)
        reconcile_tenant_jobs(scheduler, tenants, func_ref=jobs.SYNC_REF, now=ten_minutes_ago)
        scheduler.resume()
        for _ in tenants:
            assert (await next_event(events)).code == EVENT_JOB_EXECUTED
        assert len(jobs.CALLS) == 50
        assert set(jobs.CALLS) == {("sync", (i,)) for i in range(1, 51)}
    async with started(database_url) as scheduler:
        now = datetime.now(UTC)
        assert all(when > now for when in next_run_times(scheduler).values())
