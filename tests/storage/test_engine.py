"""SQLite runs in WAL mode with a busy timeout, so readers never block the writer."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def test_sqlite_uses_wal_and_a_busy_timeout(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 15000
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_round_trip_of_aware_times(engine: AsyncEngine) -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy.ext.asyncio import async_sessionmaker

    from storage.models import Tenant

    sessions = async_sessionmaker(engine, expire_on_commit=False)
    moment = datetime(2026, 11, 29, 15, 30, tzinfo=timezone(timedelta(hours=3)))
    async with sessions() as session:
        session.add(Tenant(chat_id=5, user_id=5, key_expires_at=moment))
        await session.commit()
    async with sessions() as session:
        tenant = (await session.execute(text("SELECT id FROM tenants"))).scalar_one()
        loaded = await session.get(Tenant, tenant)
    assert loaded is not None and loaded.key_expires_at == moment
    assert loaded.key_expires_at.tzinfo == UTC
