"""What Telegram reports about the bot's place in a chat: blocked, back, moved to a new id."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.types import ChatMemberUpdated, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.filters import Magic
from core.jobs import reschedule
from core.tenants import mark_chat_blocked, mark_chat_reachable, move_chat

GONE = frozenset({ChatMemberStatus.KICKED, ChatMemberStatus.LEFT})


async def bot_membership_changed(
    event: ChatMemberUpdated, sessions: async_sessionmaker[AsyncSession], app: Any
) -> None:
    """A private chat's "kicked" means the user blocked the bot; "member" means unblocked.

    The schedule follows: a blocked chat's syncs stop, an unblocked chat's resume.
    """
    if event.new_chat_member.status in GONE:
        tenant_id = await mark_chat_blocked(sessions, event.chat.id)
    else:
        tenant_id = await mark_chat_reachable(sessions, event.chat.id)
    if tenant_id is not None:
        await reschedule(app.scheduler, sessions, tenant_id)


async def chat_migrated_to(message: Message, sessions: async_sessionmaker[AsyncSession]) -> None:
    assert message.migrate_to_chat_id is not None
    await move_chat(sessions, message.chat.id, message.migrate_to_chat_id)


async def chat_migrated_from(message: Message, sessions: async_sessionmaker[AsyncSession]) -> None:
    assert message.migrate_from_chat_id is not None
    await move_chat(sessions, message.migrate_from_chat_id, message.chat.id)


def create_router() -> Router:
    router = Router(name="membership")
    router.my_chat_member.register(bot_membership_changed)
    router.message.register(chat_migrated_to, Magic(F.migrate_to_chat_id))
    router.message.register(chat_migrated_from, Magic(F.migrate_from_chat_id))
    return router
