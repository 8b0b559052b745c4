"""The scheduler side of the process: lease, job store, reconciling, maintenance, recovery.

Exactly one process per database runs the scheduler: it holds the "scheduler" lease and renews
it. A second process started by mistake stands by (and says so in its log) and takes over only
when the first one's lease expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import jobs, leases
from core.notifier import Notifier
from core.recovery import recover_interrupted_syncs
from core.scheduler import (
    TenantSchedule,
    create_scheduler,
    ensure_maintenance_jobs,
    reconcile_tenant_jobs,
    shutdown_scheduler,
)
from core.settings import Settings
from core.sync import SyncService
from storage.models import Tenant

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(seconds=60)
LEASE_RENEW_SECONDS = 20.0


async def tenant_schedules(sessions: async_sessionmaker[AsyncSession]) -> list[TenantSchedule]:
    """What the tenants table (the source of truth) says every tenant's job should be."""
    async with sessions() as session:
        rows = await session.execute(
            select(
                Tenant.id,
                Tenant.schedule_cron,
                Tenant.timezone,
                Tenant.is_active,
                Tenant.is_paused,
                Tenant.wb_key_encrypted.is_not(None),
                Tenant.key_invalid_reason,
            )
        )
        return [
            TenantSchedule(
                tenant_id=tenant_id,
                cron=cron,
                timezone=tz,
                active=bool(active and not paused and has_key and invalid is None),
            )
            for tenant_id, cron, tz, active, paused, has_key, invalid in rows.all()
        ]


class Background:
    """Starts, holds and stops the scheduler for one process."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        syncs: SyncService,
        notifier: Notifier,
        polling_alive: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.syncs = syncs
        self.notifier = notifier
        self.scheduler: Any = create_scheduler(settings.database_url)
        self.holder = leases.process_id()
        self.leader = False
        self._polling_alive = polling_alive
        self._renewer: asyncio.Task[None] | None = None
        jobs.install(
            jobs.JobRuntime(
                syncs=syncs,
                sessions=sessions,
                scheduler=self.scheduler,
                notifier=notifier,
                settings=settings,
                polling_alive=polling_alive,
            )
        )

    async def start(self) -> None:
        """Take the lease and start the scheduler, or stand by while another process has it."""
        await self._try_lead()
        if not self.leader:
            log.warning(
                "another process holds the scheduler lease on this database: this process "
                "stands by and runs no scheduled syncs until that lease expires"
            )
        self._renewer = asyncio.create_task(self._renew_forever())

    async def _try_lead(self) -> None:
        acquired = await leases.acquire(
            self.sessions, leases.SCHEDULER_LEASE, self.holder, LEASE_TTL
        )
        if acquired and not self.leader:
            self.leader = True
            await self._start_scheduler()
        elif not acquired and self.leader:
            self.leader = False
            log.error("lost the scheduler lease; stopping the scheduler")
            await shutdown_scheduler(self.scheduler)

    async def _start_scheduler(self) -> None:
        self.scheduler.start(paused=True)
        result = await asyncio.to_thread(
            reconcile_tenant_jobs, self.scheduler, await tenant_schedules(self.sessions)
        )
        await asyncio.to_thread(
            ensure_maintenance_jobs, self.scheduler, self.settings.default_timezone
        )
        log.info(
            "scheduler started: %d jobs added, %d removed, %d replaced, %d unchanged",
            result.added,
            result.removed,
            result.replaced,
            result.unchanged,
        )
        await recover_interrupted_syncs(self.sessions, self.notifier, self.syncs.running_ids())
        self.scheduler.resume()

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(LEASE_RENEW_SECONDS)
            try:
                await self._try_lead()
            except Exception:
                log.exception("could not renew the scheduler lease")

    async def stop(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        if self.scheduler.running:
            await shutdown_scheduler(self.scheduler)
        if self.leader:
            with contextlib.suppress(Exception):
                await leases.release(self.sessions, leases.SCHEDULER_LEASE, self.holder)
            self.leader = False
        jobs.install(None)
