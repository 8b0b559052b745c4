"""Shared fixtures: a real database (SQLite file or PostgreSQL) per test.

`TEST_DATABASE=postgres` runs the suite against the server on 127.0.0.1:5432 (a database of
its own per run, a fresh schema per test); the default is a SQLite file per test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import bot  # noqa: F401  (aiogram imported as the bot imports it: bot.lean_aiogram)
from storage import migrate
from storage.db import create_engine, session_factory

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKEND = os.environ.get("TEST_DATABASE", "sqlite")


def pytest_report_header() -> str:
    return f"database backend: {BACKEND}"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """A PostgreSQL database for this run (dropped at the end), or None on SQLite."""
    if BACKEND != "postgres":
        yield None
        return
    name = f"stock_tracker_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(tmp_path: Path, pg_database: str | None) -> str:
    """An empty database for one test."""
    if pg_database is None:
        return f"sqlite+aiosqlite:///{tmp_path / 'stock_tracker.db'}"
    admin = PG_ADMIN_URL.rsplit("/", 1)[0]
    with psycopg.connect(f"{admin}/{pg_database}", autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return f"postgresql+asyncpg://{admin.split('://', 1)[1]}/{pg_database}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)
