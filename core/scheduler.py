"""The APScheduler wrapper: the persistent job store, job ids, and tenant schedule reconciling.

Job functions are referenced by text ("core.jobs:run_scheduled_sync"); APScheduler 3 silently
drops a stored job whose function it can no longer import, so these refs are a public API.
Jobs take only ids as arguments.

Start-up order: `create_scheduler(...)`, `scheduler.start(paused=True)`,
`reconcile_tenant_jobs(...)`, `ensure_maintenance_jobs(...)`, `scheduler.resume()`. Starting
paused lets the job store open (reconciling needs it) without firing jobs of tenants that
reconciling is about to remove; `resume()` then runs what was missed within the grace time,
once per job (coalesce).

The job store's engine is synchronous and APScheduler calls it on the event loop's thread, so a
SQLite write lock held by a sync (another connection to the same file) blocks the loop for as
long as the store waits for it. The store therefore waits briefly: 200 ms while the scheduler
processes due jobs, 1 s for other calls on the loop (adding a retry, removing a job), 15 s in
worker threads (reconciling). A write that still finds the file locked is kept and written on the
next wake-up, which the scheduler arms `JOBSTORE_RETRY_SECONDS` later; a job-store error while
processing due jobs never leaves the scheduler without its next wake-up.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING, STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import bindparam, event, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.scheduling import InvalidCron, InvalidTimezone, parse_cron

log = logging.getLogger(__name__)

RUN_SCHEDULED_SYNC = "core.jobs:run_scheduled_sync"
RETRY_SYNC = "core.jobs:retry_sync"
RESUME_SYNC = "core.jobs:resume_sync"
CLEANUP_SYNC_LOGS = "core.jobs:cleanup_sync_logs"
HEALTH_CHECK = "core.jobs:health_check"
WARN_EXPIRING_KEYS = "core.jobs:warn_expiring_keys"

JOBS_TABLE = "apscheduler_jobs"
SYNC_JOB_PREFIX = "tenant-sync:"
RETRY_JOB_PREFIX = "tenant-retry:"
RESUME_JOB_PREFIX = "tenant-resume:"
CLEANUP_JOB_ID = "maintenance:cleanup-sync-logs"
HEALTH_JOB_ID = "maintenance:health-check"
EXPIRING_KEYS_JOB_ID = "maintenance:warn-expiring-keys"

DEFAULT_MISFIRE_GRACE_TIME = 3600
# Rows per statement in bulk writes; keeps well under SQLite's bound-parameter limit.
_CHUNK = 500
# How long the job store's SQLite connection waits for the write lock (see the docstring).
BUSY_TIMEOUT_PROCESSING_MS = 200
BUSY_TIMEOUT_ON_LOOP_MS = 1_000
BUSY_TIMEOUT_IN_THREAD_MS = 15_000
# The next wake-up after a job-store error while processing due jobs.
JOBSTORE_RETRY_SECONDS = 2.0


def sync_job_id(tenant_id: int) -> str:
    """The id of a tenant's scheduled sync job."""
    return f"{SYNC_JOB_PREFIX}{tenant_id}"


def retry_job_id(tenant_id: int) -> str:
    """The id of a tenant's one-off retry of a failed sync."""
    return f"{RETRY_JOB_PREFIX}{tenant_id}"


def resume_job_id(tenant_id: int) -> str:
    """The id of a tenant's one-off continuation of a sync waiting for WB (remains report)."""
    return f"{RESUME_JOB_PREFIX}{tenant_id}"


def tenant_id_of(job_id: str) -> int | None:
    """The tenant id in a tenant-sync/retry/resume job id, else None."""
    for prefix in (SYNC_JOB_PREFIX, RETRY_JOB_PREFIX, RESUME_JOB_PREFIX):
        if job_id.startswith(prefix):
            tail = job_id[len(prefix) :]
            return int(tail) if tail.isdigit() else None
    return None


_SYNC_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
    "sqlite+pysqlite": "sqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+psycopg2": "postgresql+psycopg",
}


def job_store_url(database_url: str) -> str:
    """The synchronous SQLAlchemy URL of the same database, for APScheduler's job store.

    sqlite+aiosqlite:///path -> sqlite:///path; postgresql+asyncpg://, postgresql:// and
    postgres:// -> postgresql+psycopg:// with host, port, database, user, password and query
    kept (asyncpg's `ssl=` becomes libpq's `sslmode=`).
    """
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {exc}") from None
    driver = _SYNC_DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(f"no job store for database driver {url.drivername!r}")
    url = url.set(drivername=driver)
    if driver.startswith("postgresql") and "ssl" in url.query:
        query = dict(url.query)
        ssl = query.pop("ssl")
        query.setdefault("sslmode", ssl)
        url = url.set(query=query)
    return url.render_as_string(hide_password=False)


class JobStoreBusy(RuntimeError):
    """The job store could not write the scheduler's bookkeeping now; it is kept for a retry."""


# Set while the scheduler processes due jobs on this thread (`ResilientAsyncIOScheduler`).
_processing = threading.local()


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _busy_timeout_ms() -> int:
    if getattr(_processing, "active", False):
        return BUSY_TIMEOUT_PROCESSING_MS
    return BUSY_TIMEOUT_ON_LOOP_MS if _on_event_loop() else BUSY_TIMEOUT_IN_THREAD_MS


def _short_error(exc: BaseException) -> str:
    """The error's class and first line, without SQL or parameters (safe to log)."""
    orig = getattr(exc, "orig", None) or exc
    first_line = (str(orig).splitlines() or [""])[0][:200]
    return f"{type(orig).__name__}: {first_line}"


class BulkSQLAlchemyJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """APScheduler's SQL job store, writing many jobs per transaction.

    Besides the bulk methods used by reconciling, it batches the scheduler's own bookkeeping:
    APScheduler 3 saves each due job's next run time in its own transaction (one commit, i.e.
    one fsync, per job), which froze the event loop for ~40 s when 5,000 jobs fell due at
    once. Here the updates (and removals of finished one-off jobs) of one processing pass
    (between `get_due_jobs` and `get_next_run_time`, which APScheduler calls in that order)
    are written together. A write that fails (SQLite busy) is kept and retried before the
    next read of due jobs, which fails (and is retried by the scheduler) until the write
    succeeds, so a job never runs again because its new next run time was not stored. If the
    process dies meanwhile, those jobs run again after the restart (at least once).
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._in_pass = False
        # Job id -> the row to write, or None to delete it; not yet in the database.
        self._pending: dict[str, dict[str, Any] | None] = {}
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "checkout", _set_busy_timeout)

    def _row(self, job: Job) -> dict[str, Any]:
        return {
            "id": job.id,
            "next_run_time": job.next_run_time.timestamp() if job.next_run_time else None,
            "job_state": pickle.dumps(job.__getstate__(), self.pickle_protocol),
        }

    def _flush(self, *, strict: bool) -> None:
        """Write the pending updates; on failure keep them, and raise JobStoreBusy if `strict`."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        table = self.jobs_t
        statement = (
            table.update()
            .where(table.c.id == bindparam("b_id"))
            .values(next_run_time=bindparam("b_next"), job_state=bindparam("b_state"))
        )
        rows = [
            {"b_id": r["id"], "b_next": r["next_run_time"], "b_state": r["job_state"]}
            for r in pending.values()
            if r is not None
        ]
        deleted = [job_id for job_id, r in pending.items() if r is None]
        try:
            with self.engine.begin() as connection:
                for start in range(0, len(deleted), _CHUNK):
                    chunk = deleted[start : start + _CHUNK]
                    connection.execute(table.delete().where(table.c.id.in_(chunk)))
                for start in range(0, len(rows), _CHUNK):
                    connection.execute(statement, rows[start : start + _CHUNK])
        except Exception as exc:
            # Keep them for the next try; anything recorded since is newer and wins.
            self._pending = {**pending, **self._pending}
            message = f"could not write {len(pending)} job updates ({_short_error(exc)})"
            if strict:
                raise JobStoreBusy(f"{message}; retrying on the next wake-up") from exc
            log.warning("%s; kept for the next try", message)

    def _forget(self, job_ids: Iterable[str]) -> None:
        """Drop pending writes that a direct write of the same jobs is about to supersede."""
        for job_id in job_ids:
            self._pending.pop(job_id, None)

    def get_due_jobs(self, now: datetime) -> list[Job]:
        # Strict: jobs whose new next run time is not stored yet would be due again.
        self._flush(strict=True)
        jobs: list[Job] = super().get_due_jobs(now)
        self._in_pass = bool(jobs)
        return jobs

    def update_job(self, job: Job) -> None:
        if self._in_pass:
            self._pending[job.id] = self._row(job)
            return
        self._flush(strict=False)
        self._forget([job.id])
        super().update_job(job)

    def get_next_run_time(self) -> datetime | None:
        self._in_pass = False
        self._flush(strict=True)
        next_run_time: datetime | None = super().get_next_run_time()
        return next_run_time

    def lookup_job(self, job_id: str) -> Job | None:
        self._flush(strict=False)
        job: Job | None = super().lookup_job(job_id)
        return job

    def get_all_jobs(self) -> list[Job]:
        self._flush(strict=False)
        jobs: list[Job] = super().get_all_jobs()
        return jobs

    def add_job(self, job: Job) -> None:
        self._flush(strict=False)
        self._forget([job.id])
        super().add_job(job)

    def remove_job(self, job_id: str) -> None:
        if self._in_pass:
            # A finished one-off job, removed by the scheduler inside the pass.
            self._pending[job_id] = None
            return
        self._flush(strict=False)
        self._forget([job_id])
        super().remove_job(job_id)

    def remove_all_jobs(self) -> None:
        self._pending = {}
        super().remove_all_jobs()

    def shutdown(self) -> None:
        self._in_pass = False
        self._flush(strict=False)
        super().shutdown()

    def write_jobs(self, put: Sequence[Job], delete: Collection[str]) -> None:
        """Insert or replace `put` (by id) and delete `delete`, in one transaction."""
        self._flush(strict=False)
        self._forget([*delete, *(job.id for job in put)])
        rows = [self._row(job) for job in put]
        stale = [*delete, *(row["id"] for row in rows)]
        with self.engine.begin() as connection:
            for start in range(0, len(stale), _CHUNK):
                chunk = stale[start : start + _CHUNK]
                connection.execute(self.jobs_t.delete().where(self.jobs_t.c.id.in_(chunk)))
            for start in range(0, len(rows), _CHUNK):
                connection.execute(self.jobs_t.insert(), rows[start : start + _CHUNK])

    def iter_job_states(
        self, id_prefixes: Sequence[str]
    ) -> Iterator[tuple[str, dict[str, Any] | None]]:
        """(id, stored state) of every job whose id starts with one of `id_prefixes`.

        Unpickles the state without rebuilding Job objects (a third of the cost at 10,000
        jobs); a row that does not unpickle gives None. Rows are read 500 at a time and each
        state is dropped once the caller moves on, so 10,000 states never sit in memory at
        once (they took ~30 MB on a restart with 10,000 tenants).
        """
        ids = self.jobs_t.c.id
        query = (
            select(ids, self.jobs_t.c.job_state)
            .where(or_(*(ids.startswith(prefix, autoescape=True) for prefix in id_prefixes)))
            .execution_options(yield_per=_CHUNK)
        )
        self._flush(strict=False)
        with self.engine.begin() as connection:
            for job_id, job_state in connection.execute(query):
                try:
                    state = pickle.loads(job_state)
                except Exception:
                    state = None
                yield job_id, state

    def job_states(self, id_prefixes: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """The stored state of every job whose id starts with one of `id_prefixes`."""
        return dict(self.iter_job_states(id_prefixes))


def _set_busy_timeout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={_busy_timeout_ms()}")
    finally:
        cursor.close()


class ResilientAsyncIOScheduler(AsyncIOScheduler):  # type: ignore[misc]
    """An AsyncIOScheduler that keeps its next wake-up when the job store fails.

    APScheduler 3.11 handles an error of `get_due_jobs` (it retries after
    `jobstore_retry_interval`) but not one of `update_job`, `remove_job` or
    `get_next_run_time` inside the same pass: it propagates out of `wakeup` before the next
    timer is armed, and the scheduler would never wake up again. Here any error of a pass is
    logged (without SQL or parameters) and the next wake-up comes `JOBSTORE_RETRY_SECONDS`
    later. While the pass runs, the SQLite job store waits at most
    `BUSY_TIMEOUT_PROCESSING_MS` for the write lock, so a busy database delays the loop by
    that much rather than by pysqlite's 5 s.
    """

    def _process_jobs(self) -> float | None:
        _processing.active = True
        try:
            wait_seconds: float | None = super()._process_jobs()
        except Exception as exc:
            log.warning(
                "the job store failed while processing due jobs (%s); trying again in %.0f s",
                _short_error(exc),
                JOBSTORE_RETRY_SECONDS,
            )
            return JOBSTORE_RETRY_SECONDS
        finally:
            _processing.active = False
            for store in self._jobstores.values():
                if isinstance(store, BulkSQLAlchemyJobStore):
                    store._in_pass = False
        return wait_seconds


def create_scheduler(
    database_url: str,
    *,
    timezone: str = "UTC",
    misfire_grace_time: int = DEFAULT_MISFIRE_GRACE_TIME,
) -> AsyncIOScheduler:
    """An AsyncIOScheduler whose jobs live in the app's database (table `apscheduler_jobs`).

    Not started: call `start()` (or `start(paused=True)`) inside the running event loop.
    """
    store = BulkSQLAlchemyJobStore(url=job_store_url(database_url), tablename=JOBS_TABLE)
    return ResilientAsyncIOScheduler(
        jobstores={"default": store},
        jobstore_retry_interval=JOBSTORE_RETRY_SECONDS,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": misfire_grace_time,
        },
        timezone=timezone,
    )


async def shutdown_scheduler(scheduler: AsyncIOScheduler) -> None:
    """Shut down and return once the job store is closed.

    AsyncIOScheduler.shutdown() only queues the work on the loop; this waits for it. Running
    coroutine jobs are cancelled (APScheduler's asyncio executor cannot wait for them).
    """
    if not scheduler.running:
        return
    stopped = asyncio.Event()

    def on_shutdown(event: object) -> None:
        stopped.set()

    scheduler.add_listener(on_shutdown, EVENT_SCHEDULER_SHUTDOWN)
    try:
        scheduler.shutdown()
        await stopped.wait()
    finally:
        scheduler.remove_listener(on_shutdown)


@dataclass(frozen=True)
class TenantSchedule:
    """What the tenants table says about one tenant's scheduled sync."""

    tenant_id: int
    cron: str | None
    timezone: str
    active: bool


@dataclass(frozen=True)
class ReconcileResult:
    """What reconciling changed: counts of jobs, and tenants whose stored cron is unusable."""

    added: int
    removed: int
    replaced: int = 0
    unchanged: int = 0
    invalid: tuple[int, ...] = field(default=())


def _job_defaults(scheduler: AsyncIOScheduler) -> dict[str, Any]:
    # The scheduler's configured job defaults (coalesce, max_instances, misfire_grace_time);
    # APScheduler 3 keeps them only in this attribute.
    return dict(scheduler._job_defaults)


def _signature(state: Mapping[str, Any]) -> tuple[object, ...]:
    """What makes two jobs behave the same, from a job's state (`Job.__getstate__()`).

    A stored job whose signature differs from the wanted one is replaced.
    """
    return (
        state["func"],
        tuple(state["args"]),
        repr(state["trigger"]),
        state["executor"],
        state["misfire_grace_time"],
        state["coalesce"],
        state["max_instances"],
        bool(state["kwargs"]),
        state["next_run_time"] is not None,
    )


def _stored_signatures(
    scheduler: AsyncIOScheduler, id_prefixes: Sequence[str]
) -> dict[str, tuple[object, ...] | None]:
    store = scheduler._lookup_jobstore("default")
    if isinstance(store, BulkSQLAlchemyJobStore):
        return {
            job_id: None if state is None else _signature(state)
            for job_id, state in store.iter_job_states(id_prefixes)
        }
    return {
        job.id: _signature(job.__getstate__())
        for job in scheduler.get_jobs()
        if job.id.startswith(tuple(id_prefixes))
    }


def _require_started(scheduler: AsyncIOScheduler) -> None:
    if scheduler.state == STATE_STOPPED:
        raise RuntimeError("start the scheduler (start(paused=True) is enough) first")


class _JobFactory:
    """Builds many cron jobs for one function cheaply.

    Triggers and their next run are computed once per (cron, zone), since most tenants share a
    preset; the first job is built (and validated) by APScheduler, the rest are copies of its
    state, which skips re-inspecting the function for every tenant.
    """

    def __init__(self, scheduler: AsyncIOScheduler, func_ref: str, now: datetime) -> None:
        self._scheduler = scheduler
        self._func_ref = func_ref
        self._now = now
        self._defaults = _job_defaults(scheduler)
        self._triggers: dict[tuple[str, str], tuple[CronTrigger, str, datetime | None]] = {}
        self._template: dict[str, Any] | None = None

    def trigger(self, cron: str, tz: str) -> tuple[CronTrigger, str, datetime | None]:
        """(trigger, its repr, its next run); raises InvalidCron / InvalidTimezone."""
        key = (cron, tz)
        cached = self._triggers.get(key)
        if cached is None:
            trigger = parse_cron(cron, tz)
            cached = (trigger, repr(trigger), trigger.get_next_fire_time(None, self._now))
            self._triggers[key] = cached
        return cached

    def signature(self, args: tuple[object, ...], trigger_repr: str) -> tuple[object, ...]:
        d = self._defaults
        return (
            self._func_ref,
            args,
            trigger_repr,
            "default",
            d["misfire_grace_time"],
            d["coalesce"],
            d["max_instances"],
            False,
            True,
        )

    def job(
        self,
        job_id: str,
        args: tuple[object, ...],
        trigger: BaseTrigger,
        next_run_time: datetime | None,
    ) -> Job:
        if self._template is None:
            job = Job(
                self._scheduler,
                id=job_id,
                func=self._func_ref,
                trigger=trigger,
                args=args,
                kwargs={},
                executor="default",
                next_run_time=next_run_time,
                **self._defaults,
            )
            self._template = job.__getstate__()
            return job
        state = dict(self._template, id=job_id, args=args, trigger=trigger)
        state["next_run_time"] = next_run_time
        job = Job.__new__(Job)
        job.__setstate__(state)
        job._scheduler = self._scheduler
        return job


def _write_jobs(scheduler: AsyncIOScheduler, put: Sequence[Job], delete: Collection[str]) -> None:
    if not put and not delete:
        return
    store = scheduler._lookup_jobstore("default")
    if isinstance(store, BulkSQLAlchemyJobStore):
        store.write_jobs(put, delete)
        if scheduler.state == STATE_RUNNING:  # let it see the new next run times
            scheduler.wakeup()
        return
    # Any other store (e.g. a MemoryJobStore in a test): one call per job.
    for job_id in delete:
        cancel_job(scheduler, job_id)
    for job in put:
        scheduler.add_job(
            job.func_ref,
            job.trigger,
            args=job.args,
            id=job.id,
            next_run_time=job.next_run_time,
            replace_existing=True,
        )


def reconcile_tenant_jobs(
    scheduler: AsyncIOScheduler,
    tenants: Iterable[TenantSchedule],
    *,
    func_ref: str = RUN_SCHEDULED_SYNC,
    now: datetime | None = None,
) -> ReconcileResult:
    """Make the stored tenant-sync jobs match the tenants table, in one read and one write.

    Every active tenant with a cron gets `tenant-sync:<id>` running `func_ref(tenant_id)`.
    A stored job that already matches is left alone, so its next run time (and any run missed
    while the bot was down) survives. Sync jobs of inactive, unscheduled or unknown tenants
    are removed; so are retry/resume jobs of inactive or unknown tenants. A tenant whose
    stored cron or zone no longer parses keeps no job and is reported in `invalid`.
    The scheduler must be started (paused is fine).
    """
    _require_started(scheduler)
    factory = _JobFactory(scheduler, func_ref, now or datetime.now(UTC))
    existing = _stored_signatures(scheduler, (SYNC_JOB_PREFIX, RETRY_JOB_PREFIX, RESUME_JOB_PREFIX))
    wanted: set[str] = set()
    active_ids: set[int] = set()
    invalid: list[int] = []
    put: list[Job] = []
    added = replaced = 0
    for tenant in tenants:
        if not tenant.active:
            continue
        active_ids.add(tenant.tenant_id)
        if tenant.cron is None:
            continue
        try:
            trigger, trigger_repr, next_run_time = factory.trigger(tenant.cron, tenant.timezone)
        except (InvalidCron, InvalidTimezone):
            invalid.append(tenant.tenant_id)
            continue
        job_id = sync_job_id(tenant.tenant_id)
        wanted.add(job_id)
        args = (tenant.tenant_id,)
        current = existing.get(job_id)
        if current is not None and current == factory.signature(args, trigger_repr):
            continue
        if current is None:
            added += 1
        else:
            replaced += 1
        put.append(factory.job(job_id, args, trigger, next_run_time))
    delete = [
        job_id
        for job_id in existing
        if (job_id.startswith(SYNC_JOB_PREFIX) and job_id not in wanted)
        or tenant_id_of(job_id) not in active_ids
    ]
    _write_jobs(scheduler, put, delete)
    return ReconcileResult(
        added=added,
        removed=len(delete),
        replaced=replaced,
        unchanged=len(wanted) - added - replaced,
        invalid=tuple(invalid),
    )


def set_tenant_schedule(
    scheduler: AsyncIOScheduler,
    tenant_id: int,
    cron: str | None,
    tz: str,
    *,
    func_ref: str = RUN_SCHEDULED_SYNC,
) -> datetime | None:
    """Schedule (or with None, unschedule) one tenant's sync; returns the next run time.

    Raises InvalidCron / InvalidTimezone before touching the store.
    """
    job_id = sync_job_id(tenant_id)
    if cron is None:
        cancel_job(scheduler, job_id)
        return None
    trigger = parse_cron(cron, tz)
    job = scheduler.add_job(func_ref, trigger, args=[tenant_id], id=job_id, replace_existing=True)
    next_run: datetime | None = getattr(job, "next_run_time", None)
    return next_run


def schedule_once(
    scheduler: AsyncIOScheduler,
    job_id: str,
    func_ref: str,
    run_at: datetime,
    args: Sequence[object],
) -> None:
    """A one-off job at `run_at` (aware), replacing any job with this id (retries, resumes)."""
    if run_at.tzinfo is None:
        raise ValueError("run_at must be timezone-aware")
    scheduler.add_job(
        func_ref,
        DateTrigger(run_date=run_at),
        args=list(args),
        id=job_id,
        replace_existing=True,
    )


def cancel_job(scheduler: AsyncIOScheduler, job_id: str) -> bool:
    """Remove a job if it exists; True when one was removed."""
    try:
        scheduler.remove_job(job_id)
    except JobLookupError:
        return False
    return True


@dataclass(frozen=True)
class MaintenanceJob:
    """A service-wide job: its id, function ref and cron (in the maintenance time zone)."""

    job_id: str
    func_ref: str
    cron: str


MAINTENANCE_JOBS: tuple[MaintenanceJob, ...] = (
    MaintenanceJob(CLEANUP_JOB_ID, CLEANUP_SYNC_LOGS, "0 3 * * *"),
    MaintenanceJob(HEALTH_JOB_ID, HEALTH_CHECK, "*/5 * * * *"),
    MaintenanceJob(EXPIRING_KEYS_JOB_ID, WARN_EXPIRING_KEYS, "0 10 * * *"),
)


def ensure_maintenance_jobs(
    scheduler: AsyncIOScheduler,
    tz: str,
    jobs: Sequence[MaintenanceJob] = MAINTENANCE_JOBS,
    *,
    now: datetime | None = None,
) -> int:
    """Add or update the maintenance jobs, leaving unchanged ones (and their next runs) alone.

    Returns how many were written. The scheduler must be started (paused is fine).
    """
    _require_started(scheduler)
    put: list[Job] = []
    for spec in jobs:
        factory = _JobFactory(scheduler, spec.func_ref, now or datetime.now(UTC))
        trigger, trigger_repr, next_run_time = factory.trigger(spec.cron, tz)
        current = scheduler.get_job(spec.job_id)
        wanted = factory.signature((), trigger_repr)
        if current is None or _signature(current.__getstate__()) != wanted:
            put.append(factory.job(spec.job_id, (), trigger, next_run_time))
    _write_jobs(scheduler, put, ())
    return len(put)
