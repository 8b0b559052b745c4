"""A sync's lease heartbeat: a failed renewal (a busy database) is retried soon."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from core import sync


async def test_a_failed_renewal_is_retried_before_the_next_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Renewals every 0.4 s (TTL / 3), a retry 0.05 s after a failure.
    monkeypatch.setattr(sync, "SYNC_LEASE_TTL", timedelta(seconds=1.2))
    monkeypatch.setattr(sync, "SYNC_LEASE_RETRY_SECONDS", 0.05)
    calls: list[float] = []
    started = time.monotonic()

    async def acquire(*args: Any, **kwargs: Any) -> bool:
        calls.append(time.monotonic() - started)
        if len(calls) == 1:
            raise OperationalError("UPDATE leases", {}, Exception("database is locked"))
        return True

    monkeypatch.setattr(sync.leases, "acquire", acquire)
    service: Any = SimpleNamespace(_sessions=None, holder="me")
    heartbeat = asyncio.create_task(sync.SyncService._keep_lease(service, 7))
    await asyncio.sleep(0.65)
    heartbeat.cancel()
    with pytest.raises(asyncio.CancelledError):
        await heartbeat
    # Failed at ~0.4 s, renewed at ~0.45 s; before, the second try came at ~0.8 s.
    assert len(calls) == 2, calls
    assert calls[1] - calls[0] < 0.2
