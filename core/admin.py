"""What admins see and change: service-wide counts, tenant pages and details, the action log.

No chat code here: the bot layer renders these records. The scheduler is taken as anything
with APScheduler's `running` and `get_jobs()`, or None when this process runs no scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.jobs import apply_tenant_schedule
from core.scheduler import (
    cancel_job,
    resume_job_id,
    retry_job_id,
    sync_job_id,
    tenant_id_of,
)
from core.scheduling import InvalidCron, InvalidTimezone
from core.sync import SyncStatus, recent_logs
from storage.models import AdminAction, HealthCheck, SyncLog, Tenant

log = logging.getLogger(__name__)

KEY_EXPIRY_WINDOW = timedelta(days=7)
TENANTS_PAGE_SIZE = 10
OK_STATUSES = (SyncStatus.COMPLETED, SyncStatus.PARTIAL)
FAILED_STATUSES = (SyncStatus.FAILED, SyncStatus.INTERRUPTED)


class Action(StrEnum):
    """What an admin did; stored in admin_actions.action."""

    OVERVIEW = "overview"
    TENANTS = "tenants"
    TENANT = "tenant"
    JOBS = "jobs"
    PAUSE = "pause"
    RESUME = "resume"
    FORCE_SYNC = "force_sync"
    BROADCAST_DRAFT = "broadcast_draft"
    BROADCAST = "broadcast"
    BROADCAST_CANCELLED = "broadcast_cancelled"


# Actions that change something; /admin lists these (views are logged for the audit only).
CHANGES: frozenset[Action] = frozenset(
    {Action.PAUSE, Action.RESUME, Action.FORCE_SYNC, Action.BROADCAST}
)


class SchedulerLike(Protocol):
    """The part of APScheduler's scheduler the admin views read."""

    @property
    def running(self) -> bool: ...

    def get_jobs(self) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class ScheduledRun:
    job_id: str
    tenant_id: int | None
    next_run_at: datetime | None  # None: the job is paused


@dataclass(frozen=True, slots=True)
class HealthEntry:
    checked_at: datetime
    ok: bool
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ActionEntry:
    at: datetime
    admin_id: int
    action: str
    target: str | None
    details: str | None


@dataclass(frozen=True, slots=True)
class Overview:
    tenants_total: int
    tenants_active: int
    tenants_paused: int
    tenants_with_key: int
    keys_expiring: int  # within KEY_EXPIRY_WINDOW, not yet expired
    syncs_ok_24h: int
    syncs_failed_24h: int
    last_health: HealthEntry | None
    recent_actions: tuple[ActionEntry, ...]


@dataclass(frozen=True, slots=True)
class TenantRow:
    id: int
    chat_id: int
    seller_name: str | None
    user_name: str
    is_active: bool
    is_paused: bool
    has_key: bool
    last_status: str | None
    last_started_at: datetime | None


@dataclass(frozen=True, slots=True)
class TenantPage:
    rows: tuple[TenantRow, ...]
    page: int  # 0-based, clamped into range
    pages: int  # at least 1
    total: int


@dataclass(frozen=True, slots=True)
class TenantDetail:
    tenant: Tenant
    logs: tuple[SyncLog, ...]


class PauseOutcome(StrEnum):
    DONE = "done"
    ALREADY = "already"
    NOT_FOUND = "not_found"


def scheduled_runs(scheduler: SchedulerLike | None) -> list[ScheduledRun] | None:
    """Every job by its next run (paused ones last); None when no scheduler runs here."""
    if scheduler is None or not scheduler.running:
        return None
    runs = [
        ScheduledRun(str(job.id), tenant_id_of(str(job.id)), job.next_run_time)
        for job in scheduler.get_jobs()
    ]
    runs.sort(
        key=lambda run: (run.next_run_at is None, run.next_run_at or datetime.min, run.job_id)
    )
    return runs


async def overview(session: AsyncSession, now: datetime, actions: int = 8) -> Overview:
    """The counts /admin shows, read in a handful of aggregate queries."""
    total, active, paused, with_key, expiring = (
        await session.execute(
            select(
                func.count(Tenant.id),
                func.count(Tenant.id).filter(Tenant.is_active.is_(True)),
                func.count(Tenant.id).filter(Tenant.is_paused.is_(True)),
                func.count(Tenant.id).filter(Tenant.wb_key_encrypted.is_not(None)),
                func.count(Tenant.id).filter(
                    Tenant.wb_key_encrypted.is_not(None),
                    Tenant.key_expires_at > now,
                    Tenant.key_expires_at <= now + KEY_EXPIRY_WINDOW,
                ),
            )
        )
    ).one()
    ok, failed = (
        await session.execute(
            select(
                func.count(SyncLog.id).filter(SyncLog.status.in_(OK_STATUSES)),
                func.count(SyncLog.id).filter(SyncLog.status.in_(FAILED_STATUSES)),
            ).where(SyncLog.started_at >= now - timedelta(hours=24))
        )
    ).one()
    health = await session.scalar(
        select(HealthCheck).order_by(HealthCheck.checked_at.desc(), HealthCheck.id.desc()).limit(1)
    )
    return Overview(
        tenants_total=total,
        tenants_active=active,
        tenants_paused=paused,
        tenants_with_key=with_key,
        keys_expiring=expiring,
        syncs_ok_24h=ok,
        syncs_failed_24h=failed,
        last_health=(
            HealthEntry(health.checked_at, health.ok, dict(health.details or {}))
            if health is not None
            else None
        ),
        recent_actions=tuple(await recent_actions(session, actions, CHANGES)),
    )


async def tenant_page(
    session: AsyncSession, page: int, size: int = TENANTS_PAGE_SIZE
) -> TenantPage:
    """One page of tenants by id, each with its last sync; `page` is clamped into range."""
    total = int(await session.scalar(select(func.count(Tenant.id))) or 0)
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    tenants = list(
        (
            await session.execute(
                select(Tenant).order_by(Tenant.id).offset(page * size).limit(size)
            )
        ).scalars()
    )
    last: dict[int, SyncLog] = {}
    if tenants:
        latest = (
            select(func.max(SyncLog.id))
            .where(SyncLog.tenant_id.in_([t.id for t in tenants]))
            .group_by(SyncLog.tenant_id)
        )
        for entry in (
            await session.execute(select(SyncLog).where(SyncLog.id.in_(latest)))
        ).scalars():
            last[entry.tenant_id] = entry
    rows = tuple(
        TenantRow(
            id=t.id,
            chat_id=t.chat_id,
            seller_name=t.seller_name,
            user_name=t.user_name,
            is_active=t.is_active,
            is_paused=t.is_paused,
            has_key=t.has_key,
            last_status=last[t.id].status if t.id in last else None,
            last_started_at=last[t.id].started_at if t.id in last else None,
        )
        for t in tenants
    )
    return TenantPage(rows, page, pages, total)


async def tenant_detail(
    session: AsyncSession, tenant_id: int, logs: int = 5
) -> TenantDetail | None:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        return None
    return TenantDetail(tenant, tuple(await recent_logs(session, tenant_id, logs)))


async def set_paused(
    sessions: async_sessionmaker[AsyncSession],
    scheduler: Any,
    tenant_id: int,
    paused: bool,
) -> tuple[PauseOutcome, Tenant | None]:
    """Pause (or resume) a tenant's scheduled and manual syncs; the job follows the table."""
    async with sessions() as session:
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            return PauseOutcome.NOT_FOUND, None
        if tenant.is_paused == paused:
            return PauseOutcome.ALREADY, tenant
        tenant.is_paused = paused
        await session.commit()
    if scheduler is not None:
        if paused:
            # Pending retries and continuations would otherwise still run.
            cancel_job(scheduler, retry_job_id(tenant_id))
            cancel_job(scheduler, resume_job_id(tenant_id))
        try:
            apply_tenant_schedule(scheduler, tenant)
        except (InvalidCron, InvalidTimezone):
            # The flag is what counts; a stored cron that no longer parses keeps no job.
            log.warning("tenant %s has an unusable schedule; no job was set", tenant_id)
    return PauseOutcome.DONE, tenant


async def active_recipients(session: AsyncSession) -> list[tuple[int, int]]:
    """(tenant id, chat id) of every tenant still talking to the bot."""
    rows = await session.execute(
        select(Tenant.id, Tenant.chat_id).where(Tenant.is_active.is_(True)).order_by(Tenant.id)
    )
    return [(tenant_id, chat_id) for tenant_id, chat_id in rows.all()]


async def mark_inactive(
    sessions: async_sessionmaker[AsyncSession], scheduler: Any, tenant_id: int
) -> None:
    """A chat that blocked the bot: no more syncs or messages until the seller returns."""
    async with sessions() as session:
        await session.execute(update(Tenant).where(Tenant.id == tenant_id).values(is_active=False))
        await session.commit()
        tenant = await session.get(Tenant, tenant_id)
    if scheduler is not None and tenant is not None:
        cancel_job(scheduler, retry_job_id(tenant_id))
        cancel_job(scheduler, resume_job_id(tenant_id))
        cancel_job(scheduler, sync_job_id(tenant_id))


async def record(
    sessions: async_sessionmaker[AsyncSession],
    admin_id: int,
    action: Action,
    target: str | int | None = None,
    details: str | None = None,
) -> int:
    """Append to the admin action log; returns the entry's id."""
    async with sessions() as session:
        entry = AdminAction(
            admin_id=admin_id,
            action=action.value,
            target=None if target is None else str(target)[:64],
            details=details,
        )
        session.add(entry)
        await session.commit()
        return entry.id


async def recent_actions(
    session: AsyncSession, limit: int, kinds: Sequence[Action] | frozenset[Action] | None = None
) -> list[ActionEntry]:
    query = select(AdminAction).order_by(AdminAction.at.desc(), AdminAction.id.desc()).limit(limit)
    if kinds is not None:
        query = query.where(AdminAction.action.in_([k.value for k in kinds]))
    return [
        ActionEntry(a.at, a.admin_id, a.action, a.target, a.details)
        for a in (await session.execute(query)).scalars()
    ]


async def broadcast_draft(session: AsyncSession, draft_id: int) -> AdminAction | None:
    """A broadcast an admin asked for and has not yet confirmed or cancelled."""
    draft = await session.get(AdminAction, draft_id)
    if draft is None or draft.action != Action.BROADCAST_DRAFT.value:
        return None
    handled = await session.scalar(
        select(func.count(AdminAction.id)).where(
            AdminAction.action.in_([Action.BROADCAST.value, Action.BROADCAST_CANCELLED.value]),
            AdminAction.target == draft_target(draft_id),
        )
    )
    return None if handled else draft


def draft_target(draft_id: int) -> str:
    return f"draft:{draft_id}"


async def set_details(
    sessions: async_sessionmaker[AsyncSession], entry_id: int, details: str
) -> None:
    """Complete a log entry written when the action began (a broadcast's final counts)."""
    async with sessions() as session:
        await session.execute(
            update(AdminAction).where(AdminAction.id == entry_id).values(details=details)
        )
        await session.commit()
