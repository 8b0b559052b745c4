"""What Telegram tells us about a tenant's chat: blocked, back again, moved to a new id."""

from __future__ import annotations

import logging
import unicodedata

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Tenant

log = logging.getLogger(__name__)

NAME_LENGTH = 255


def storable_name(name: str) -> str:
    """A Telegram display name fit for the tenants table: control characters (NUL cannot be
    stored in PostgreSQL text at all) become spaces, and it fits the column."""
    cleaned = "".join(" " if unicodedata.category(c) == "Cc" else c for c in name)
    return cleaned.strip()[:NAME_LENGTH]


async def mark_chat_blocked(sessions: async_sessionmaker[AsyncSession], chat_id: int) -> int | None:
    """Mark the chat's tenant inactive (the bot cannot reach it); its id if this changed it."""
    async with sessions() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.chat_id == chat_id))
        if tenant is None or not tenant.is_active:
            return None
        tenant.is_active = False
        await session.commit()
        log.info("tenant %s is unreachable (bot blocked or removed): marked inactive", tenant.id)
        return tenant.id


async def mark_chat_reachable(
    sessions: async_sessionmaker[AsyncSession], chat_id: int
) -> int | None:
    """Mark the chat's tenant active again; its id if this changed it."""
    async with sessions() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.chat_id == chat_id))
        if tenant is None or tenant.is_active:
            return None
        tenant.is_active = True
        await session.commit()
        log.info("tenant %s can be reached again: marked active", tenant.id)
        return tenant.id


async def move_chat(
    sessions: async_sessionmaker[AsyncSession], old_chat_id: int, new_chat_id: int
) -> int | None:
    """Follow a group upgraded to a supergroup; the moved tenant's id, or None.

    Idempotent: Telegram reports one migration several ways (a service message in each chat,
    an error on the next send), and only the first one finds the tenant under the old id.
    """
    if old_chat_id == new_chat_id:
        return None
    async with sessions() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.chat_id == old_chat_id))
        if tenant is None:
            return None
        taken = await session.scalar(select(Tenant.id).where(Tenant.chat_id == new_chat_id))
        if taken is not None:
            log.warning(
                "chat of tenant %s moved to a chat that tenant %s already uses; kept both",
                tenant.id,
                taken,
            )
            return None
        tenant.chat_id = new_chat_id
        await session.commit()
        log.info("tenant %s: chat upgraded to a supergroup, chat id updated", tenant.id)
        return tenant.id
