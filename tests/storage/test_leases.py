"""Leases: one holder at a time, renewable by its holder, taken over once expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import leases

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=60)


async def test_one_holder_at_a_time(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await leases.acquire(sessions, "scheduler", "a", TTL, NOW)
    assert not await leases.acquire(sessions, "scheduler", "b", TTL, NOW + timedelta(seconds=30))
    # The holder renews; the other still cannot take it.
    assert await leases.acquire(sessions, "scheduler", "a", TTL, NOW + timedelta(seconds=50))
    assert not await leases.acquire(sessions, "scheduler", "b", TTL, NOW + timedelta(seconds=100))
    # Once the holder stops renewing, the lease expires and another may take it.
    assert await leases.acquire(sessions, "scheduler", "b", TTL, NOW + timedelta(seconds=111))
    assert not await leases.acquire(sessions, "scheduler", "a", TTL, NOW + timedelta(seconds=112))


async def test_release_frees_the_lease(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await leases.acquire(sessions, "sync:1", "a", TTL, NOW)
    await leases.release(sessions, "sync:1", "b")  # not the holder: nothing happens
    assert not await leases.acquire(sessions, "sync:1", "b", TTL, NOW)
    await leases.release(sessions, "sync:1", "a")
    assert await leases.acquire(sessions, "sync:1", "b", TTL, NOW)
    assert await leases.acquire(sessions, "sync:2", "a", TTL, NOW)  # names are independent
