"""Reading each part of a sync from WB, or reusing its last stored copy when WB's limits say wait.

Every part read is stored at once (its payload and state), so a later sync, a resume after a
restart, or a sync that cannot re-read a part now, all start from what is known.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import parts_codec, snapshot_store
from core.notifier import PartStatus
from core.report import ReportBuilder, moscow_window
from core.settings import Settings
from core.stock_report import DataPart
from core.wb.client import WBClient
from core.wb.errors import RateLimitWait
from core.wb.limits import Method
from core.wb.models import Card, FbsStock, RemainsRow, SellerWarehouse
from storage.models import DataPartState, Tenant

log = logging.getLogger(__name__)

# How long one sync keeps polling a remains report before it finishes with the last copy.
REMAINS_MAX_POLL_SECONDS = 600.0


@dataclass(slots=True)
class Parts:
    """The parts as read (or reused) during one sync, with their statuses."""

    statuses: dict[DataPart, PartStatus] = field(default_factory=dict)
    cards: list[Card] = field(default_factory=list)
    warehouses: list[SellerWarehouse] = field(default_factory=list)
    fbs: list[FbsStock] = field(default_factory=list)
    remains: list[RemainsRow] = field(default_factory=list)
    new_remains_task: bool = True  # a resume only continues a report, never starts one
    pending_until: datetime | None = None  # unfinished work (a report, orders paging) resumes then

    def pending(self, when: datetime | None) -> None:
        if when is not None and (self.pending_until is None or when < self.pending_until):
            self.pending_until = when


class KeepLastCopy(Exception):
    """Nothing to continue and no new work wanted: use the stored copy as it is."""


class NoCopy(Exception):
    """A part could not be read now and there is no earlier copy to use."""

    def __init__(self, part: DataPart, retry_at: datetime) -> None:
        super().__init__(f"{part} cannot be read before {retry_at.isoformat()}")
        self.part = part
        self.retry_at = retry_at


class PartReader:
    """Reads the four parts for one tenant; stores each as it arrives."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock

    async def _part(self, tenant_id: int, part: DataPart) -> DataPartState | None:
        async with self._sessions() as session:
            return await session.get(DataPartState, (tenant_id, part.value))

    async def _save_part(
        self,
        tenant_id: int,
        part: DataPart,
        *,
        payload: bytes | None = None,
        fetched_at: datetime | None = None,
        state: dict[str, Any] | None = None,
        keep_payload: bool = False,
    ) -> None:
        async with self._sessions() as session:
            row = await session.get(DataPartState, (tenant_id, part.value))
            if row is None:
                row = DataPartState(tenant_id=tenant_id, part=part.value)
                session.add(row)
            if not keep_payload:
                row.payload = payload
                row.fetched_at = fetched_at
            row.state = state
            await session.commit()

    def _reuse(
        self, parts: Parts, part: DataPart, stored: DataPartState | None, wait: RateLimitWait
    ) -> bytes:
        if stored is None or stored.payload is None:
            raise NoCopy(part, wait.retry_at)
        parts.statuses[part] = PartStatus(part, stored.fetched_at, False, wait.retry_at)
        return stored.payload

    async def read_cards(self, client: WBClient, tenant: Tenant, parts: Parts) -> None:
        try:
            parts.cards = await client.cards()
        except RateLimitWait as wait:
            stored = await self._part(tenant.id, DataPart.CARDS)
            payload = self._reuse(parts, DataPart.CARDS, stored, wait)
            parts.cards = await asyncio.to_thread(parts_codec.decode_cards, payload)
            return
        now = self._clock()
        await self._save_part(
            tenant.id,
            DataPart.CARDS,
            payload=await asyncio.to_thread(parts_codec.encode_cards, parts.cards),
            fetched_at=now,
        )
        parts.statuses[DataPart.CARDS] = PartStatus(DataPart.CARDS, now, True)

    async def read_fbs(self, client: WBClient, tenant: Tenant, parts: Parts) -> None:
        # Every size of the catalogue, not only sizes with FBO stock.
        chrt_ids = sorted({size.chrt_id for card in parts.cards for size in card.sizes})
        try:
            warehouses = await client.seller_warehouses()
            stocks: list[FbsStock] = []
            for warehouse in warehouses:
                if chrt_ids:
                    stocks.extend(await client.fbs_stocks(warehouse.id, chrt_ids))
        except RateLimitWait as wait:
            stored = await self._part(tenant.id, DataPart.FBS_STOCK)
            payload = self._reuse(parts, DataPart.FBS_STOCK, stored, wait)
            parts.warehouses, parts.fbs = await asyncio.to_thread(parts_codec.decode_fbs, payload)
            return
        parts.warehouses, parts.fbs = warehouses, stocks
        now = self._clock()
        await self._save_part(
            tenant.id,
            DataPart.FBS_STOCK,
            payload=await asyncio.to_thread(parts_codec.encode_fbs, warehouses, stocks),
            fetched_at=now,
        )
        parts.statuses[DataPart.FBS_STOCK] = PartStatus(DataPart.FBS_STOCK, now, True)

    async def read_remains(self, client: WBClient, tenant: Tenant, parts: Parts) -> None:
        """Create (or continue) the remains report, poll it within limits, download it."""
        stored = await self._part(tenant.id, DataPart.REMAINS)
        state = dict(stored.state or {}) if stored else {}
        task_id: str | None = state.get("task_id")
        deadline = time.monotonic() + REMAINS_MAX_POLL_SECONDS
        retry_at: datetime | None = None
        try:
            if task_id is None:
                if not parts.new_remains_task:
                    raise KeepLastCopy
                task_id = await client.create_remains_report()
                state = {"task_id": task_id, "created_at": self._clock().isoformat()}
                await self._save_part(tenant.id, DataPart.REMAINS, state=state, keep_payload=True)
            while True:
                status = await client.remains_status(task_id)
                if status == "done":
                    rows = await client.download_remains(task_id)
                    now = self._clock()
                    await self._save_part(
                        tenant.id,
                        DataPart.REMAINS,
                        payload=await asyncio.to_thread(parts_codec.encode_remains, rows),
                        fetched_at=now,
                        state=None,
                    )
                    parts.remains = rows
                    parts.statuses[DataPart.REMAINS] = PartStatus(DataPart.REMAINS, now, True)
                    return
                if status in ("purged", "canceled"):
                    log.warning("remains report of tenant %s ended %s", tenant.id, status)
                    await self._save_part(
                        tenant.id, DataPart.REMAINS, state=None, keep_payload=True
                    )
                    retry_at = client.limiter.next_allowed_at(Method.REMAINS_CREATE)
                    break
                if time.monotonic() > deadline:
                    retry_at = client.limiter.next_allowed_at(Method.REMAINS_STATUS)
                    parts.pending(retry_at)
                    break
        except RateLimitWait as wait:
            retry_at = wait.retry_at
            if task_id is not None:
                parts.pending(retry_at)  # a report is waiting on WB: continue it then
        except KeepLastCopy:
            pass
        # Finish with the last downloaded copy (or none yet); the pending task id is kept.
        stored = await self._part(tenant.id, DataPart.REMAINS)
        if stored is not None and stored.payload is not None:
            parts.remains = await asyncio.to_thread(parts_codec.decode_remains, stored.payload)
        parts.statuses[DataPart.REMAINS] = PartStatus(
            DataPart.REMAINS, stored.fetched_at if stored else None, False, retry_at
        )

    async def read_orders(self, client: WBClient, tenant: Tenant, parts: Parts) -> None:
        """Ask WB only for changes since the last lastChangeDate seen; keep orders by srid."""
        now = self._clock()
        window_start, _ = moscow_window(now, self._settings.orders_window_days)
        stored = await self._part(tenant.id, DataPart.ORDERS)
        state = dict(stored.state or {}) if stored else {}
        cursor_text: str | None = state.get("cursor")
        cursor = datetime.fromisoformat(cursor_text) if cursor_text else window_start
        refreshed = False
        retry_at: datetime | None = None
        try:
            while True:
                page = await client.orders_page(cursor)
                if page:
                    async with self._sessions() as session:
                        await snapshot_store.upsert_orders(session, tenant.id, page)
                        newest = max(order.last_change_date for order in page)
                        advanced = newest > cursor
                        cursor = max(cursor, newest)
                        await self._save_orders_cursor(session, tenant.id, stored, cursor)
                        await session.commit()
                # A short page is the last one: asking again would cost a call (a minute on a
                # Personal key, three hours on a Base key) to learn nothing.
                if not page or len(page) < self._settings.wb_orders_page_rows or not advanced:
                    refreshed = True
                    break
        except RateLimitWait as wait:
            retry_at = wait.retry_at
            parts.pending(retry_at)
        fetched_at = now if refreshed else (stored.fetched_at if stored else None)
        async with self._sessions() as session:
            row = await session.get(DataPartState, (tenant.id, DataPart.ORDERS.value))
            if row is None:
                row = DataPartState(tenant_id=tenant.id, part=DataPart.ORDERS.value)
                session.add(row)
            row.state = {"cursor": cursor.isoformat()}
            row.fetched_at = fetched_at
            # Orders placed before the window can never count again.
            await snapshot_store.prune_orders(session, tenant.id, window_start - timedelta(days=1))
            await session.commit()
        parts.statuses[DataPart.ORDERS] = PartStatus(
            DataPart.ORDERS, fetched_at, refreshed, retry_at
        )

    async def add_orders(self, tenant_id: int, now: datetime, builder: ReportBuilder) -> None:
        """Stream the stored orders of the window ending at `now` into the report being built.

        A partition at a time, each added in a worker thread (CPU-bound), and only when the
        builder builds for that very window. The window's orders are never loaded as
        objects, nor held as counts (see snapshot_store.add_window_orders).
        """
        if builder.window != moscow_window(now, self._settings.orders_window_days):
            raise ValueError("the report is built for another window")
        async with self._sessions() as session:
            await snapshot_store.add_window_orders(
                session, tenant_id, builder, run=asyncio.to_thread
            )

    async def _save_orders_cursor(
        self, session: AsyncSession, tenant_id: int, stored: DataPartState | None, cursor: datetime
    ) -> None:
        row = await session.get(DataPartState, (tenant_id, DataPart.ORDERS.value))
        if row is None:
            row = DataPartState(tenant_id=tenant_id, part=DataPart.ORDERS.value)
            session.add(row)
            row.fetched_at = stored.fetched_at if stored else None
        row.state = {"cursor": cursor.isoformat()}
