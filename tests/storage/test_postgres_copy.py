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
from core.stock_report import StockRow
from core.wb.models import Card, CardSize, RemainsRow
from tests.conftest import BACKEND
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

    def __iter__(self) -> Iterator[StockRow]:
        for row in super().__iter__():
            self.seen.append(self.ticker.ticks)
            yield row


async def test_a_large_snapshot_is_copied_with_the_loop_running_every_slice(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """asyncpg encodes a COPY's rows without letting the loop run (one COPY of a large
    seller's snapshot held every chat up for up to 1.3 s): other tasks run after every
    `_COPY_SLICE` rows. The snapshot is stored whole."""
    chunk = snapshot_store._COPY_SLICE
    cards = [
        Card(
            nm_id,
            nm_id,
            f"ART-{nm_id}",
            "Brand",
            "Title",
            "Subject",
            tuple(
                CardSize(nm_id * 10 + k, size, size, (f"b{nm_id}-{size}",))
                for k, size in enumerate(("S", "M", "L"))
            ),
        )
        for nm_id in range(1, 1_001)
    ]
    remains = [
        RemainsRow(
            c.nm_id,
            c.vendor_code,
            s.barcodes[0],
            s.tech_size,
            "Brand",
            "Subject",
            (("Тула", 3), ("Коледино", 1)),
        )
        for c in cards
        for s in c.sizes
    ]
    report = build_report(
        cards=cards,
        remains=remains,
        seller_warehouses=[],
        fbs_stocks=[],
        orders=[],
        now_utc=NOW,
    )
    assert len(report.rows) > 2 * chunk
    ticker = _Ticker()
    rows = _WatchedRows(report.rows)
    rows.ticker, rows.seen = ticker, []
    tenant_id = await add_tenant(sessions, 1)
    ticking = asyncio.create_task(ticker.run())
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
