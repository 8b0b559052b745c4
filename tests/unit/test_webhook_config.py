"""Webhook settings are checked before anything starts; the CLI says what to fix."""

from __future__ import annotations

import pytest

from bot.__main__ import main
from bot.health import database_round_trip
from bot.webhook import WebhookConfigError, webhook_config
from storage.db import create_engine


def test_the_path_telegram_posts_to_is_the_urls_path() -> None:
    config = webhook_config("https://bot.example.com/tg/hook", "abc_DEF-123")
    assert (config.url, config.path, config.secret) == (
        "https://bot.example.com/tg/hook",
        "/tg/hook",
        "abc_DEF-123",
    )
    assert webhook_config("https://bot.example.com", "s").path == "/webhook"


def test_without_a_secret_a_fresh_random_one_is_made() -> None:
    first = webhook_config("https://bot.example.com/x", None).secret
    second = webhook_config("https://bot.example.com/x", None).secret
    assert first != second and len(first) >= 32


@pytest.mark.parametrize(
    ("url", "secret", "problem"),
    [
        (None, None, "WEBHOOK_URL is not set"),
        ("http://bot.example.com/x", None, "https://"),
        ("bot.example.com/x", None, "https://"),
        ("https://bot.example.com/x", "has spaces", "WEBHOOK_SECRET"),
        ("https://bot.example.com/x", "x" * 257, "WEBHOOK_SECRET"),
    ],
)
def test_unusable_settings_are_refused_with_a_reason(
    url: str | None, secret: str | None, problem: str
) -> None:
    with pytest.raises(WebhookConfigError, match=problem):
        webhook_config(url, secret)


def test_cli_webhook_mode_without_a_url_exits_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir("/")  # no .env file here
    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    monkeypatch.delenv("WEBHOOK_URL", raising=False)
    assert main(["webhook"]) == 2
    assert "WEBHOOK_URL is not set" in caplog.text
    monkeypatch.setenv("WEBHOOK_URL", "http://insecure.example.com/hook")
    assert main(["run"]) == 2  # WEBHOOK_URL set: `run` serves a webhook too, so it is checked
    assert "https://" in caplog.text


async def test_an_unreachable_database_fails_the_round_trip() -> None:
    engine = create_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        assert await database_round_trip(engine) is None
    finally:
        await engine.dispose()
