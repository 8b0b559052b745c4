"""The `/export` file: the stored snapshot as an .xlsx, with no WB call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import snapshot_store
from core.exporters.xlsx import build_xlsx_in_thread
from core.stock_report import StockReport
from storage.models import SnapshotMeta

# A sync replacing the snapshot between our reads is rare; a few re-reads settle it.
LOAD_TRIES = 3


@dataclass(frozen=True, slots=True)
class ReportFile:
    filename: str
    content: bytes
    generated_at: datetime


async def load_stored_report(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int
) -> StockReport | None:
    """The stored report, read again if a sync replaced it while it was being read."""
    report: StockReport | None = None
    for _ in range(LOAD_TRIES):
        async with sessions() as session:
            report = await snapshot_store.load_report(session, tenant_id)
            if report is None:
                return None
            # The snapshot is read in several statements; a new one in between would mix two.
            latest = await session.scalar(
                select(SnapshotMeta.generated_at).where(SnapshotMeta.tenant_id == tenant_id)
            )
        if latest == report.generated_at:
            return report
    return report


def file_name(generated_at: datetime, tz: str) -> str:
    return generated_at.astimezone(ZoneInfo(tz)).strftime("stock_%Y-%m-%d_%H%M.xlsx")


async def stored_report_file(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, *, lang: str, tz: str
) -> ReportFile | None:
    """The stored report as an .xlsx file; None before the first successful sync."""
    report = await load_stored_report(sessions, tenant_id)
    if report is None:
        return None
    content = await build_xlsx_in_thread(report, lang=lang, tz=tz)
    return ReportFile(file_name(report.generated_at, tz), content, report.generated_at)
