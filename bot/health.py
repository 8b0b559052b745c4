"""Is the process alive and useful: uptime, the last update seen, a database round trip."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from importlib import metadata
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.types import TelegramObject
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.clock import utcnow
from storage.db import backend_name

if TYPE_CHECKING:
    from bot.app import App

DATABASE_TIMEOUT_SECONDS = 5.0
PACKAGE = "wb-stock-tracker"


class UpdateClock(BaseMiddleware):
    """Remembers when the process started and when it last received an update, and counts
    the updates being handled now (a shutdown lets them finish before closing the session)."""

    def __init__(self) -> None:
        self.started_at: datetime = utcnow()
        self._started = time.monotonic()
        self.last_update_at: datetime | None = None
        self.in_flight = 0

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self._started

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self.last_update_at = utcnow()
        self.in_flight += 1
        try:
            return await handler(event, data)
        finally:
            self.in_flight -= 1


def install_update_clock(dp: Dispatcher) -> UpdateClock:
    """Count every update the dispatcher gets (polling or webhook alike)."""
    clock = UpdateClock()
    dp.update.outer_middleware(clock)
    dp.workflow_data["update_clock"] = clock
    return clock


def update_clock(dp: Dispatcher) -> UpdateClock | None:
    clock = dp.workflow_data.get("update_clock")
    return clock if isinstance(clock, UpdateClock) else None


def version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


async def database_round_trip(engine: AsyncEngine) -> float | None:
    """Milliseconds for SELECT 1, or None when the database does not answer in time."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return None
    return round((time.monotonic() - started) * 1000, 1)


async def health(app: App) -> tuple[bool, dict[str, Any]]:
    """(healthy, report) for GET /healthz; healthy needs the database and, if any, the scheduler.

    The report holds no seller data: the endpoint is public.
    """
    database_ms = await database_round_trip(app.engine)
    scheduler = app.scheduler
    scheduler_running = None if scheduler is None else bool(scheduler.running)
    clock = update_clock(app.dispatcher)
    last_update = clock.last_update_at if clock else None
    healthy = database_ms is not None and scheduler_running is not False
    return healthy, {
        "status": "ok" if healthy else "unhealthy",
        "database": {
            "ok": database_ms is not None,
            "backend": backend_name(app.engine),
            "round_trip_ms": database_ms,
        },
        "scheduler": {"running": scheduler_running},
        "last_update_at": last_update.isoformat() if last_update else None,
        "uptime_seconds": round(clock.uptime_seconds) if clock else None,
        "syncs_running": app.syncs.running_count,
        "version": version(),
    }
