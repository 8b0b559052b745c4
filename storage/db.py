"""Engine and session factory; SQLite gets WAL and a busy timeout so readers never block."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, ScalarResult, Select, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15_000
# An inline read that finds the database locked gives up after this long (see inline_reader).
INLINE_READ_BUSY_TIMEOUT_MS = 50

_T = TypeVar("_T")


def _sqlite_file(url: str) -> Path | None:
    if ":///" not in url:
        return None
    path = url.split(":///", 1)[1].split("?", 1)[0]
    return None if not path or path == ":memory:" else Path(path)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`; creates the SQLite file's folder when needed."""
    if url.startswith("sqlite"):
        file = _sqlite_file(url)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def backend_name(engine: AsyncEngine) -> str:
    return "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"


def inline_reader(url: str) -> Engine | None:
    """SQLite only: a synchronous, read-only engine for short indexed reads on the event loop.

    Through aiosqlite a query is four or five hand-overs between the loop and the connection's
    thread, and under load each waits for the GIL behind the syncs' work; a lookup by an
    indexed key takes ~0.1 ms done in place. In WAL mode a reader never waits for a writer, so
    such a read cannot stall the loop; should the database be locked anyway (not in WAL mode),
    it gives up after INLINE_READ_BUSY_TIMEOUT_MS and the caller reads the usual way. The
    connections refuse writes (`query_only`). None for other databases: their reads are
    network round trips.
    """
    file = _sqlite_file(url) if url.startswith("sqlite") else None
    if file is None:
        return None
    engine = create_sync_engine(
        f"sqlite:///{file}",
        connect_args={"timeout": INLINE_READ_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={INLINE_READ_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return engine


def quick_read_engine(url: str) -> AsyncEngine | None:
    """PostgreSQL only: an engine for chat commands' single-statement reads, in autocommit and
    without pre-ping.

    Through the app's engine such a read is six round trips to the server: a pre-ping (itself
    BEGIN, a ping, ROLLBACK), BEGIN, the SELECT, ROLLBACK; under load each waits for the server
    and for the event loop. Here it is the SELECT alone. A connection that died meanwhile (the
    server restarted) fails the read, and QuickReads reads again the usual, pre-pinged way.
    """
    if not url.startswith("postgresql"):
        return None
    return create_async_engine(
        url, pool_pre_ping=False, isolation_level="AUTOCOMMIT", pool_size=5, max_overflow=10
    )


class QuickReads:
    """Short indexed reads of chat commands: in place on SQLite (see inline_reader), one round
    trip on PostgreSQL (see quick_read_engine), and the usual way when either fails."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        inline: Engine | None = None,
        quick: AsyncEngine | None = None,
    ) -> None:
        self._sessions = sessions
        self._inline = sessionmaker(inline, expire_on_commit=False) if inline else None
        self._quick = session_factory(quick) if quick else None

    async def scalar(self, statement: Select[Any]) -> Any:
        """The first column of the first row, or None."""
        return await self._read(statement, ScalarResult.first)

    async def scalars(self, statement: Select[Any]) -> list[Any]:
        """The first column of every row."""
        return await self._read(statement, list)

    async def _read(self, statement: Select[Any], take: Callable[[ScalarResult[Any]], _T]) -> _T:
        if self._inline is not None:
            try:
                with self._inline() as session:
                    return take(session.scalars(statement))
            except OperationalError:
                pass  # locked (not in WAL mode?): the usual way
        elif self._quick is not None:
            try:
                async with self._quick() as session:
                    return take(await session.scalars(statement))
            except DBAPIError:
                pass  # e.g. a connection the server closed: the usual, pre-pinged way
        async with self._sessions() as session:
            return take(await session.scalars(statement))
