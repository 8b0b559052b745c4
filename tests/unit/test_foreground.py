"""Syncs give way to chat commands in flight: on the loop, in threads, before statements."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from core.foreground import Foreground, give_way_before_statements
from storage.db import create_engine, session_factory
from storage.models import Lease


async def test_nothing_in_flight_means_no_wait() -> None:
    foreground = Foreground(max_wait=5)
    started = time.monotonic()
    await foreground.give_way()
    await asyncio.to_thread(foreground.give_way_in_thread)
    assert time.monotonic() - started < 0.5
    assert foreground.waits == 0
    assert not foreground.busy


async def test_background_work_waits_until_the_command_is_answered() -> None:
    foreground = Foreground(max_wait=5, max_hold=5)
    with foreground.command():
        assert foreground.busy
        waiting = asyncio.create_task(foreground.give_way())
        await asyncio.sleep(0.2)
        assert not waiting.done()
    await asyncio.wait_for(waiting, 1)
    assert not foreground.busy
    assert foreground.waits == 1
    assert 0.15 < foreground.waited_seconds < 1


async def test_overlapping_commands_hold_until_the_last_one_ends() -> None:
    foreground = Foreground(max_wait=5, max_hold=5)
    first, second = foreground.command(), foreground.command()
    first.__enter__()
    second.__enter__()
    waiting = asyncio.create_task(foreground.give_way())
    first.__exit__(None, None, None)
    await asyncio.sleep(0.1)
    assert not waiting.done()
    second.__exit__(None, None, None)
    await asyncio.wait_for(waiting, 1)


async def test_a_wait_lasts_at_most_max_wait() -> None:
    foreground = Foreground(max_wait=0.2, max_hold=10)
    with foreground.command():
        started = time.monotonic()
        await foreground.give_way()
        assert 0.15 < time.monotonic() - started < 1.5


async def test_a_long_command_holds_syncs_back_at_most_max_hold() -> None:
    """An /export or a slow reply must not stall every sync for its whole length."""
    foreground = Foreground(max_wait=10, max_hold=0.3)
    with foreground.command():
        started = time.monotonic()
        await foreground.give_way()
        assert 0.25 < time.monotonic() - started < 2
        assert not foreground.busy
        await foreground.give_way()  # no wait any more while the same command goes on
        assert foreground.waits == 1
    assert not foreground.busy


async def test_a_worker_thread_waits_while_a_command_is_in_flight() -> None:
    foreground = Foreground(max_wait=5, max_hold=5)
    passed = threading.Event()

    def work() -> None:
        foreground.give_way_in_thread()
        passed.set()

    with foreground.command():
        thread = asyncio.create_task(asyncio.to_thread(work))
        await asyncio.sleep(0.2)
        assert not passed.is_set()
    await asyncio.wait_for(thread, 2)
    assert passed.is_set()
    assert foreground.waits == 1


@pytest.fixture
async def gated_engine(database_url: str, engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A second engine on the migrated test database, as the syncs' engine is."""
    gated = create_engine(database_url)
    yield gated
    await gated.dispose()


async def test_statements_wait_for_a_command_but_not_inside_a_write(
    gated_engine: AsyncEngine,
) -> None:
    foreground = Foreground(max_wait=5, max_hold=5)
    give_way_before_statements(gated_engine, foreground)
    sessions = session_factory(gated_engine)

    async def read() -> None:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))

    with foreground.command():
        reading = asyncio.create_task(read())
        await asyncio.sleep(0.3)
        assert not reading.done()
    await asyncio.wait_for(reading, 2)

    # A transaction that has written holds locks (SQLite: the database's write lock): a
    # command that writes would wait for the pause, so its statements go on at once.
    async with sessions() as session:
        session.add(Lease(name="x", holder="h", expires_at=datetime(2026, 12, 3, tzinfo=UTC)))
        await session.flush()
        with foreground.command():
            started = time.monotonic()
            await session.execute(update(Lease).values(holder="h2"))
            await session.execute(select(Lease.holder))
            assert time.monotonic() - started < 2
        await session.commit()
    # ...and once it has ended, the next transaction gives way again.
    with foreground.command():
        reading = asyncio.create_task(read())
        await asyncio.sleep(0.3)
        assert not reading.done()
    await asyncio.wait_for(reading, 2)


async def test_a_statement_cancelled_while_giving_way_leaves_the_engine_usable(
    gated_engine: AsyncEngine,
) -> None:
    """A sync cancelled mid-wait (its lease renewal at the end of a sync) breaks nothing."""
    foreground = Foreground(max_wait=5, max_hold=5)
    give_way_before_statements(gated_engine, foreground)
    sessions = session_factory(gated_engine)

    async def read() -> int | None:
        async with sessions() as session:
            return await session.scalar(text("SELECT 1"))

    with foreground.command():
        reading = asyncio.create_task(read())
        await asyncio.sleep(0.2)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
    assert await asyncio.wait_for(read(), 5) == 1
