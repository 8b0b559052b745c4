"""One tenant's sync: lock, log, read what WB allows now, build, store, notify.

Manual `/sync`, scheduled runs, retries, resumes and admin force-syncs all come through
`SyncService.run`. A part WB's limits forbid re-reading now is reused from the last stored copy
and reported with its age and the time it can refresh; a sync never sleeps longer than
`Settings.wb_max_wait_seconds` for one call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import leases, snapshot_store
from core.alerts import update_alerts
from core.clock import utcnow
from core.foreground import Foreground
from core.notifier import (
    ChatRef,
    FailureReason,
    Notifier,
    ProgressState,
    SyncFailure,
    SyncStep,
    SyncSummary,
    Trigger,
)
from core.report import ReportBuilder
from core.settings import Settings
from core.stock_report import DataPart, StockReport
from core.sync_parts import NoCopy, PartReader, Parts
from core.vault import KeyVault
from core.wb.client import WBClient
from core.wb.errors import (
    WBAuthError,
    WBBadResponseError,
    WBError,
    WBForbiddenError,
    WBRateLimitedError,
    WBUnavailableError,
)
from core.wb.limits import RateLimiter
from core.wb.token import TokenType
from storage.models import SyncLog, Tenant

log = logging.getLogger(__name__)


SYNC_LEASE_TTL = timedelta(seconds=90)
# A /sync that arrives while the previous sync only releases its lease waits this long for it.
FINISHING_WAIT_SECONDS = 10.0
SYNC_LEASE_RETRY_SECONDS = 5.0  # after a failed renewal (renewals are every TTL / 3)


def sync_lease(tenant_id: int) -> str:
    return f"sync:{tenant_id}"


class SyncStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    PARTIAL = "partial"  # completed, but some part is an older copy
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class StartResult(StrEnum):
    STARTED = "started"
    ALREADY_RUNNING = "already_running"
    NO_KEY = "no_key"
    PAUSED = "paused"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What a finished `run` reports to its caller (jobs decide on retries from it)."""

    status: SyncStatus
    log_id: int | None
    summary: SyncSummary | None = None
    failure: SyncFailure | None = None
    report: StockReport | None = None
    stale_until: datetime | None = None  # the earliest time a stale part can refresh
    pending_until: datetime | None = None  # when unfinished work can continue


@dataclass(slots=True)
class _Claim:
    """A sync this process has claimed (see SyncService._claim), until its bookkeeping ends."""

    # Set once the claim is dropped: a /sync sent right after the summary waits for it.
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    # The seller has been told the result; only the lease's release is left.
    finishing: bool = False
    # Holds one of the `max_concurrent_syncs` slots.
    holds_slot: bool = False


@dataclass(slots=True)
class _Run:
    """One sync in flight."""

    tenant: Tenant
    chat: ChatRef
    log_id: int
    trigger: Trigger
    attempt: int
    verbose: bool
    started: float
    limiter: RateLimiter
    message_id: int | None = None


ReportExporter = Callable[[Tenant, StockReport], Awaitable[tuple[bool, str | None]]]
# (tenant id, attempt, failure) -> (retry time, attempts left), or None when no retry is planned.
RetryPlanner = Callable[[int, int, SyncFailure], Awaitable[tuple[datetime, int] | None]]
ResumePlanner = Callable[[int, datetime], Awaitable[None]]
KeyRejected = Callable[[int], Awaitable[bool]]

TRANSIENT_FAILURES = frozenset(
    {FailureReason.WB_UNAVAILABLE, FailureReason.WB_BAD_RESPONSE, FailureReason.RATE_LIMITED}
)


class NotifyMode(StrEnum):
    """What a scheduled run posts in the chat."""

    ALL = "all"  # progress and summary of every run
    CHANGES = "changes"  # only alerts (newly low / recovered) and final failures
    SILENT = "silent"  # only final failures and key problems


def _verbose(trigger: Trigger, notify_mode: str) -> bool:
    """A seller who asked for the sync sees it; unattended runs follow the seller's choice."""
    if trigger in (Trigger.MANUAL, Trigger.ADMIN):
        return True
    return notify_mode == NotifyMode.ALL


class SyncService:
    """Runs syncs; at most one per tenant at any time."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        vault: KeyVault,
        notifier: Notifier,
        settings: Settings,
        http: aiohttp.ClientSession,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        foreground: Foreground | None = None,
    ) -> None:
        self._sessions = sessions
        self._foreground = foreground
        self._vault = vault
        self._notifier = notifier
        self._settings = settings
        self._http = http
        self._clock = clock
        self._sleep = sleep
        self._reader = PartReader(sessions, settings, clock)
        # This process's syncs, claimed until their bookkeeping is done.
        self._claims: dict[int, _Claim] = {}
        # A bound on syncs doing work at once; claimed tenants beyond it wait their turn.
        self._slots = asyncio.Semaphore(settings.max_concurrent_syncs)
        self._queued = 0
        self.holder = leases.process_id()
        self._tasks: set[asyncio.Task[SyncResult]] = set()
        self.exporter: ReportExporter | None = None
        self.retry_planner: RetryPlanner | None = None
        self.resume_planner: ResumePlanner | None = None
        self.on_key_rejected: KeyRejected | None = None

    def is_running(self, tenant_id: int) -> bool:
        return tenant_id in self._claims

    @property
    def running_count(self) -> int:
        return len(self._claims)

    def running_ids(self) -> frozenset[int]:
        return frozenset(self._claims)

    @property
    def queued_count(self) -> int:
        """Claimed syncs waiting for a free slot."""
        return self._queued

    async def start(self, tenant_id: int, trigger: Trigger) -> StartResult:
        """Check, then run the sync in the background; answers at once."""
        claim = self._claims.get(tenant_id)
        if claim is not None and claim.finishing:
            # The seller has the last result already; its bookkeeping ends in a moment.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(claim.ended.wait(), FINISHING_WAIT_SECONDS)
        if tenant_id in self._claims:
            return StartResult.ALREADY_RUNNING
        async with self._sessions() as session:
            tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            return StartResult.NOT_FOUND
        if not tenant.has_key:
            return StartResult.NO_KEY
        if tenant.is_paused and trigger is not Trigger.ADMIN:
            return StartResult.PAUSED
        # Claim the tenant before the task starts so a second /sync right after sees it.
        if not await self._claim(tenant_id):
            return StartResult.ALREADY_RUNNING
        task = asyncio.create_task(self._run_claimed(tenant_id, trigger, 0))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return StartResult.STARTED

    async def run(self, tenant_id: int, trigger: Trigger, attempt: int = 0) -> SyncResult | None:
        """Run a sync now and wait for it; None when one of this tenant is already running."""
        if not await self._claim(tenant_id):
            return None
        return await self._run_claimed(tenant_id, trigger, attempt)

    async def _claim(self, tenant_id: int) -> bool:
        """This process's lock, then the database lease (another process may share the DB)."""
        if tenant_id in self._claims:
            return False
        self._claims[tenant_id] = _Claim()
        try:
            claimed = await leases.acquire(
                self._sessions, sync_lease(tenant_id), self.holder, SYNC_LEASE_TTL
            )
        except Exception:
            del self._claims[tenant_id]
            raise
        if not claimed:
            del self._claims[tenant_id]
            log.info("tenant %s is being synced by another process", tenant_id)
        return claimed

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait for background syncs; False if some still run after `timeout`."""
        if not self._tasks:
            return True
        _done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        return not pending

    async def cancel_all(self) -> None:
        """Cancel the background syncs (a shutdown past its grace time) and wait for them."""
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def _run_claimed(self, tenant_id: int, trigger: Trigger, attempt: int) -> SyncResult:
        heartbeat = asyncio.create_task(self._keep_lease(tenant_id))
        try:
            return await self._run(tenant_id, trigger, attempt)
        except Exception:
            log.exception("sync of tenant %s crashed", tenant_id)
            await self._close_open_logs(tenant_id, SyncStatus.FAILED, "internal")
            return SyncResult(SyncStatus.FAILED, None, failure=SyncFailure(FailureReason.INTERNAL))
        finally:
            heartbeat.cancel()
            claim = self._claims[tenant_id]
            if claim.holds_slot:
                claim.holds_slot = False
                self._slots.release()
            try:
                await leases.release(self._sessions, sync_lease(tenant_id), self.holder)
            except Exception:
                log.exception("could not release the sync lease of tenant %s", tenant_id)
            del self._claims[tenant_id]
            claim.ended.set()

    async def _keep_lease(self, tenant_id: int) -> None:
        """Renew the tenant's lease while the sync runs; a dead process's lease soon expires.

        Under load the renewal can fail: on SQLite it waits for the write lock behind other
        syncs' transactions (up to the 15 s busy timeout), and for a pooled connection. A
        failed renewal is retried after `SYNC_LEASE_RETRY_SECONDS`, not a whole interval later,
        so one miss does not use up two thirds of the lease.
        """
        ttl = SYNC_LEASE_TTL.total_seconds()
        renewed = time.monotonic()
        delay = ttl / 3
        while True:
            await asyncio.sleep(delay)
            try:
                await leases.acquire(
                    self._sessions, sync_lease(tenant_id), self.holder, SYNC_LEASE_TTL
                )
            except Exception as exc:
                delay = SYNC_LEASE_RETRY_SECONDS
                log.warning(
                    "could not renew the sync lease of tenant %s (%s); %.0f s of it left, "
                    "trying again in %.0f s",
                    tenant_id,
                    type(exc).__name__,
                    ttl - (time.monotonic() - renewed),
                    delay,
                )
            else:
                renewed = time.monotonic()
                delay = ttl / 3

    async def _run(self, tenant_id: int, trigger: Trigger, attempt: int) -> SyncResult:
        started = time.monotonic()
        async with self._sessions() as session:
            tenant = await session.get(Tenant, tenant_id)
            if tenant is None or tenant.wb_key_encrypted is None:
                return SyncResult(
                    SyncStatus.FAILED, None, failure=SyncFailure(FailureReason.NO_KEY)
                )
            sync_log = SyncLog(
                tenant_id=tenant_id,
                trigger=str(trigger),
                status=SyncStatus.IN_PROGRESS,
                started_at=self._clock(),
            )
            session.add(sync_log)
            await session.commit()
        run = _Run(
            tenant=tenant,
            chat=ChatRef(tenant.id, tenant.chat_id, tenant.language, tenant.timezone),
            log_id=sync_log.id,
            trigger=trigger,
            attempt=attempt,
            verbose=_verbose(trigger, tenant.notify_mode),
            started=started,
            limiter=RateLimiter(
                TokenType(tenant.token_type or TokenType.BASE),
                state=tenant.limiter_state,
                enabled=self._settings.wb_rate_limits,
            ),
        )
        if run.verbose:
            run.message_id = await self._notifier.sync_started(run.chat, trigger)
            if run.message_id is not None:
                await self._update_log(run.log_id, progress_message_id=run.message_id)
        await self._take_slot(run)
        run.started = time.monotonic()  # the duration is the sync's, not its time in the queue
        client = WBClient(
            self._http,
            self._vault.decrypt(tenant.wb_key_encrypted),
            limiter=run.limiter,
            base_url=self._settings.wb_api_url,
            max_wait=self._settings.wb_max_wait_seconds,
            backoff=self._settings.wb_retry_backoff_seconds,
            sleep=self._sleep,
            foreground=self._foreground,
        )
        progress = ProgressState()
        parts = Parts(new_remains_task=trigger is not Trigger.RESUME)
        try:
            for step, reader in (
                (SyncStep.CARDS, self._reader.read_cards),
                (SyncStep.FBS_STOCK, self._reader.read_fbs),
                (SyncStep.REMAINS, self._reader.read_remains),
                (SyncStep.ORDERS, self._reader.read_orders),
            ):
                progress.current = step
                await self._progress(run, progress)
                await reader(client, tenant, parts)
                progress.done.append(step)
            progress.current = SyncStep.REPORT
            await self._progress(run, progress)
            report = await self._build(tenant, parts)
        except NoCopy as exc:
            return await self._fail(
                run, SyncFailure(FailureReason.RATE_LIMITED, str(exc.part), exc.retry_at)
            )
        except WBAuthError as exc:
            await self._mark_key_rejected(tenant.id, exc)
            return await self._fail(
                run, SyncFailure(FailureReason.KEY_REJECTED, exc.detail or exc.title)
            )
        except WBForbiddenError as exc:
            return await self._fail(
                run, SyncFailure(FailureReason.TOKEN_TYPE_REFUSED, exc.detail or exc.title)
            )
        except (WBUnavailableError, WBRateLimitedError) as exc:
            return await self._fail(
                run,
                SyncFailure(FailureReason.WB_UNAVAILABLE, exc.title or str(exc.status or "")),
            )
        except WBBadResponseError as exc:
            return await self._fail(run, SyncFailure(FailureReason.WB_BAD_RESPONSE, exc.title))
        except WBError as exc:
            return await self._fail(
                run, SyncFailure(FailureReason.WB_UNAVAILABLE, f"HTTP {exc.status}")
            )
        except Exception:
            # A bug must not leave the log "in progress" nor the seller waiting in silence.
            log.exception("sync of tenant %s crashed", tenant.id)
            return await self._fail(run, SyncFailure(FailureReason.INTERNAL))
        return await self._finish(run, parts, report)

    async def _finish(self, run: _Run, parts: Parts, report: StockReport) -> SyncResult:
        tenant = run.tenant
        duration = time.monotonic() - run.started
        stale = [s for s in parts.statuses.values() if not s.refreshed]
        status = SyncStatus.PARTIAL if stale else SyncStatus.COMPLETED
        stale_until = min(
            (s.next_refresh_at for s in stale if s.next_refresh_at is not None), default=None
        )
        await self._store(tenant, run.log_id, report, status, duration, parts, run.limiter)
        if parts.pending_until is not None and self.resume_planner is not None:
            await self.resume_planner(tenant.id, parts.pending_until)

        sheet_written: bool | None = None
        sheet_error: str | None = None
        if self.exporter is not None and tenant.spreadsheet_id:
            sheet_written, sheet_error = await self.exporter(tenant, report)
        changes = await update_alerts(self._sessions, tenant.id, report, self._clock())
        summary = SyncSummary(
            totals=report.totals,
            low_stock=report.low_stock,
            low_stock_threshold=report.low_stock_threshold,
            window_days=report.window_days,
            duration_seconds=duration,
            parts=tuple(parts.statuses[p] for p in DataPart),
            sheet_written=sheet_written,
            sheet_error=sheet_error,
            alerts=changes,
        )
        self._claims[tenant.id].finishing = True
        if run.verbose:
            await self._notifier.sync_finished(run.chat, run.message_id, summary, run.trigger)
        elif tenant.notify_mode == NotifyMode.CHANGES and changes.any:
            await self._notifier.stock_alerts(run.chat, changes, summary)
        log.info(
            "sync of tenant %s %s in %.1f s: %d products, %d FBO, %d FBS, %d orders",
            tenant.id,
            status,
            duration,
            report.totals.products,
            report.totals.fbo_units,
            report.totals.fbs_units,
            report.totals.orders,
        )
        return SyncResult(
            status,
            run.log_id,
            summary,
            report=report,
            stale_until=stale_until,
            pending_until=parts.pending_until,
        )

    async def _take_slot(self, run: _Run) -> None:
        """Wait for one of `max_concurrent_syncs` slots; a seller who watches sees the queue.

        Released in `_run_claimed`, however the sync ends.
        """
        if self._slots.locked():
            self._queued += 1
            place = self._queued
            log.info("sync of tenant %s queued (place %d)", run.tenant.id, place)
            try:
                await self._progress(run, ProgressState(queue_place=place))
                await self._slots.acquire()
            finally:
                self._queued -= 1
        else:
            await self._slots.acquire()
        self._claims[run.tenant.id].holds_slot = True

    async def _progress(self, run: _Run, progress: ProgressState) -> None:
        if run.verbose:
            await self._notifier.sync_progress(run.chat, run.message_id, progress)

    # -- building and storing -----------------------------------------------------------------

    async def _build(self, tenant: Tenant, parts: Parts) -> StockReport:
        now = self._clock()
        part_times = {part: status.fetched_at for part, status in parts.statuses.items()}
        # Pure and CPU-bound: off the event loop, so other chats stay responsive.
        builder = await asyncio.to_thread(
            ReportBuilder,
            cards=parts.cards,
            remains=parts.remains,
            seller_warehouses=parts.warehouses,
            fbs_stocks=parts.fbs,
            now_utc=now,
            window_days=self._settings.orders_window_days,
        )
        # The stock is placed: a large seller's cards, FBS levels and remains rows (~60 MB)
        # need not live while the orders come in and the rows are made (the peak of a sync).
        parts.cards, parts.remains, parts.fbs = [], [], []
        await self._reader.add_orders(tenant.id, now, builder)
        return await asyncio.to_thread(
            builder.finish, low_stock_threshold=tenant.low_stock_threshold, part_times=part_times
        )

    async def _store(
        self,
        tenant: Tenant,
        log_id: int,
        report: StockReport,
        status: SyncStatus,
        duration: float,
        parts: Parts,
        limiter: RateLimiter,
    ) -> None:
        """Snapshot, daily totals, the log and the key's last use: one transaction."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await snapshot_store.save_report(
                session, tenant.id, report, _local_day(now, tenant.timezone)
            )
            sync_log = await session.get(SyncLog, log_id)
            assert sync_log is not None
            sync_log.status = status
            sync_log.finished_at = now
            sync_log.duration_ms = int(duration * 1000)
            sync_log.products = report.totals.products
            sync_log.fbo_units = report.totals.fbo_units
            sync_log.fbs_units = report.totals.fbs_units
            sync_log.orders = report.totals.orders
            sync_log.details = {"parts": _parts_json(parts.statuses.values())}
            row = await session.get(Tenant, tenant.id)
            assert row is not None
            row.key_last_used_at = now
            row.limiter_state = limiter.to_state()

    async def _fail(self, run: _Run, failure: SyncFailure) -> SyncResult:
        """Log the failure, plan a retry when it is transient, tell the seller when it matters."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            sync_log = await session.get(SyncLog, run.log_id)
            assert sync_log is not None
            sync_log.status = SyncStatus.FAILED
            sync_log.finished_at = now
            sync_log.duration_ms = int((time.monotonic() - run.started) * 1000)
            sync_log.error = f"{failure.reason}: {failure.detail}"[:500]
            row = await session.get(Tenant, run.tenant.id)
            if row is not None:
                row.limiter_state = run.limiter.to_state()
        log.warning("sync of tenant %s failed: %s", run.tenant.id, failure.reason)
        final = True
        if failure.reason in TRANSIENT_FAILURES and self.retry_planner is not None:
            planned = await self.retry_planner(run.tenant.id, run.attempt, failure)
            if planned is not None:
                retry_at, attempts_left = planned
                failure = replace(failure, will_retry_at=retry_at, attempts_left=attempts_left)
                final = False
        if failure.reason is FailureReason.KEY_REJECTED and self.on_key_rejected is not None:
            paused = await self.on_key_rejected(run.tenant.id)
            failure = replace(failure, schedule_paused=paused)
        # Quiet runs speak only when nothing more will be tried; key problems are always told.
        self._claims[run.tenant.id].finishing = True
        if run.verbose or final or failure.reason is FailureReason.KEY_REJECTED:
            await self._notifier.sync_failed(run.chat, run.message_id, failure, run.trigger)
        return SyncResult(SyncStatus.FAILED, run.log_id, failure=failure)

    async def _mark_key_rejected(self, tenant_id: int, exc: WBAuthError) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(Tenant, tenant_id)
            if row is not None:
                row.key_invalid_reason = (exc.detail or exc.title or "401")[:255]

    async def _close_open_logs(self, tenant_id: int, status: SyncStatus, error: str) -> None:
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(SyncLog)
                    .where(SyncLog.tenant_id == tenant_id, SyncLog.status == SyncStatus.IN_PROGRESS)
                    .values(status=status, finished_at=self._clock(), error=error)
                )
        except Exception:
            log.exception("could not close the sync log of tenant %s", tenant_id)

    async def _update_log(self, log_id: int, **values: Any) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(SyncLog, log_id)
            if row is not None:
                for name, value in values.items():
                    setattr(row, name, value)


def _local_day(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def _parts_json(statuses: Any) -> dict[str, Any]:
    return {
        str(s.part): {
            "fetched_at": s.fetched_at.isoformat() if s.fetched_at else None,
            "refreshed": s.refreshed,
            "next_refresh_at": s.next_refresh_at.isoformat() if s.next_refresh_at else None,
        }
        for s in statuses
    }


def recent_logs_query(tenant_id: int, limit: int = 5) -> Select[SyncLog]:
    """The tenant's last `limit` syncs, newest first."""
    return (
        select(SyncLog)
        .where(SyncLog.tenant_id == tenant_id)
        .order_by(SyncLog.started_at.desc(), SyncLog.id.desc())
        .limit(limit)
    )


async def recent_logs(session: AsyncSession, tenant_id: int, limit: int = 5) -> list[SyncLog]:
    return list(await session.scalars(recent_logs_query(tenant_id, limit)))
