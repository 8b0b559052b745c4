"""The real application, with its real aiogram session, against the Telegram and WB fakes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from bot.app import App, create_app, run_polling
from core.settings import Settings
from tests.fakes.telegram import FakeTelegram
from tests.fakes.wb import FakeWB
from tests.fakes.wb_data import SellerData, generate_seller

BOT_TOKEN = "123456:TEST-token-for-the-fake"
NOW = datetime.now(UTC)


@dataclass
class Harness:
    tg: FakeTelegram
    wb: FakeWB
    app: App
    settings: Settings

    async def say(self, text: str, *, chat_id: int = 1001, **kwargs: Any) -> int:
        return self.tg.user_says(text, chat_id=chat_id, **kwargs)

    async def reply_to(
        self, text: str, *, chat_id: int = 1001, timeout: float = 10, **kwargs: Any
    ) -> str:
        """Send `text` and return the bot's next message in that chat."""
        mark = self.tg.mark()
        self.tg.user_says(text, chat_id=chat_id, **kwargs)
        message = await self.tg.wait_for_message(chat_id, since=mark, timeout=timeout)
        return str(message["text"])

    async def wait_text(
        self, chat_id: int, contains: str, *, since: int = 0, timeout: float = 20
    ) -> str:
        """The first text the bot sent or edited in, after call `since`, containing `contains`."""

        def matching() -> list[str]:
            return [
                str(call.params["text"])
                for call in self.tg.calls[since:]
                if call.method in ("sendMessage", "editMessageText")
                and str(call.params.get("chat_id")) == str(chat_id)
                and contains in str(call.params.get("text", ""))
            ]

        await self.tg.wait_until(lambda: bool(matching()), timeout=timeout)
        return matching()[0]


def small_seller(seed: int = 7, **kwargs: Any) -> SellerData:
    defaults: dict[str, Any] = {
        "products": 40,
        "max_sizes": 4,
        "wb_warehouses": 5,
        "seller_warehouses": 2,
        "orders": 600,
        "days": 30,
        "now": NOW,
    }
    defaults.update(kwargs)
    return generate_seller(seed, **defaults)


def make_settings(
    database_url: str, tmp_path: Path, tg: FakeTelegram, wb: FakeWB, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "database_url": database_url,
        "encryption_keys": Fernet.generate_key().decode(),
        "telegram_api_url": tg.url,
        "wb_api_url": wb.url,
        "admin_ids": "900",
        "key_file": str(tmp_path / "encryption.key"),
        "shutdown_grace_seconds": 2,
        # Scenarios sync back to back; the /sync cooldown has its own tests.
        "throttle_sync_seconds": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextlib.asynccontextmanager
async def running_bot(
    database_url: str,
    tmp_path: Path,
    sellers: SellerData | Iterable[SellerData],
    *,
    wb: FakeWB | None = None,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    """The bot running against fresh fakes (or a WB fake kept across a restart)."""
    async with contextlib.AsyncExitStack() as stack:
        tg = await stack.enter_async_context(FakeTelegram(token=BOT_TOKEN))
        if wb is None:
            wb = await stack.enter_async_context(FakeWB(sellers))
        async with _app(database_url, tmp_path, tg, wb, overrides) as harness:
            yield harness


@contextlib.asynccontextmanager
async def _app(
    database_url: str, tmp_path: Path, tg: FakeTelegram, wb: FakeWB, overrides: dict[str, Any]
) -> AsyncIterator[Harness]:
    settings = make_settings(database_url, tmp_path, tg, wb, **overrides)
    app = await create_app(settings)
    polling = asyncio.create_task(run_polling(app))
    try:
        await tg.wait_for_call("getMe", timeout=10)
        # getMe comes first (the bot waits for Telegram); polling starts right after it.
        await tg.wait_until(lambda: tg.received["getUpdates"] >= 1, timeout=10)
        yield Harness(tg, wb, app, settings)
    finally:
        await app.syncs.wait_idle(timeout=10)
        with contextlib.suppress(RuntimeError):
            await app.dispatcher.stop_polling()
        try:
            await asyncio.wait_for(polling, timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            polling.cancel()


async def onboard(
    h: Harness, seller: SellerData, *, token_type: int = 3, chat_id: int = 1001
) -> int:
    """Give the seller's key to the bot; returns the tenant id."""
    from sqlalchemy import select

    from storage.models import Tenant
    from tests.fakes.wb import make_token

    key = make_token(token_type=token_type, seller_id=seller.seller_id)
    mark = h.tg.mark()
    h.tg.user_says(f"/api_key {key}", chat_id=chat_id)
    await h.wait_text(chat_id, "(в зашифрованном виде)", since=mark)
    async with h.app.sessions() as session:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.chat_id == chat_id))
    assert tenant_id is not None
    return tenant_id
