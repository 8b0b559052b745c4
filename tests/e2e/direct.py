"""The real application fed updates directly (`dp.feed_update`), its Bot pointed at FakeTelegram.

Faster and more deterministic than polling: when `feed` returns, every handler for the update
has finished and its Bot API calls are recorded. `LoopApp` keeps one app on a private event
loop so synchronous hypothesis tests can feed many examples to it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aiogram.types import Update
from sqlalchemy import select

from bot.app import App, create_app
from storage.models import Tenant
from tests.e2e.harness import BOT_TOKEN, make_settings
from tests.fakes.telegram import FakeTelegram
from tests.fakes.wb import FakeWB, make_token
from tests.fakes.wb_data import SellerData

T = TypeVar("T")


@dataclass
class Direct:
    tg: FakeTelegram
    wb: FakeWB
    app: App

    async def feed(self, update: dict[str, Any]) -> None:
        """Run every handler for `update` (a Bot API Update as JSON) to completion."""
        parsed = Update.model_validate(update, context={"bot": self.app.bot})
        await self.app.dispatcher.feed_update(self.app.bot, parsed)

    async def says(self, text: str, *, chat_id: int = 1001, **kwargs: Any) -> None:
        await self.feed(self.tg.make_update_json(text, chat_id=chat_id, **kwargs))

    async def reply_to(self, text: str, *, chat_id: int = 1001, **kwargs: Any) -> list[str]:
        """Texts the bot sent or edited in `chat_id` while handling `text`."""
        mark = self.tg.mark()
        await self.says(text, chat_id=chat_id, **kwargs)
        return self.texts_since(mark, chat_id)

    def texts_since(self, mark: int, chat_id: int | None = None) -> list[str]:
        return [
            str(call.params.get("text", ""))
            for call in self.tg.calls[mark:]
            if call.ok
            and call.method in ("sendMessage", "editMessageText")
            and (chat_id is None or str(call.params.get("chat_id")) == str(chat_id))
        ]

    async def onboard(self, seller: SellerData, *, chat_id: int, token_type: int = 3) -> Tenant:
        """Connect `seller`'s key in `chat_id` (a private chat); returns the tenant."""
        key = make_token(token_type=token_type, seller_id=seller.seller_id, user_id=chat_id)
        texts = await self.reply_to(f"/api_key {key}", chat_id=chat_id, user_id=chat_id)
        assert any("Ключ сохранён" in text for text in texts), texts
        return await self.tenant(chat_id)

    async def tenant(self, chat_id: int) -> Tenant:
        async with self.app.sessions() as session:
            tenant = await session.scalar(select(Tenant).where(Tenant.chat_id == chat_id))
        assert tenant is not None
        return tenant


@contextlib.asynccontextmanager
async def direct_app(
    database_url: str,
    tmp_path: Path,
    sellers: SellerData | Iterable[SellerData],
    **overrides: Any,
) -> AsyncIterator[Direct]:
    async with FakeTelegram(token=BOT_TOKEN) as tg, FakeWB(sellers) as wb:
        settings = make_settings(database_url, tmp_path, tg, wb, **overrides)
        app = await create_app(settings)
        try:
            yield Direct(tg, wb, app)
        finally:
            await app.syncs.wait_idle(timeout=30)
            await app.close()


class LoopApp:
    """A `direct_app` living on its own event loop, for synchronous (hypothesis) tests."""

    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        self._stack = contextlib.AsyncExitStack()

    def start(
        self,
        database_url: str,
        tmp_path: Path,
        sellers: SellerData | Iterable[SellerData],
        **overrides: Any,
    ) -> Direct:
        return self.run(
            self._stack.enter_async_context(
                direct_app(database_url, tmp_path, sellers, **overrides)
            )
        )

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(coroutine)

    def close(self) -> None:
        try:
            self.run(self._stack.aclose())
        finally:
            self._runner.close()
