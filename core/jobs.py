"""Job entry points for APScheduler, referenced as "core.jobs:<name>" and taking only ids.

These references are stored in the job store: renaming a function here silently drops every
stored job that names it, so treat the names as a public API. The running process installs its
services with `install(...)` before the scheduler starts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from core.notifier import ChatRef, Notifier, SyncFailure, Trigger
from core.recovery import recover_interrupted_syncs
from core.scheduler import (
    RESUME_SYNC,
    RETRY_SYNC,
    cancel_job,
    resume_job_id,
    retry_job_id,
    schedule_once,
    set_tenant_schedule,
)
from core.settings import Settings
from core.sync import SyncService
from storage.models import HealthCheck, SyncLog, Tenant

log = logging.getLogger(__name__)

RETRY_ATTEMPTS = 3
RETRY_DELAY = timedelta(minutes=5)
# A resume starts a little after WB's limit allows the call, never before.
RESUME_MARGIN = timedelta(seconds=5)
HEALTH_KEEP_DAYS = 7
KEY_WARNING_DAYS = (7, 1)


@dataclass
class JobRuntime:
    """What the jobs need from the running process."""

    syncs: SyncService
    sessions: async_sessionmaker[AsyncSession]
    scheduler: Any  # AsyncIOScheduler; Any keeps APScheduler's untyped API at the edge
    notifier: Notifier
    settings: Settings
    polling_alive: Callable[[], bool]
    clock: Callable[[], datetime] = utcnow


_runtime: JobRuntime | None = None


def install(runtime: JobRuntime | None) -> None:
    """Make the process's services available to jobs, and wire the sync's retry policy."""
    global _runtime
    _runtime = runtime
    if runtime is not None:
        runtime.syncs.retry_planner = plan_retry
        runtime.syncs.resume_planner = plan_resume
        runtime.syncs.on_key_rejected = pause_for_rejected_key


def _rt() -> JobRuntime:
    if _runtime is None:
        raise RuntimeError("core.jobs used before install()")
    return _runtime


# -- tenant syncs -----------------------------------------------------------------------------


async def run_scheduled_sync(tenant_id: int) -> None:
    """A tenant's cron job; skipped (not queued) while another sync of the tenant runs."""
    result = await _rt().syncs.run(tenant_id, Trigger.SCHEDULED)
    if result is None:
        log.info("scheduled sync of tenant %s skipped: a sync is already running", tenant_id)


async def retry_sync(tenant_id: int, attempt: int) -> None:
    result = await _rt().syncs.run(tenant_id, Trigger.RETRY, attempt)
    if result is None:
        log.info("retry of tenant %s skipped: a sync is already running", tenant_id)


async def resume_sync(tenant_id: int) -> None:
    """Continue a sync that waited on WB (a remains report, a rate-limit cooldown)."""
    result = await _rt().syncs.run(tenant_id, Trigger.RESUME)
    if result is None:
        log.info("resume of tenant %s skipped: a sync is already running", tenant_id)


async def plan_retry(
    tenant_id: int, attempt: int, failure: SyncFailure
) -> tuple[datetime, int] | None:
    """Up to RETRY_ATTEMPTS retries, RETRY_DELAY apart, as persisted one-off jobs."""
    if attempt >= RETRY_ATTEMPTS:
        return None
    rt = _rt()
    when = rt.clock() + RETRY_DELAY
    if failure.will_retry_at is not None and failure.will_retry_at > when:
        when = failure.will_retry_at  # WB's limit says later: never retry early
    schedule_once(rt.scheduler, retry_job_id(tenant_id), RETRY_SYNC, when, [tenant_id, attempt + 1])
    return when, RETRY_ATTEMPTS - attempt


async def plan_resume(tenant_id: int, when: datetime) -> None:
    rt = _rt()
    schedule_once(
        rt.scheduler, resume_job_id(tenant_id), RESUME_SYNC, when + RESUME_MARGIN, [tenant_id]
    )


async def pause_for_rejected_key(tenant_id: int) -> bool:
    """A 401 stops the tenant's scheduled runs until a new key arrives; True if one was set."""
    rt = _rt()
    cancel_job(rt.scheduler, retry_job_id(tenant_id))
    cancel_job(rt.scheduler, resume_job_id(tenant_id))
    async with rt.sessions() as session:
        tenant = await session.get(Tenant, tenant_id)
        had_schedule = tenant is not None and tenant.schedule_cron is not None
    set_tenant_schedule(rt.scheduler, tenant_id, None, "UTC")
    return had_schedule


def apply_tenant_schedule(scheduler: Any, tenant: Tenant) -> datetime | None:
    """Bring the tenant's cron job in line with the tenants table (the source of truth)."""
    if scheduler is None:
        return None
    runnable = (
        tenant.is_active
        and not tenant.is_paused
        and tenant.has_key
        and tenant.key_invalid_reason is None
    )
    cron = tenant.schedule_cron if runnable else None
    return set_tenant_schedule(scheduler, tenant.id, cron, tenant.timezone)


async def reschedule(
    scheduler: Any, sessions: async_sessionmaker[AsyncSession], tenant_id: int
) -> None:
    """Re-read the tenant and bring its job in line (after it was blocked or came back)."""
    async with sessions() as session:
        tenant = await session.get(Tenant, tenant_id)
    if tenant is not None:
        apply_tenant_schedule(scheduler, tenant)
        if not tenant.is_active and scheduler is not None:
            cancel_job(scheduler, retry_job_id(tenant_id))
            cancel_job(scheduler, resume_job_id(tenant_id))


# -- maintenance ------------------------------------------------------------------------------


async def cleanup_sync_logs() -> None:
    """Remove sync logs (and health checks) older than their retention."""
    rt = _rt()
    now = rt.clock()
    cutoff = now - timedelta(days=rt.settings.sync_log_retention_days)
    async with rt.sessions() as session, session.begin():
        result = await session.execute(
            delete(SyncLog).where(SyncLog.started_at < cutoff, SyncLog.status != "in_progress")
        )
        await session.execute(
            delete(HealthCheck).where(
                HealthCheck.checked_at < now - timedelta(days=HEALTH_KEEP_DAYS)
            )
        )
    log.info("removed %s sync logs older than %s", result.rowcount, cutoff.date())  # type: ignore[attr-defined]


async def health_check() -> None:
    """Database round trip, scheduler running, Telegram polling alive; the result is stored."""
    rt = _rt()
    details: dict[str, Any] = {}
    try:
        async with rt.sessions() as session:
            started = rt.clock()
            await session.execute(text("SELECT 1"))
            details["database_ms"] = round((rt.clock() - started).total_seconds() * 1000, 1)
        details["database"] = True
    except Exception as exc:
        details["database"] = False
        details["database_error"] = type(exc).__name__
    details["scheduler"] = bool(getattr(rt.scheduler, "running", False))
    details["polling"] = rt.polling_alive()
    details["syncs_running"] = rt.syncs.running_count
    ok = bool(details["database"] and details["scheduler"] and details["polling"])
    if not ok:
        log.warning("health check failed: %s", details)
    try:
        async with rt.sessions() as session, session.begin():
            session.add(HealthCheck(checked_at=rt.clock(), ok=ok, details=details))
        # Syncs of a process that died after our start show up once their leases expire.
        await recover_interrupted_syncs(rt.sessions, rt.notifier, rt.syncs.running_ids())
    except Exception:
        log.exception("could not store the health check")


async def warn_expiring_keys() -> None:
    """Warn each seller once 7 days and once 1 day before the key expires."""
    rt = _rt()
    now = rt.clock()
    horizon = now + timedelta(days=max(KEY_WARNING_DAYS))
    async with rt.sessions() as session:
        tenants = list(
            (
                await session.execute(
                    select(Tenant).where(
                        Tenant.is_active.is_(True),
                        Tenant.key_expires_at.is_not(None),
                        Tenant.key_expires_at <= horizon,
                        Tenant.key_expires_at > now,
                    )
                )
            ).scalars()
        )
        for tenant in tenants:
            assert tenant.key_expires_at is not None
            days_left = math.ceil((tenant.key_expires_at - now).total_seconds() / 86400)
            due = min(d for d in KEY_WARNING_DAYS if days_left <= d)
            if tenant.key_expiry_warned_days is not None and tenant.key_expiry_warned_days <= due:
                continue
            chat = ChatRef(tenant.id, tenant.chat_id, tenant.language, tenant.timezone)
            await rt.notifier.key_expiring(chat, tenant.key_expires_at, days_left)
            tenant.key_expiry_warned_days = due
        await session.commit()
