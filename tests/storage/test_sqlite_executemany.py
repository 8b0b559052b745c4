"""SQLite bulk writes run in the driver's thread, with SQLAlchemy's values and errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import snapshot_store
from storage.models import Lease, StoredOrder, Tenant
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="the SQLite write path")

LEASES = Lease.__table__


def lease(i: int, expires: datetime) -> dict[str, Any]:
    return {"name": f"lease-{i}", "holder": f"holder-{i}", "expires_at": expires}


async def test_rows_are_prepared_off_the_event_loop_thread(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    threads: list[int] = []

    def rows() -> Iterator[dict[str, Any]]:
        for i in range(5000):
            threads.append(threading.get_ident())
            yield lease(i, datetime(2026, 12, 3, 10, 0, i % 60, tzinfo=UTC))

    async with sessions() as session, session.begin():
        await snapshot_store._sqlite_executemany(session, insert(LEASES), rows())
    async with sessions() as session:
        stored = (await session.execute(select(Lease).order_by(Lease.name))).scalars().all()
    assert len(stored) == 5000
    # Only the first row, which tells the statement's columns, is made on the loop's thread.
    assert threads.count(threading.get_ident()) == 1
    assert {lease.expires_at.second for lease in stored} == set(range(60))


async def test_values_are_stored_exactly_as_sqlalchemy_stores_them(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Datetimes (with and without microseconds, aware and naive) and booleans: the same text,
    so range queries and the `last change wins` comparison see no difference."""
    async with sessions() as session, session.begin():
        session.add(Tenant(chat_id=1, user_id=1))
    async with sessions() as session:
        tenant_id = await session.scalar(select(Tenant.id))
    moments = [datetime(2026, 11, 13, 12, 0), datetime(2026, 11, 13, 12, 0, 0, 250)]

    def order(srid: str, when: datetime, cancelled: bool) -> dict[str, Any]:
        return {
            "tenant_id": tenant_id,
            "srid": srid,
            "date": when,
            "last_change_date": when,
            "nm_id": 7,
            "barcode": "b",
            "tech_size": "M",
            "supplier_article": "A",
            "warehouse_name": "W",
            "warehouse_type": "",
            "is_cancel": cancelled,
            "cancel_date": when if cancelled else None,
            "g_number": "",
            "finished_price": 1.5,
        }

    ours = [order(f"ours-{i}", when, i == 0) for i, when in enumerate(moments)]
    theirs = [order(f"theirs-{i}", when, i == 0) for i, when in enumerate(moments)]
    async with sessions() as session, session.begin():
        await snapshot_store._sqlite_executemany(session, insert(StoredOrder.__table__), ours)
        await session.execute(insert(StoredOrder.__table__), theirs)
        await snapshot_store._sqlite_executemany(
            session,
            insert(LEASES),
            [lease(0, datetime(2026, 12, 3, 10, tzinfo=UTC))],
        )
        await session.execute(insert(LEASES), [lease(1, datetime(2026, 12, 3, 10, tzinfo=UTC))])
    async with sessions() as session:
        raw = {
            srid: tuple(values)
            for srid, *values in await session.execute(
                text("SELECT srid, date, last_change_date, is_cancel, cancel_date FROM orders")
            )
        }
        leases = (await session.execute(text("SELECT expires_at FROM leases ORDER BY name"))).all()
    assert raw["ours-0"] == raw["theirs-0"]
    assert raw["ours-1"] == raw["theirs-1"]
    assert raw["ours-0"][0] == "2026-11-13 12:00:00.000000"
    assert leases[0] == leases[1]


async def test_errors_are_sqlalchemys_and_nothing_is_written(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    expires = datetime(2026, 12, 3, tzinfo=UTC)
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            await snapshot_store._sqlite_executemany(
                session, insert(LEASES), [lease(1, expires), lease(2, expires), lease(1, expires)]
            )
    async with sessions() as session:
        assert (await session.execute(select(Lease))).first() is None


async def test_no_rows_is_no_statement(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session, session.begin():
        await snapshot_store._sqlite_executemany(session, insert(LEASES), [])
