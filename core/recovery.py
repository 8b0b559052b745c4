"""After a crash: syncs left "in progress" by a dead process are marked interrupted."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from core.leases import holder_is_dead
from core.notifier import ChatRef, Notifier
from core.sync import SyncStatus, sync_lease
from storage.models import Lease, SyncLog, Tenant

log = logging.getLogger(__name__)


async def recover_interrupted_syncs(
    sessions: async_sessionmaker[AsyncSession],
    notifier: Notifier,
    running_here: frozenset[int],
    now: datetime | None = None,
) -> list[int]:
    """Mark in-progress syncs whose owner is gone (no live lease) as interrupted; tell sellers.

    Returns the tenant ids told. A sync of this process, or one whose lease another live
    process still renews, is left alone.
    """
    now = now or utcnow()
    told: list[int] = []
    async with sessions() as session:
        stale = list(
            (
                await session.execute(
                    select(SyncLog).where(SyncLog.status == SyncStatus.IN_PROGRESS)
                )
            ).scalars()
        )
        live = {
            lease.name
            for lease in (
                await session.execute(select(Lease).where(Lease.expires_at >= now))
            ).scalars()
            if not holder_is_dead(lease.holder)
        }
        for entry in stale:
            if entry.tenant_id in running_here or sync_lease(entry.tenant_id) in live:
                continue
            entry.status = SyncStatus.INTERRUPTED
            entry.finished_at = now
            entry.error = "interrupted: the process stopped during the sync"
            if entry.tenant_id not in told:
                told.append(entry.tenant_id)
        await session.commit()
        tenants = (
            {
                t.id: t
                for t in (
                    await session.execute(select(Tenant).where(Tenant.id.in_(told)))
                ).scalars()
            }
            if told
            else {}
        )
    for tenant_id in told:
        tenant = tenants.get(tenant_id)
        if tenant is not None and tenant.is_active:
            await notifier.sync_interrupted(
                ChatRef(tenant.id, tenant.chat_id, tenant.language, tenant.timezone)
            )
    if told:
        log.warning("marked interrupted syncs of %d tenants", len(told))
    return told
