"""Scenario 3: many sellers with schedules in one process: start-up, idle RSS, idle CPU.

`prepare` (not timed) upgrades the schema and inserts the tenants, each with a key and a cron
of its own choosing in one of several time zones; no cron fires within the next hour, so the
idle window is really idle. `start` is a fresh process doing what the bot does at start-up
(bot.app.create_app, then the background part of run_polling: the scheduler lease, the job
store, reconciling every tenant's job from the tenants table, maintenance jobs, recovery)
and then sits idle while its CPU time is measured. Run it twice: the first start writes every
job; a restart finds them all in place.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from benchmarks.support import Result, current_rss_mb, make_settings, peak_rss_mb
from core.vault import KeyVault
from storage import migrate
from storage.db import create_engine
from storage.models import Tenant
from tests.fakes.wb import make_token

STARTUP_GOAL_S = 10.0
IDLE_RSS_GOAL_MB = 250.0
ZONES = ("Europe/Moscow", "Asia/Yekaterinburg", "Europe/Samara", "Asia/Novosibirsk", "UTC")
_ROWS_PER_INSERT = 1000


def _cron(i: int, local_now: datetime) -> str:
    """A seller's daily or weekday schedule, at least an hour away from `local_now`."""
    hour = (local_now.hour + 2 + i % 20) % 24
    minute = (i * 7) % 60
    kind = i % 4
    if kind == 0:
        return f"{minute} {hour} * * *"
    if kind == 1:
        return f"{minute} {hour},{(hour + 12) % 24} * * *"
    if kind == 2:
        return f"{minute} {hour} * * 1-5"
    return f"0 {hour} * * *"


async def prepare(params: dict[str, Any]) -> Result:
    count = int(params["tenants"])
    result = Result("scale_prepare", params["backend"])
    started = time.perf_counter()
    engine = create_engine(params["database_url"])
    await migrate.upgrade(engine)
    vault = KeyVault([params["encryption_key"]])
    now = datetime.now(UTC)
    # One encrypted key for all: Fernet output differs per call, which is not measured here.
    key = vault.encrypt(make_token(token_type=3))
    rows = []
    for i in range(count):
        zone = ZONES[i % len(ZONES)]
        rows.append(
            {
                "chat_id": 1_000_000 + i,
                "user_id": 1_000_000 + i,
                "user_name": f"seller {i}",
                "language": "ru",
                "timezone": zone,
                "wb_key_encrypted": key,
                "key_fingerprint": f"{i:016x}",
                "token_type": 3,
                "token_categories": (1 << 1) | (1 << 2) | (1 << 4) | (1 << 5) | (1 << 30),
                "key_read_only": True,
                "key_added_at": now,
                "is_active": True,
                "is_paused": False,
                "schedule_cron": _cron(i, now.astimezone(ZoneInfo(zone))),
                "low_stock_threshold": 7,
                "created_at": now,
                "updated_at": now,
            }
        )
    async with engine.begin() as conn:
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            await conn.execute(insert(Tenant), rows[start : start + _ROWS_PER_INSERT])
    await engine.dispose()
    result.add("tenants inserted", count)
    result.add("prepare time (not a goal)", round(time.perf_counter() - started, 2), "s")
    return result


async def start(params: dict[str, Any]) -> Result:
    """Start as the bot does, then idle; params: database_url, encryption_key, idle_seconds."""
    importing = time.perf_counter()
    from bot.app import create_app  # imported here so its import time is measured too
    from core.runtime import tune_garbage_collector

    imported = time.perf_counter() - importing
    label: str = params["label"]
    result = Result(f"scale_{label}", params["backend"])
    settings = make_settings(
        params["database_url"],
        "http://127.0.0.1:9",  # never called: nothing syncs while idle
        params["encryption_key"],
        telegram_api_url="http://127.0.0.1:9",
        key_file=None,
    )
    started = time.perf_counter()
    app = await create_app(settings)
    tune_garbage_collector()  # as `python -m bot` does after create_app
    created = time.perf_counter()
    assert app.background is not None
    await app.background.start()
    ready = time.perf_counter()
    try:
        if not app.background.leader:
            raise RuntimeError("the scheduler lease is held by another process")
        scheduler = app.background.scheduler
        jobs = len(scheduler.get_jobs())
        async with app.sessions() as session:
            tenants = await session.scalar(select(func.count()).select_from(Tenant))
        next_runs = [job.next_run_time for job in scheduler.get_jobs() if job.next_run_time]
        soonest = min(next_runs) if next_runs else None
        idle_seconds = float(params["idle_seconds"])
        rss_start = current_rss_mb()
        cpu = time.process_time()
        wall = time.perf_counter()
        await asyncio.sleep(idle_seconds)
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        rss_idle = current_rss_mb()
    finally:
        await app.close()
    startup = ready - started
    per_minute = cpu / wall * 60
    result.add(
        "start-up (create_app + scheduler)",
        round(startup, 2),
        "s",
        goal=f"< {STARTUP_GOAL_S:.0f} s",
        ok=startup < STARTUP_GOAL_S,
    )
    result.add("  of which create_app", round(created - started, 2), "s")
    result.add("  of which scheduler start + reconcile", round(ready - created, 2), "s")
    result.add(
        "importing the bot's modules",
        round(imported, 2),
        "s",
        note="before start-up; mostly aiogram's types",
    )
    result.add(
        "idle RSS",
        round(rss_idle, 1),
        "MB",
        goal=f"< {IDLE_RSS_GOAL_MB:.0f} MB",
        ok=rss_idle < IDLE_RSS_GOAL_MB,
    )
    result.add("peak RSS", round(peak_rss_mb(), 1), "MB")
    result.add(
        "scheduler CPU per idle minute",
        round(per_minute, 3),
        "s CPU/min",
        note=f"measured over {wall:.0f} s and scaled to a minute",
    )
    result.add("jobs in the store", jobs, note=f"{tenants} tenants")
    result.details = {
        "import_bot_app_s": round(imported, 2),
        "rss_after_start_mb": round(rss_start, 1),
        "idle_window_s": round(wall, 1),
        "idle_cpu_s": round(cpu, 3),
        "soonest_job": soonest.isoformat() if soonest else None,
    }
    return result
