"""/api_key: take a WB key, delete its message, check it, store it encrypted."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import render
from bot.filters import Magic
from bot.schedule_words import describe_cron_words
from bot.texts import t
from core.jobs import apply_tenant_schedule
from core.onboarding import KeyCheck, KeyProblem, check_key, store_key
from core.scheduling import DEFAULT_CRON
from core.settings import Settings
from core.tenants import storable_name
from core.vault import KeyVault
from core.wb.token import TokenType, categories_to_mask
from storage.models import Tenant

log = logging.getLogger(__name__)


class KeyInput(StatesGroup):
    """Waiting for the key as the next message; the state holds no data."""

    waiting = State()


async def _delete(bot: Bot, message: Message) -> bool:
    try:
        await bot.delete_message(message.chat.id, message.message_id)
    except TelegramAPIError:
        return False
    return True


async def api_key_in_group(message: Message, lang: str, bot: Bot, command: CommandObject) -> None:
    if command.args:
        await _delete(bot, message)  # a key posted in a group should not stay there
    await message.answer(t(lang, "private_only"))


async def api_key(
    message: Message,
    command: CommandObject,
    lang: str,
    bot: Bot,
    state: FSMContext,
    sessions: async_sessionmaker[AsyncSession],
    vault: KeyVault,
    http: aiohttp.ClientSession,
    settings: Settings,
    app: Any,
) -> None:
    if not command.args:
        await state.set_state(KeyInput.waiting)
        await message.answer(t(lang, "key_ask"))
        return
    await _take_key(message, command.args, lang, bot, sessions, vault, http, settings, app)


async def key_as_next_message(
    message: Message,
    lang: str,
    bot: Bot,
    state: FSMContext,
    sessions: async_sessionmaker[AsyncSession],
    vault: KeyVault,
    http: aiohttp.ClientSession,
    settings: Settings,
    app: Any,
) -> None:
    await state.clear()
    assert message.text is not None
    await _take_key(message, message.text, lang, bot, sessions, vault, http, settings, app)


async def _take_key(
    message: Message,
    key: str,
    lang: str,
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    vault: KeyVault,
    http: aiohttp.ClientSession,
    settings: Settings,
    app: Any,
) -> None:
    deleted = await _delete(bot, message)
    key = key.strip()
    note = t(lang, "key_deleted_note" if deleted else "key_not_deleted_note")
    checking = await message.answer(t(lang, "key_checking"))
    verdict = await check_key(key, http, settings)
    if not verdict.ok:
        await _edit(checking, _problem_text(lang, verdict) + "\n" + note)
        return
    assert verdict.info is not None
    assert message.from_user is not None
    async with sessions() as session:
        tenant = await session.scalar(select(Tenant).where(Tenant.chat_id == message.chat.id))
        if tenant is None:
            tenant = Tenant(
                chat_id=message.chat.id,
                user_id=message.from_user.id,
                user_name=storable_name(message.from_user.full_name),
                language=lang,
                timezone=settings.default_timezone,
                low_stock_threshold=settings.low_stock_threshold_days,
            )
            session.add(tenant)
            await session.flush()
        replaced = await store_key(session, tenant, key, verdict.info, vault)
        if not replaced and tenant.schedule_cron is None:
            tenant.schedule_cron = DEFAULT_CRON
        await session.commit()
        tenant_id = tenant.id
        schedule_cron = tenant.schedule_cron
        # A new key also lifts a pause caused by a rejected key.
        apply_tenant_schedule(app.scheduler, tenant)
    info = verdict.info
    lines = [
        t(
            lang,
            "key_replaced" if replaced else "key_saved",
            token_type=render.token_type(lang, int(info.token_type)),
            categories=render.categories(lang, categories_to_mask(info.categories, info.read_only)),
            expires=render.local_time(info.expires_at, settings.default_timezone, "%d.%m.%Y"),
        )
    ]
    if not info.read_only:
        lines.append(t(lang, "key_not_read_only"))
    if info.token_type is TokenType.BASE:
        lines.append(t(lang, "key_base_note"))
    if schedule_cron:
        lines.append(t(lang, "key_schedule_set", words=describe_cron_words(schedule_cron, lang)))
    lines.append(note)
    lines.append(t(lang, "key_next_step"))
    await _edit(checking, "\n\n".join(lines))
    log.info("tenant %s stored a %s key %s", tenant_id, info.token_type.name, info.fingerprint)


def _problem_text(lang: str, verdict: KeyCheck) -> str:
    problem = verdict.problem
    if problem is KeyProblem.EXPIRED and verdict.info is not None:
        return t(lang, "key_expired", date=verdict.info.expires_at.strftime("%d.%m.%Y"))
    if problem is KeyProblem.MISSING_CATEGORIES:
        return t(
            lang, "key_missing_categories", categories=render.category_names(lang, verdict.missing)
        )
    if problem is KeyProblem.REJECTED and verdict.rejected_by is not None:
        return t(lang, "key_rejected", category=t(lang, f"category_{verdict.rejected_by.value}"))
    if problem is KeyProblem.WB_UNAVAILABLE:
        return t(lang, "key_wb_unavailable")
    return t(lang, "key_malformed")


async def _edit(message: Message, text: str) -> None:
    try:
        await message.edit_text(text)
    except TelegramAPIError:
        await message.answer(text)


def create_router() -> Router:
    router = Router(name="api_key")
    router.message.register(api_key_in_group, Command("api_key"), Magic(F.chat.type != "private"))
    router.message.register(api_key, Command("api_key"))
    router.message.register(
        key_as_next_message,
        StateFilter(KeyInput.waiting),
        Magic(F.text & ~F.text.startswith("/")),
    )
    return router
