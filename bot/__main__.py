"""`python -m bot` runs the bot (long polling, or a webhook when WEBHOOK_URL is set);
`python -m bot webhook` serves Telegram's updates over HTTP on $PORT;
`python -m bot migrate` upgrades the schema;
`python -m bot rotate-keys` re-encrypts the stored WB keys under the newest ENCRYPTION_KEYS key."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from core.settings import Settings
from core.vault import VaultError


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # aiohttp's access/client logs could carry URLs; keep them quiet.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


async def _run(settings: Settings, *, webhook: bool = False) -> int:
    from aiogram.exceptions import TelegramUnauthorizedError

    from bot.app import create_app
    from bot.lifecycle import serve
    from core.runtime import tune_garbage_collector

    app = await create_app(settings)
    tune_garbage_collector()  # after start-up: what lives now lives as long as the process
    try:
        await serve(app, webhook=webhook)  # until SIGTERM/SIGINT, then a graceful shutdown
    except TelegramUnauthorizedError:
        # Already logged with what to do; retrying a refused token cannot help.
        return 4
    logging.getLogger(__name__).info("stopped")
    return 0


async def _migrate(settings: Settings) -> None:
    from storage import migrate
    from storage.db import create_engine

    engine = create_engine(settings.database_url)
    await migrate.upgrade(engine)
    await engine.dispose()


async def _rotate_keys(settings: Settings) -> int:
    """Re-encrypt every stored WB key under the newest of ENCRYPTION_KEYS; prints the counts."""
    from core.key_rotation import rotate_keys
    from core.vault import KeyVault, parse_keys
    from storage.db import create_engine, session_factory

    raw = settings.encryption_keys.get_secret_value() if settings.encryption_keys else ""
    if not parse_keys(raw):
        logging.getLogger(__name__).error(
            "ENCRYPTION_KEYS is not set: list the new key first, then the old ones"
        )
        return 2
    engine = create_engine(settings.database_url)
    try:
        report = await rotate_keys(session_factory(engine), KeyVault(parse_keys(raw)))
    finally:
        await engine.dispose()
    print(
        f"Re-encrypted {report.rotated} of {report.total} stored WB keys under the newest key "
        f"({report.already_current} already were). The old keys can now be removed "
        "from ENCRYPTION_KEYS."
    )
    return 0


def webhook_problem(settings: Settings) -> str | None:
    from bot.webhook import WebhookConfigError, webhook_config

    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    try:
        webhook_config(settings.webhook_url, secret)
    except WebhookConfigError as exc:
        return str(exc)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "command", nargs="?", default="run", choices=["run", "migrate", "rotate-keys", "webhook"]
    )
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        if args.command == "migrate":
            asyncio.run(_migrate(settings))
        elif args.command == "rotate-keys":
            return asyncio.run(_rotate_keys(settings))
        else:
            if not settings.bot_token.get_secret_value():
                logging.getLogger(__name__).error("BOT_TOKEN is not set")
                return 2
            # `webhook`, or `run` with WEBHOOK_URL set, serves updates over HTTP on $PORT.
            webhook = args.command == "webhook" or bool(settings.webhook_url)
            if webhook and (problem := webhook_problem(settings)):
                logging.getLogger(__name__).error("%s", problem)
                return 2
            return asyncio.run(_run(settings, webhook=webhook))
    except VaultError as exc:
        logging.getLogger(__name__).error("%s", exc)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
