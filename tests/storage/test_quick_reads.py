"""PostgreSQL: chat commands' short reads are one round trip, and a dead connection is no error."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import QuickReads, quick_read_engine
from storage.models import Tenant
from tests.conftest import BACKEND
from tests.storage.tenants import add_tenant

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL's quick reads")


def test_no_quick_read_engine_for_sqlite() -> None:
    assert quick_read_engine("sqlite+aiosqlite:///x.db") is None


def statements(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    def before(*args: Any) -> None:
        seen.append(str(args[2]).split()[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    return seen


async def test_a_read_is_the_select_alone_and_a_killed_connection_falls_back(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant_id = await add_tenant(sessions, 42)
    quick = quick_read_engine(database_url)
    assert quick is not None
    try:
        seen = statements(quick)
        usual: list[int] = []

        def counted() -> AsyncSession:
            usual.append(1)
            return sessions()

        reads = QuickReads(counted, quick=quick)  # type: ignore[arg-type]
        assert await reads.scalar(select(Tenant.id).where(Tenant.chat_id == 42)) == tenant_id
        assert await reads.scalars(select(Tenant.chat_id)) == [42]
        assert seen == ["SELECT", "SELECT"] and not usual
        async with quick.connect() as connection:
            raw = await connection.get_raw_connection()
            assert raw.driver_connection is not None
            assert not raw.driver_connection.is_in_transaction()  # autocommit: no BEGIN

        async with quick.connect() as connection:
            pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with sessions() as session:
            await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        # The pooled connection is dead: the read falls back to the pre-pinged sessions.
        assert await reads.scalar(select(Tenant.id).where(Tenant.chat_id == 42)) == tenant_id
        assert usual == [1]
        assert await reads.scalars(select(Tenant.chat_id)) == [42]
    finally:
        await quick.dispose()
