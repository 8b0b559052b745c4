"""Low-stock alerts on transitions only: newly low, recovered; the first sync sets a baseline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.notifier import AlertChanges
from core.stock_report import StockReport
from storage.models import AlertState, Tenant


async def update_alerts(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, report: StockReport, now: datetime
) -> AlertChanges:
    """Compare the report's low items with the stored state, store the new state.

    A product is low when its days of cover are below the threshold, or its stock is zero
    after sales in the window (the report's low list holds exactly those).
    """
    current = {item.nm_id: item for item in report.low_stock}
    articles = {p.nm_id: p.vendor_code or str(p.nm_id) for p in report.products}
    async with sessions() as session, session.begin():
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            return AlertChanges()
        stored = {
            row.nm_id
            for row in (
                await session.execute(select(AlertState).where(AlertState.tenant_id == tenant_id))
            ).scalars()
        }
        baseline = tenant.alerts_baseline_at is None
        newly_low = tuple(item for nm_id, item in current.items() if nm_id not in stored)
        recovered = tuple(
            sorted(articles.get(nm_id, str(nm_id)) for nm_id in stored if nm_id not in current)
        )
        gone = stored - current.keys()
        if gone:
            await session.execute(
                delete(AlertState).where(
                    AlertState.tenant_id == tenant_id, AlertState.nm_id.in_(gone)
                )
            )
        for item in newly_low:
            session.add(AlertState(tenant_id=tenant_id, nm_id=item.nm_id, is_low=True, since=now))
        if baseline:
            tenant.alerts_baseline_at = now
            return AlertChanges(baseline=True)
        return AlertChanges(newly_low=newly_low, recovered=recovered)
