"""Filters that aiogram awaits on the event loop instead of running in a worker thread.

aiogram calls a filter that is a plain callable (a magic filter such as
`F.chat.type == "private"`, a `State`, a plain function) through `asyncio.to_thread`, for
every update that reaches it. While syncs keep the worker threads and the GIL busy, each of
those hops waits for both: three of them stood in front of every `/status`
(docs/performance.md, item 32). A `Filter` is awaited in place; these filters are that.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.types import TelegramObject
from magic_filter import MagicFilter


class Magic(Filter):
    """A magic filter (`F...`), resolved against the update's event on the loop."""

    __slots__ = ("magic",)

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> Any:
        # The value as aiogram would use it: falsy rejects, a dict adds handler arguments.
        return self.magic.resolve(event)
