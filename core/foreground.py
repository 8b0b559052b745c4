"""Chat commands come first: background syncs give way while a command is being answered.

The process does everything on one event loop and one GIL. While several sellers' syncs run,
every step of a command (each database round trip, the reply) waits behind whatever the syncs
put on the loop, and for the GIL behind their worker threads. Syncs therefore give way before
each database statement (an engine event, see `give_way_before_statements`) and between
slices of a large WB response (`give_way_in_thread`): while a command is in flight they wait
until it is answered. Each wait lasts at most `max_wait`, and a command holds syncs back for
at most `max_hold` (an /export or a slow reply must not stall them), so a steady stream of
commands slows syncs down but never stops them.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_

# Long enough for a command's few round trips, short enough that a chat that never stops
# talking costs a sync at most this much per statement.
MAX_WAIT_SECONDS = 0.25
# A command answered within this time had the process to itself; after it, syncs go on.
MAX_HOLD_SECONDS = 1.0


class Foreground:
    """Counts the commands being handled; background work waits while there are any."""

    def __init__(
        self, max_wait: float = MAX_WAIT_SECONDS, max_hold: float = MAX_HOLD_SECONDS
    ) -> None:
        self.max_wait = max_wait
        self.max_hold = max_hold
        self._count = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._quiet_for_threads = threading.Event()
        self._quiet_for_threads.set()
        self._stats_lock = threading.Lock()
        self.waits = 0  # how often background work gave way, and for how long in all
        self.waited_seconds = 0.0

    @property
    def busy(self) -> bool:
        return self._count > 0

    @contextmanager
    def command(self) -> Iterator[None]:
        """Around the handling of one update (on the event loop)."""
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self._count -= 1
                if self._count == 0:
                    self._quiet.set()
                    self._quiet_for_threads.set()

        self._count += 1
        if self._count == 1:
            self._quiet.clear()
            self._quiet_for_threads.clear()
        timer = asyncio.get_running_loop().call_later(self.max_hold, release)
        try:
            yield
        finally:
            timer.cancel()
            release()

    async def give_way(self) -> None:
        """On the event loop: wait while a command is in flight (at most `max_wait`)."""
        if not self._count:
            return
        started = time.monotonic()
        with suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), self.max_wait)
        self._note(started)

    def give_way_in_thread(self) -> None:
        """In a worker thread: the same, blocking the thread (so it leaves the GIL alone)."""
        if not self._quiet_for_threads.is_set():
            started = time.monotonic()
            self._quiet_for_threads.wait(self.max_wait)
            self._note(started)

    def _note(self, started: float) -> None:
        with self._stats_lock:
            self.waits += 1
            self.waited_seconds += time.monotonic() - started


def give_way_before_statements(engine: AsyncEngine, foreground: Foreground) -> None:
    """Statements on `engine` (the syncs' own) first give way to commands in flight.

    Not inside a transaction that has written: its locks (on SQLite the whole database's write
    lock) would then make a command that writes wait for the pause, the opposite of the point.
    The listener runs inside SQLAlchemy's greenlet, where `await_` can wait on the loop.
    """

    # Connections whose open transaction has written; held weakly, keyed by the object (its
    # `info` cannot be read once a cancelled statement has invalidated it).
    wrote: weakref.WeakSet[Connection] = weakref.WeakSet()

    def before_cursor_execute(
        conn: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        if conn in wrote:
            return
        if foreground.busy:
            await_(foreground.give_way())
        if statement.lstrip()[:6].upper() in _WRITES:
            wrote.add(conn)

    def transaction_ended(conn: Connection) -> None:
        wrote.discard(conn)

    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", before_cursor_execute)
    event.listen(sync_engine, "commit", transaction_ended)
    event.listen(sync_engine, "rollback", transaction_ended)


_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLAC", "UPSERT"})
