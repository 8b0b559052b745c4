"""Stopping well: on SIGTERM stop taking updates, let syncs finish for a bounded time, then
record the ones still running as interrupted, stop the scheduler and close everything.

Both modes (long polling and webhook) end through `graceful_shutdown`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from bot.broadcast import registry
from bot.health import update_clock
from core.clock import utcnow
from core.notifier import ChatRef, FailureReason, SyncFailure, Trigger
from core.sync import SyncStatus
from storage.models import SyncLog, Tenant

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
# Telling sellers about interrupted syncs must not hold the exit up for long.
NOTIFY_TIMEOUT_SECONDS = 5.0
INTERRUPTED_ERROR = "interrupted: the bot shut down during the sync"


@dataclass(frozen=True, slots=True)
class ShutdownReport:
    finished_in_grace: bool
    interrupted: tuple[int, ...]  # tenant ids whose sync was cut short


async def graceful_shutdown(app: App, grace: float | None = None) -> ShutdownReport:
    """Drain, then close `app`. Call after updates have stopped coming in."""
    grace = app.settings.shutdown_grace_seconds if grace is None else grace
    scheduler = app.scheduler
    if scheduler is not None and scheduler.running:
        with contextlib.suppress(Exception):
            scheduler.pause()  # no new scheduled syncs while the running ones finish
    broadcasts = registry(app)
    clock = update_clock(app.dispatcher)
    deadline = time.monotonic() + max(grace, 0.0)
    # Polled: syncs started by scheduler jobs are not tasks this process can await. Updates
    # already taken are answered before the Telegram session closes under them.
    while time.monotonic() < deadline:
        handling = clock.in_flight if clock is not None else 0
        if not (app.syncs.running_count or broadcasts.tasks or handling):
            break
        await asyncio.sleep(POLL_SECONDS)
    finished = app.syncs.running_count == 0
    cut_short = app.syncs.running_ids()
    if cut_short:
        log.warning("%d syncs still running after %.0f s; interrupting them", len(cut_short), grace)
    await broadcasts.cancel()
    # The scheduler's shutdown cancels the syncs its jobs run; background syncs are cancelled here.
    if app.background is not None:
        try:
            await app.background.stop()
        except Exception:
            log.exception("the scheduler did not stop cleanly")
    await app.syncs.cancel_all()
    interrupted: tuple[int, ...] = ()
    if cut_short:
        try:
            interrupted = await _mark_interrupted(app, cut_short)
        except Exception:
            log.exception("could not record the interrupted syncs")
    with contextlib.suppress(Exception):
        await app.close()
    return ShutdownReport(finished, interrupted)


async def _mark_interrupted(app: App, tenant_ids: frozenset[int]) -> tuple[int, ...]:
    """The cut-short syncs' logs end "interrupted"; each seller's progress message says so."""
    now = utcnow()
    async with app.sessions() as session, session.begin():
        entries = list(
            (
                await session.execute(
                    select(SyncLog).where(
                        SyncLog.tenant_id.in_(tenant_ids),
                        SyncLog.status == SyncStatus.IN_PROGRESS,
                    )
                )
            ).scalars()
        )
        if not entries:
            return ()
        await session.execute(
            update(SyncLog)
            .where(SyncLog.id.in_([entry.id for entry in entries]))
            .values(status=SyncStatus.INTERRUPTED, finished_at=now, error=INTERRUPTED_ERROR)
        )
        tenants = {
            tenant.id: tenant
            for tenant in (
                await session.execute(
                    select(Tenant).where(Tenant.id.in_({entry.tenant_id for entry in entries}))
                )
            ).scalars()
        }
    try:
        async with asyncio.timeout(NOTIFY_TIMEOUT_SECONDS):
            for entry in entries:
                tenant = tenants.get(entry.tenant_id)
                if tenant is None or not tenant.is_active:
                    continue
                chat = ChatRef(tenant.id, tenant.chat_id, tenant.language, tenant.timezone)
                if entry.progress_message_id is not None:
                    await app.notifier.sync_failed(
                        chat,
                        entry.progress_message_id,
                        SyncFailure(FailureReason.INTERRUPTED),
                        Trigger(entry.trigger),
                    )
                else:
                    await app.notifier.sync_interrupted(chat)
    except TimeoutError:
        log.warning("not every seller was told about the interrupted sync")
    return tuple(sorted({entry.tenant_id for entry in entries}))


def on_stop_signals(callback: Callable[[], None]) -> None:
    """Call `callback` on SIGTERM (the host stopping us) and SIGINT (Ctrl+C)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, callback)


async def serve(app: App, *, webhook: bool) -> None:
    """Run until SIGTERM/SIGINT, then shut down gracefully (in both modes)."""
    stop = asyncio.Event()
    on_stop_signals(stop.set)
    if webhook:
        from bot.webhook import run_webhook

        await run_webhook(app, stop)
        return
    from bot.app import run_polling

    polling = asyncio.create_task(run_polling(app))
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if stop.is_set():
        log.info("stopping: no more updates; waiting for running syncs")
        try:
            await app.dispatcher.stop_polling()
        except RuntimeError:  # polling had not started yet: its finally still shuts down
            polling.cancel()
    stopper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await polling  # run_polling ends with graceful_shutdown
