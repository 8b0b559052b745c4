"""Every handler and filter of the bot is awaited on the event loop.

aiogram runs a plain callable (a magic filter, a State, a function) in a worker thread for
every update that reaches it; under the syncs' load each such hop waited for a thread and
for the GIL in front of the chat's reply (bot/filters.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from aiogram import F, Router
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.types import Chat, Message

from bot.app import build_dispatcher
from bot.filters import Magic


def _routers(router: Router) -> Iterator[Router]:
    yield router
    for sub in router.sub_routers:
        yield from _routers(sub)


def _threaded(router: Router) -> Iterator[str]:
    """What aiogram would hand to a worker thread, named by router, event and callback."""
    for event, observer in router.observers.items():
        root: HandlerObject = observer._handler  # the router-level filters (observer.filter)
        handlers: list[HandlerObject] = observer.handlers
        filters: list[tuple[str, FilterObject]] = [("router filter", f) for f in root.filters or ()]
        for handler in handlers:
            if not handler.awaitable:
                yield f"{router.name}.{event}: handler {handler.callback!r}"
            name = getattr(handler.callback, "__name__", repr(handler.callback))
            filters += [(f"filter of {name}", f) for f in handler.filters or ()]
        for where, filter_object in filters:
            if not filter_object.awaitable:
                yield f"{router.name}.{event}: {where}: {filter_object.callback!r}"


def test_no_handler_or_filter_of_the_bot_runs_in_a_worker_thread() -> None:
    dispatcher = build_dispatcher()
    routers = list(_routers(dispatcher))
    assert len(routers) > 10  # every feature's router was walked
    assert [line for router in routers for line in _threaded(router)] == []


def test_the_check_itself_finds_a_plain_magic_filter() -> None:
    router = Router(name="probe")

    async def handler() -> None: ...

    router.message.register(handler, F.text)
    router.message.register(handler, Magic(F.text))
    assert len(list(_threaded(router))) == 1


async def test_a_magic_filter_gives_what_aiogram_would() -> None:
    private = Message.model_validate(
        {"message_id": 1, "date": 0, "chat": Chat(id=1, type="private"), "text": "/x"}
    )
    group = private.model_copy(update={"chat": Chat(id=-1, type="group")})
    for magic in (F.chat.type == "private", F.text.startswith("/"), F.migrate_to_chat_id):
        for message in (private, group):
            assert await Magic(magic)(message) == magic.resolve(message)
    assert await Magic(F.chat.type == "private")(private) is True
    assert await Magic(F.chat.type == "private")(group) is False
