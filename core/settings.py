"""Settings from the environment (and a `.env` file); names are the interface contract."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/stock_tracker.db"


def normalize_database_url(url: str) -> str:
    """Map the URLs hosts hand out (`postgres://`, `postgresql://`) to the async drivers."""
    for prefix in (
        "postgres://",
        "postgresql://",
        "postgresql+psycopg://",
        "postgresql+psycopg2://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


class Settings(BaseSettings):
    """Everything the process reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    bot_token: SecretStr = SecretStr("")
    database_url: str = DEFAULT_DATABASE_URL
    encryption_keys: SecretStr | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    telegram_api_url: str | None = None
    wb_api_url: str | None = None
    sheets_api_url: str | None = None
    google_service_account_file: str | None = None
    # First pause before retrying a 429/5xx from Google (doubles each try, 3 tries in all).
    sheets_retry_delay_seconds: float = 2.0
    default_timezone: str = "Europe/Moscow"
    sync_log_retention_days: int = 30
    low_stock_threshold_days: int = 7
    orders_window_days: int = 7
    # A Base key's remains report may take ~30 min; the sync waits at most this long in one go.
    wb_max_wait_seconds: float = 65.0
    wb_rate_limits: bool = True
    wb_retry_backoff_seconds: float = 1.0
    # A statistics page holds up to ~80,000 rows; a shorter page is taken as the last one.
    wb_orders_page_rows: int = 80_000
    port: int = 8080
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    log_level: str = "INFO"
    drop_pending_updates: bool = False
    # On SIGTERM, running syncs get this long to finish before they are recorded as interrupted.
    shutdown_grace_seconds: float = 20.0
    # Syncs that do WB and database work at once; more queue (the seller sees their place).
    # Each is CPU- and write-heavy: beyond a few, every chat's replies slow down (performance.md).
    max_concurrent_syncs: int = Field(default=4, ge=1)
    # Telegram 429 flood control: wait what Telegram asks (at most this long), this many times.
    telegram_retry_attempts: int = 3
    telegram_max_retry_after: float = 60.0
    # Per-user throttling (0 turns a limit off): one /sync per this many seconds for a connected
    # shop, and at most `throttle_messages` messages per `throttle_window_seconds`.
    throttle_sync_seconds: float = 60.0
    throttle_messages: int = 20
    throttle_window_seconds: float = 10.0
    key_file: str | None = Field(default=None, description="where the embedded default key lives")

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(
                int(part) for part in value.replace(";", ",").split(",") if part.strip()
            )
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("database_url", mode="after")
    @classmethod
    def _normalize_url(cls, value: str) -> str:
        return normalize_database_url(value)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or None for PostgreSQL or an in-memory database."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        if not path or path == ":memory:":
            return None
        return Path(path)

    def default_key_file(self) -> Path:
        """Where the embedded default encryption key is kept when ENCRYPTION_KEYS is unset."""
        if self.key_file:
            return Path(self.key_file)
        db = self.sqlite_path()
        return (db.parent if db else Path("data")) / "encryption.key"
