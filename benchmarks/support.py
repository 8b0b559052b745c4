"""What the scenarios share: the WB fake's process, databases, settings, tenants, measuring."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import psycopg
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from benchmarks import fake_process
from core.notifier import ChatRef, ProgressState, Trigger
from core.settings import Settings
from core.vault import KeyVault
from storage.models import Tenant
from tests.fakes.wb import make_token

BOT_TOKEN = "123456:BENCH-token-for-the-fake"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgres")


# -- measuring ---------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """This process's resident set now."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0..100), nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Metric:
    """One figure: value, unit, and the goal it is held against (if any)."""

    value: float | int | str | None
    unit: str = ""
    goal: str = ""
    ok: bool | None = None  # None: no goal, or not applicable
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "goal": self.goal,
            "ok": self.ok,
            "note": self.note,
        }


@dataclass
class Result:
    scenario: str
    backend: str
    metrics: dict[str, Metric] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: float | int | str | None, unit: str = "", **kw: Any) -> None:
        self.metrics[name] = Metric(value, unit, **kw)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "backend": self.backend,
            "metrics": {name: m.as_dict() for name, m in self.metrics.items()},
            "details": self.details,
        }


# -- the WB fake's process -----------------------------------------------------------------


@dataclass
class WBServer:
    """A running `benchmarks.wb_server` process."""

    process: subprocess.Popen[bytes]
    url: str
    control: str
    sellers: list[dict[str, Any]]

    def stop(self) -> None:
        fake_process.stop(self.process)


@dataclass
class TelegramServer:
    """A running `benchmarks.telegram_server` process (the Telegram fake, the /status stream)."""

    process: subprocess.Popen[bytes]
    url: str
    control: str

    def stop(self) -> None:
        fake_process.stop(self.process)


@contextlib.contextmanager
def telegram_server() -> Iterator[TelegramServer]:
    process, info = fake_process.start("benchmarks.telegram_server", BOT_TOKEN, "Telegram fake")
    server = TelegramServer(process, info["url"], info["control"])
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def wb_server(
    seeds: list[int], shape: dict[str, Any], now: datetime, orders_page_rows: int
) -> Iterator[WBServer]:
    config = {
        "seeds": seeds,
        "shape": shape,
        "now": now.isoformat(),
        "orders_page_rows": orders_page_rows,
    }
    process, info = fake_process.start(
        "benchmarks.wb_server", orjson.dumps(config).decode(), "WB fake"
    )
    server = WBServer(process, info["url"], info["control"], info["sellers"])
    try:
        yield server
    finally:
        server.stop()


async def control_get(
    http: aiohttp.ClientSession, control: str, path: str, **query: str
) -> dict[str, Any]:
    async with http.get(f"{control}{path}", params=query) as response:
        response.raise_for_status()
        body: dict[str, Any] = orjson.loads(await response.read())
        return body


# -- databases -----------------------------------------------------------------------------


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """An empty database: a SQLite file in `workdir`, or a PostgreSQL database (dropped after)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"stock_tracker_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    admin = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"postgresql+asyncpg://{admin.split('://', 1)[1]}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="stock-tracker-bench-") as path:
        yield Path(path)


def make_settings(
    database_url: str, wb_url: str, encryption_key: str, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "database_url": database_url,
        "encryption_keys": encryption_key,
        "wb_api_url": wb_url,
        "wb_rate_limits": False,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def new_encryption_key() -> str:
    return Fernet.generate_key().decode()


async def add_tenant(
    sessions: async_sessionmaker[AsyncSession],
    vault: KeyVault,
    *,
    chat_id: int,
    seller_id: str | None,
    token_type: int = 3,
) -> int:
    """A seller with a Personal key (or no key), as onboarding leaves it; returns its id."""
    async with sessions() as session, session.begin():
        tenant = Tenant(chat_id=chat_id, user_id=chat_id, user_name=f"bench {chat_id}")
        if seller_id is not None:
            tenant.wb_key_encrypted = vault.encrypt(
                make_token(token_type=token_type, seller_id=seller_id)
            )
            tenant.key_fingerprint = uuid.uuid4().hex[:16]
            tenant.token_type = token_type
            tenant.token_categories = (1 << 1) | (1 << 2) | (1 << 4) | (1 << 5) | (1 << 30)
            tenant.key_read_only = True
        session.add(tenant)
    return int(tenant.id)


# -- a notifier that only notes when each step starts ---------------------------------------


class StepClock:
    """A Notifier that sends nothing and notes when each sync step began (monotonic)."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.steps: dict[str, float] = {}
        self.finished: float | None = None
        # (step, current RSS, peak RSS so far) when each step began, and at the end
        self.memory: list[tuple[str, float, float]] = []

    async def sync_started(self, chat: ChatRef, trigger: Trigger) -> int | None:
        self.started = time.monotonic()
        return 1

    async def sync_progress(
        self, chat: ChatRef, message_id: int | None, progress: ProgressState
    ) -> None:
        if progress.current is not None and str(progress.current) not in self.steps:
            self.steps[str(progress.current)] = time.monotonic()
            self.memory.append((str(progress.current), current_rss_mb(), peak_rss_mb()))

    async def sync_finished(self, chat: ChatRef, message_id: int | None, *args: Any) -> None:
        self.finished = time.monotonic()
        self.memory.append(("finished", current_rss_mb(), peak_rss_mb()))

    def __getattr__(self, name: str) -> Any:
        # Any other Notifier call (failures, alerts, ...) is accepted and ignored.
        async def ignore(*args: Any, **kwargs: Any) -> None:
            return None

        return ignore

    def phases(self) -> dict[str, float]:
        """Seconds spent in each step, up to the final message (report = build + store)."""
        marks = sorted(self.steps.items(), key=lambda item: item[1])
        ends = [at for _, at in marks[1:]] + [self.finished or time.monotonic()]
        return {name: round(end - at, 3) for (name, at), end in zip(marks, ends, strict=True)}


@contextlib.asynccontextmanager
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http
