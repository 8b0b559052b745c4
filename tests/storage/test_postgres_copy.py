"""PostgreSQL's bulk writes (COPY) let the event loop run while a large snapshot goes in."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import snapshot_store
from core.report import build_report
from core.stock_report import StockReport, StockRow
from core.wb.models import RemainsRow
from tests.conftest import BACKEND
from tests.storage.catalogue import three_size_cards
from tests.storage.tenants import add_tenant

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL's COPY")

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class _Ticker:
    """A task that counts how often the event loop lets it run."""

    def __init__(self) -> None:
        self.ticks = 0

    async def run(self) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(0)


class _WatchedRows(tuple[StockRow, ...]):
    """The report's rows, noting the ticker's count as each row is taken for the COPY."""

    ticker: _Ticker
    seen: list[int]
    past_first_slice: asyncio.Event

    def __iter__(self) -> Iterator[StockRow]:
        for row in super().__iter__():
            self.seen.append(self.ticker.ticks)
            if len(self.seen) > snapshot_store._COPY_SLICE:
                self.past_first_slice.set()
            yield row


def _watched(report: StockReport) -> _WatchedRows:
    rows = _WatchedRows(report.rows)
    rows.ticker, rows.seen, rows.past_first_slice = _Ticker(), [], asyncio.Event()
    return rows


def _large_report(units: int) -> StockReport:
    """Several COPY slices of rows: 1,000 products, 3 sizes, 2 warehouses each."""
    cards = three_size_cards(1_000)
    remains = [
        RemainsRow(
            c.nm_id,
            c.vendor_code,
            s.barcodes[0],
            s.tech_size,
            "Brand",
            "Subject",
            (("Тула", units), ("Коледино", 1)),
        )
        for c in cards
        for s in c.sizes
    ]
    return build_report(
        cards=cards,
        remains=remains,
        seller_warehouses=[],
        fbs_stocks=[],
        orders=[],
        now_utc=NOW,
    )


async def test_a_large_snapshot_is_copied_with_the_loop_running_every_slice(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """asyncpg encodes a COPY's rows without letting the loop run (one COPY of a large
    seller's snapshot held every chat up for up to 1.3 s): other tasks run after every
    `_COPY_SLICE` rows. The snapshot is stored whole."""
    chunk = snapshot_store._COPY_SLICE
    report = _large_report(units=3)
    assert len(report.rows) > 2 * chunk
    rows = _watched(report)
    tenant_id = await add_tenant(sessions, 1)
    ticking = asyncio.create_task(rows.ticker.run())
    try:
        async with sessions() as session, session.begin():
            await snapshot_store.save_report(
                session, tenant_id, replace(report, rows=rows), date(2026, 11, 20)
            )
    finally:
        ticking.cancel()
    seen = rows.seen
    assert len(seen) == len(report.rows)
    # Between the last row of one slice and the first of the next, the loop ran the ticker.
    for boundary in range(chunk, len(seen), chunk):
        assert seen[boundary] > seen[boundary - 1], boundary
    async with sessions() as session:
        loaded = await snapshot_store.load_report(session, tenant_id)
    assert loaded == report


async def test_a_copy_cancelled_between_slices_leaves_the_stored_snapshot_as_it_was(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A sync cancelled while its snapshot is written (e.g. the bot stopping): the COPY is
    aborted, the transaction rolls back, the last snapshot stays, and the next save works."""
    tenant_id = await add_tenant(sessions, 1)
    first, second = _large_report(units=3), _large_report(units=5)
    async with sessions() as session, session.begin():
        await snapshot_store.save_report(session, tenant_id, first, date(2026, 11, 20))

    rows = _watched(second)

    async def save_second() -> None:
        async with sessions() as session, session.begin():
            await snapshot_store.save_report(
                session, tenant_id, replace(second, rows=rows), date(2026, 11, 21)
            )

    saving = asyncio.create_task(save_second())
    async with asyncio.timeout(30):
        await rows.past_first_slice.wait()
    saving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await saving
    assert snapshot_store._COPY_SLICE < len(rows.seen) < len(second.rows)  # stopped midway

    async with sessions() as session:
        assert await snapshot_store.load_report(session, tenant_id) == first
    async with sessions() as session, session.begin():
        await snapshot_store.save_report(session, tenant_id, second, date(2026, 11, 21))
    async with sessions() as session:
        assert await snapshot_store.load_report(session, tenant_id) == second
