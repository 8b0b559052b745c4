"""Settings: the DATABASE_URL forms hosts hand out are mapped to the async drivers."""

from __future__ import annotations

import pytest

from core.settings import DEFAULT_DATABASE_URL, Settings, normalize_database_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgres://user:pw@db.example.com:5432/app",
            "postgresql+asyncpg://user:pw@db.example.com:5432/app",
        ),
        (
            "postgresql://user:pw@db.example.com/app?sslmode=require",
            "postgresql+asyncpg://user:pw@db.example.com/app?sslmode=require",
        ),
        ("postgresql+psycopg://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("postgresql+psycopg2://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("sqlite:///data/x.db", "sqlite+aiosqlite:///data/x.db"),
        ("sqlite+aiosqlite:///data/x.db", "sqlite+aiosqlite:///data/x.db"),
    ],
)
def test_database_url_is_normalized_to_the_async_driver(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def test_settings_normalize_a_heroku_style_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@ec2.example.com:5432/d1")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "postgresql+asyncpg://u:p@ec2.example.com:5432/d1"
    assert not settings.is_sqlite


def test_default_database_is_a_local_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert str(settings.sqlite_path()) == "data/stock_tracker.db"


def test_shutdown_grace_and_port_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHUTDOWN_GRACE_SECONDS", "7.5")
    monkeypatch.setenv("PORT", "5001")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.shutdown_grace_seconds == 7.5
    assert settings.port == 5001
