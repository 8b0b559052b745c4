"""`python -m bot` runs the bot (long polling); `python -m bot migrate` upgrades the schema."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
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


async def _run(settings: Settings) -> None:
    from bot.app import create_app, run_polling

    app = await create_app(settings)
    polling = asyncio.create_task(run_polling(app))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, polling.cancel)
    try:
        await polling
    except asyncio.CancelledError:
        logging.getLogger(__name__).info("stopped")


async def _migrate(settings: Settings) -> None:
    from storage import migrate
    from storage.db import create_engine

    engine = create_engine(settings.database_url)
    await migrate.upgrade(engine)
    await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("command", nargs="?", default="run", choices=["run", "migrate"])
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        if args.command == "migrate":
            asyncio.run(_migrate(settings))
        else:
            if not settings.bot_token.get_secret_value():
                logging.getLogger(__name__).error("BOT_TOKEN is not set")
                return 2
            asyncio.run(_run(settings))
    except VaultError as exc:
        logging.getLogger(__name__).error("%s", exc)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
