"""Leases in the database, so two processes on one database never do the same work twice."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utcnow
from storage.models import Lease

SCHEDULER_LEASE = "scheduler"


def process_id() -> str:
    """Who holds a lease: host, pid and a random part (pids repeat across restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def acquire(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    holder: str,
    ttl: timedelta,
    now: datetime | None = None,
) -> bool:
    """Take (or renew) the lease; False while another holder's lease is unexpired."""
    now = now or utcnow()
    expires = now + ttl
    async with sessions() as session:
        # The conditional UPDATE is atomic on both backends: only one process can win it.
        result = await session.execute(
            update(Lease)
            .where(Lease.name == name, (Lease.holder == holder) | (Lease.expires_at < now))
            .values(holder=holder, expires_at=expires)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            await session.commit()
            return True
        current = await session.get(Lease, name)
        if current is not None:
            if not holder_is_dead(current.holder):
                return False
            # Its holder died on this host (a crash or SIGKILL): no need to wait for expiry.
            result = await session.execute(
                update(Lease)
                .where(Lease.name == name, Lease.holder == current.holder)
                .values(holder=holder, expires_at=expires)
            )
            await session.commit()
            return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]
        session.add(Lease(name=name, holder=holder, expires_at=expires))
        try:
            await session.commit()
        except IntegrityError:
            return False  # another process inserted it first
        return True


def holder_is_dead(holder: str) -> bool:
    """True only for a holder on this host whose process no longer exists."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def release(sessions: async_sessionmaker[AsyncSession], name: str, holder: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
