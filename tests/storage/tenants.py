"""A tenant row for storage tests that need one to hang data on."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Tenant


async def add_tenant(
    sessions: async_sessionmaker[AsyncSession], chat_id: int, **fields: Any
) -> int:
    """Store a tenant for `chat_id` (its user id too) and return its id."""
    async with sessions() as session, session.begin():
        tenant = Tenant(chat_id=chat_id, user_id=chat_id, **fields)
        session.add(tenant)
        await session.flush()
        return int(tenant.id)
