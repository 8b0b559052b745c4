"""The seller's Google Sheet: linking it (`/sheet`) and rewriting it after every sync.

A Sheets failure never fails a sync: `SheetSync` returns a short problem code (a `SheetProblem`),
the chat turns it into words, and the next sync simply tries again. Google's own error texts go
to the log only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from core.exporters.sheets import (
    SheetNotFound,
    SheetNotShared,
    SheetsError,
    SheetsExporter,
    SheetsNotConfigured,
    SheetsUnavailable,
    parse_spreadsheet_id,
    service_account_email,
)
from core.settings import Settings
from core.stock_report import StockReport
from storage.models import Tenant

log = logging.getLogger(__name__)

SHEET_URL: Final = "https://docs.google.com/spreadsheets/d/{id}"


class SheetProblem(StrEnum):
    """Why a sheet could not be linked or written; stored in `Tenant.sheet_error`."""

    BAD_LINK = "bad_link"
    NOT_SHARED = "not_shared"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"
    NOT_CONFIGURED = "not_configured"
    REJECTED = "rejected"
    UNLINKED = "unlinked"
    INTERNAL = "internal"


def problem_of(error: Exception) -> SheetProblem:
    if isinstance(error, SheetNotShared):
        return SheetProblem.NOT_SHARED
    if isinstance(error, SheetNotFound):
        return SheetProblem.NOT_FOUND
    if isinstance(error, SheetsUnavailable):
        return SheetProblem.UNAVAILABLE
    if isinstance(error, SheetsNotConfigured):
        return SheetProblem.NOT_CONFIGURED
    if isinstance(error, SheetsError):
        return SheetProblem.REJECTED
    return SheetProblem.INTERNAL


def sheet_url(spreadsheet_id: str) -> str:
    return SHEET_URL.format(id=spreadsheet_id)


def sheets_exporter(settings: Settings) -> SheetsExporter | None:
    """The exporter when a service-account file is configured; None when Sheets are off."""
    path = settings.google_service_account_file
    if not path:
        return None
    try:
        service_account_email(path)
    except SheetsNotConfigured as error:
        # Not fatal: /sheet and every sync summary will say the export is not configured.
        log.warning("GOOGLE_SERVICE_ACCOUNT_FILE is unusable: %s", error)
    return SheetsExporter(
        path, settings.sheets_api_url, base_delay=settings.sheets_retry_delay_seconds
    )


def account_email(settings: Settings) -> str | None:
    """The e-mail sellers share their sheet with; None when no usable account is configured."""
    path = settings.google_service_account_file
    if not path:
        return None
    try:
        return service_account_email(path)
    except SheetsNotConfigured:
        return None


@dataclass(frozen=True, slots=True)
class LinkResult:
    spreadsheet_id: str | None = None
    title: str = ""
    problem: SheetProblem | None = None


async def link_sheet(
    sessions: async_sessionmaker[AsyncSession],
    exporter: SheetsExporter | None,
    tenant_id: int,
    text: str,
) -> LinkResult:
    """Check that our service account can open the sheet, then store its id; else store nothing."""
    spreadsheet_id = parse_spreadsheet_id(text)
    if spreadsheet_id is None:
        return LinkResult(problem=SheetProblem.BAD_LINK)
    if exporter is None:
        return LinkResult(spreadsheet_id, problem=SheetProblem.NOT_CONFIGURED)
    try:
        title = await exporter.check_access(spreadsheet_id)
    except Exception as error:
        problem = problem_of(error)
        if problem is SheetProblem.INTERNAL:
            log.exception("checking the sheet of tenant %s failed", tenant_id)
        else:
            log.info("sheet of tenant %s not linked: %s (%s)", tenant_id, problem, error)
        return LinkResult(spreadsheet_id, problem=problem)
    async with sessions() as session, session.begin():
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None:
            return LinkResult(spreadsheet_id, problem=SheetProblem.INTERNAL)
        if tenant.spreadsheet_id != spreadsheet_id:
            tenant.spreadsheet_id = spreadsheet_id
            tenant.sheet_written_at = None
            tenant.sheet_error = None
    log.info("tenant %s linked a sheet", tenant_id)
    return LinkResult(spreadsheet_id, title)


async def unlink_sheet(sessions: async_sessionmaker[AsyncSession], tenant_id: int) -> bool:
    """Forget the tenant's sheet (the sheet itself stays the seller's); False if none was linked."""
    async with sessions() as session, session.begin():
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None or tenant.spreadsheet_id is None:
            return False
        tenant.spreadsheet_id = None
        tenant.sheet_written_at = None
        tenant.sheet_error = None
    return True


class SheetSync:
    """The sync's exporter: rewrites the linked sheet from the report just stored; never raises."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        exporter: SheetsExporter,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._exporter = exporter
        self._clock = clock

    async def __call__(self, tenant: Tenant, report: StockReport) -> tuple[bool, str | None]:
        try:
            return await self._write(tenant.id, report)
        except Exception:
            log.exception("writing the sheet of tenant %s crashed", tenant.id)
            return False, SheetProblem.INTERNAL

    async def _write(self, tenant_id: int, report: StockReport) -> tuple[bool, str | None]:
        # The seller may have relinked or unlinked while the sync ran: write what is linked now.
        async with self._sessions() as session:
            current = await session.get(Tenant, tenant_id)
        if current is None or not current.spreadsheet_id:
            return False, SheetProblem.UNLINKED
        spreadsheet_id = current.spreadsheet_id
        try:
            result = await self._exporter.write_report(
                spreadsheet_id, report, lang=current.language, tz=current.timezone
            )
        except Exception as error:
            problem = problem_of(error)
            if problem is SheetProblem.INTERNAL:
                log.exception("writing the sheet of tenant %s failed", tenant_id)
            else:
                log.warning("sheet of tenant %s not written: %s (%s)", tenant_id, problem, error)
            await self._record(tenant_id, spreadsheet_id, problem)
            return False, problem
        log.info(
            "sheet of tenant %s written: %d requests, %d bytes",
            tenant_id,
            result.requests,
            result.payload_bytes,
        )
        await self._record(tenant_id, spreadsheet_id, None)
        return True, None

    async def _record(
        self, tenant_id: int, spreadsheet_id: str, problem: SheetProblem | None
    ) -> None:
        """Note the outcome on the tenant, unless the sheet was changed meanwhile."""
        values: dict[str, object] = {"sheet_error": problem}
        if problem is None:
            values["sheet_written_at"] = self._clock()
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(Tenant)
                    .where(Tenant.id == tenant_id, Tenant.spreadsheet_id == spreadsheet_id)
                    .values(**values)
                )
        except Exception:
            # The sheet's state is only informative; losing it must not change the outcome.
            log.exception("could not record the sheet state of tenant %s", tenant_id)
