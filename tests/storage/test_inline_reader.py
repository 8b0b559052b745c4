"""The SQLite tenant lookup done in place: read-only, never stuck behind a lock."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import sessionmaker

from bot.middlewares import TenantMiddleware
from storage.db import INLINE_READ_BUSY_TIMEOUT_MS, QuickReads, inline_reader
from storage.models import Tenant
from tests.conftest import BACKEND
from tests.storage.tenants import add_tenant

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's inline reads")


def test_no_inline_reads_for_postgresql_or_memory() -> None:
    assert inline_reader("postgresql+asyncpg://postgres@127.0.0.1:5432/test") is None
    assert inline_reader("sqlite+aiosqlite:///:memory:") is None


async def test_reads_what_the_app_wrote_and_refuses_writes(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant_id = await add_tenant(sessions, 42, language="ru")
    engine = inline_reader(database_url)
    assert engine is not None
    try:
        with sessionmaker(engine)() as session:
            tenant = session.scalar(select(Tenant).where(Tenant.chat_id == 42))
            assert tenant is not None and tenant.id == tenant_id
            with pytest.raises(OperationalError, match="readonly"):
                session.execute(text("UPDATE tenants SET language = 'en'"))
        reads = QuickReads(sessions, engine)
        assert (await reads.scalar(select(Tenant.id).where(Tenant.chat_id == 42))) == tenant_id
        assert await reads.scalars(select(Tenant.chat_id)) == [42]
    finally:
        engine.dispose()


def _lock_exclusively(path: Path) -> sqlite3.Connection:
    """Another process's writer in a database not in WAL mode: readers must wait for it."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    return holder


async def test_a_locked_database_gives_up_at_once_and_the_middleware_reads_the_usual_way(
    database_url: str, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    tenant_id = await add_tenant(sessions, 42, language="ru")
    engine = inline_reader(database_url)
    assert engine is not None
    path = tmp_path / "stock_tracker.db"
    async with sessions() as session:
        await session.execute(text("PRAGMA journal_mode=DELETE"))
    holder = _lock_exclusively(path)
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError), sessionmaker(engine)() as session:
            session.scalar(select(Tenant).where(Tenant.chat_id == 42))
        assert time.monotonic() - started < 10 * INLINE_READ_BUSY_TIMEOUT_MS / 1000

        reads = QuickReads(sessions, engine)
        middleware = TenantMiddleware(sessions, reads)
        seen: dict[str, Any] = {}

        async def handler(_: Any, data: dict[str, Any]) -> None:
            seen.update(data)

        data: dict[str, Any] = {
            "event_from_user": SimpleNamespace(language_code="ru"),
            "event_chat": SimpleNamespace(id=42),
        }
        # Still locked: the inline read fails at once and the middleware waits the usual way
        # (in aiosqlite's thread, the loop free) until the lock goes, 0.3 s from now.
        asyncio.get_running_loop().call_later(0.3, holder.rollback)
        started = time.monotonic()
        await middleware(handler, SimpleNamespace(), data)  # type: ignore[arg-type]
        assert time.monotonic() - started >= 0.25
        assert seen["tenant"].id == tenant_id

        holder = _lock_exclusively(path)
        asyncio.get_running_loop().call_later(0.3, holder.rollback)
        started = time.monotonic()
        assert [t.id for t in await reads.scalars(select(Tenant))] == [tenant_id]
        assert time.monotonic() - started >= 0.25
    finally:
        holder.close()
        engine.dispose()
