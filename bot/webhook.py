"""Webhook mode: Telegram POSTs updates to WEBHOOK_URL; aiohttp serves them on $PORT.

Each update must carry Telegram's X-Telegram-Bot-Api-Secret-Token header equal to the secret
given to setWebhook (WEBHOOK_SECRET, or a random one per start); anything else gets 401 and is
not processed. GET /healthz answers the host's health checks with JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.health import health
from bot.lifecycle import graceful_shutdown

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
DEFAULT_PATH = "/webhook"
LISTEN_HOST = "0.0.0.0"  # the host's router forwards $PORT from outside
# Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and - as a secret token.
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Updates being handled when the stop comes get this long before the syncs' grace starts.
IN_FLIGHT_SECONDS = 5.0


class WebhookConfigError(ValueError):
    """WEBHOOK_URL / WEBHOOK_SECRET cannot work; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    url: str
    path: str
    secret: str


def webhook_config(url: str | None, secret: str | None) -> WebhookConfig:
    """Check the settings; the path Telegram POSTs to is WEBHOOK_URL's path."""
    if not url:
        raise WebhookConfigError("WEBHOOK_URL is not set (e.g. https://my-bot.example.com/tg)")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise WebhookConfigError("WEBHOOK_URL must be an https:// URL: Telegram accepts no other")
    if secret is None:
        secret = secrets.token_urlsafe(32)
    elif not SECRET_RE.fullmatch(secret):
        raise WebhookConfigError(
            "WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1 to 256 characters)"
        )
    return WebhookConfig(url=url, path=parts.path or DEFAULT_PATH, secret=secret)


def build_web_app(app: App, config: WebhookConfig) -> tuple[web.Application, SimpleRequestHandler]:
    """The aiohttp application: the update endpoint and /healthz."""
    handler = SimpleRequestHandler(
        app.dispatcher, app.bot, handle_in_background=True, secret_token=config.secret
    )

    async def healthz(_request: web.Request) -> web.Response:
        healthy, report = await health(app)
        return web.json_response(report, status=200 if healthy else 503)

    web_app = web.Application()
    # Not handler.register(): that closes the bot session on shutdown, before the drain.
    web_app.router.add_post(config.path, handler.handle)
    web_app.router.add_get(HEALTH_PATH, healthz)
    return web_app, handler


class WebhookServer:
    """The listening side; `start` returns the bound port (handy when PORT is 0)."""

    def __init__(self, app: App, config: WebhookConfig) -> None:
        self.web_app, self.handler = build_web_app(app, config)
        self._runner = web.AppRunner(self.web_app, access_log=None)
        self._site: web.TCPSite | None = None

    async def start(self, host: str, port: int) -> int:
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        address = self._runner.addresses[0]
        return int(address[1])

    async def stop_accepting(self) -> None:
        """Close the listening socket; updates being handled carry on."""
        if self._site is not None:
            await self._site.stop()
            self._site = None

    async def wait_in_flight(self, timeout: float) -> None:
        tasks = set(self.handler._background_feed_update_tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def close(self) -> None:
        await self._runner.cleanup()


async def run_webhook(
    app: App,
    stop: asyncio.Event,
    *,
    host: str = LISTEN_HOST,
    started: asyncio.Future[int] | None = None,
) -> None:
    """Serve until `stop` is set, then shut down gracefully.

    `started` (if given) receives the bound port once Telegram has been told the URL.
    """
    from bot.app import set_commands
    from bot.telegram_faults import wait_for_telegram

    secret = app.settings.webhook_secret
    config = webhook_config(app.settings.webhook_url, secret.get_secret_value() if secret else None)
    server = WebhookServer(app, config)
    try:
        await set_commands(app.bot)
        if app.background is not None:
            await app.background.start()
        port = await server.start(host, app.settings.port)
        dp = app.dispatcher

        async def set_webhook() -> object:
            return await app.bot.set_webhook(
                config.url,
                secret_token=config.secret,
                allowed_updates=dp.resolve_used_update_types(),
                drop_pending_updates=app.settings.drop_pending_updates,
            )

        # Telegram down at start-up: keep serving /healthz and the scheduler, and keep trying.
        if not await wait_for_telegram(app.bot, set_webhook, stop=stop):
            return
        await dp.emit_startup(bot=app.bot, dispatcher=dp, **dp.workflow_data)
        app.polling = True  # "taking updates", for the health check job
        log.info("webhook mode: listening on port %s, path %s", port, config.path)
        if started is not None and not started.done():
            started.set_result(port)
        await stop.wait()
        log.info("stopping: no more updates; waiting for running syncs")
        await server.stop_accepting()
        app.polling = False
        await server.wait_in_flight(IN_FLIGHT_SECONDS)
        with contextlib.suppress(Exception):
            await dp.emit_shutdown(bot=app.bot, dispatcher=dp, **dp.workflow_data)
    finally:
        app.polling = False
        if started is not None and not started.done():
            started.cancel()
        try:
            await graceful_shutdown(app)
        except Exception:
            log.exception("the shutdown did not finish cleanly")
        await server.close()


async def leave_webhook_mode(bot: Bot) -> None:
    """Before long polling: drop a webhook left by an earlier webhook deployment.

    Telegram refuses getUpdates (409) while a webhook is set.
    """
    try:
        info = await bot.get_webhook_info()
        if info.url:
            log.info("removing the webhook of an earlier deployment to poll instead")
            await bot.delete_webhook()
    except TelegramAPIError as exc:
        log.warning("could not check for a webhook: %s", type(exc).__name__)
