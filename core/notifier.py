"""What the sync tells the chat, as data; the bot layer turns it into words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from core.stock_report import DataPart, LowStockItem, ReportTotals


class Trigger(StrEnum):
    MANUAL = "manual"
    SCHEDULED = "scheduled"
    RETRY = "retry"
    ADMIN = "admin"
    RESUME = "resume"


class SyncStep(StrEnum):
    """Progress steps in the order a sync takes them."""

    CARDS = "cards"
    FBS_STOCK = "fbs_stock"
    REMAINS = "remains"
    ORDERS = "orders"
    REPORT = "report"


class FailureReason(StrEnum):
    KEY_REJECTED = "key_rejected"  # 401: the key is invalid, expired or lacks a category
    TOKEN_TYPE_REFUSED = "token_type_refused"  # 403: the method refuses this token type
    WB_UNAVAILABLE = "wb_unavailable"  # 5xx / timeouts after retries
    WB_BAD_RESPONSE = "wb_bad_response"
    RATE_LIMITED = "rate_limited"  # nothing could be read within the wait bound
    NO_KEY = "no_key"
    INTERRUPTED = "interrupted"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where and how to talk to a seller."""

    tenant_id: int
    chat_id: int
    language: str
    timezone: str


@dataclass(frozen=True, slots=True)
class PartStatus:
    """How fresh one part of the report is after a sync."""

    part: DataPart
    fetched_at: datetime | None  # aware UTC; None: never read
    refreshed: bool  # read during this sync
    next_refresh_at: datetime | None = None  # when WB's limits allow the next read, if stale


@dataclass(frozen=True, slots=True)
class SyncSummary:
    """The final message's content."""

    totals: ReportTotals
    low_stock: tuple[LowStockItem, ...]
    low_stock_threshold: float
    window_days: int
    duration_seconds: float
    parts: tuple[PartStatus, ...]
    sheet_written: bool | None = None  # None: no sheet linked
    sheet_error: str | None = None
    alerts: AlertChanges | None = None


@dataclass(frozen=True, slots=True)
class AlertChanges:
    """Products that became low or recovered since the previous sync."""

    newly_low: tuple[LowStockItem, ...] = ()
    recovered: tuple[str, ...] = ()  # seller articles
    baseline: bool = False  # the first sync only sets the baseline

    @property
    def any(self) -> bool:
        return bool(self.newly_low or self.recovered)


@dataclass(frozen=True, slots=True)
class SyncFailure:
    reason: FailureReason
    detail: str = ""  # safe to show: never holds the key
    will_retry_at: datetime | None = None
    attempts_left: int = 0
    schedule_paused: bool = False  # a rejected key paused the seller's schedule


@dataclass(slots=True)
class ProgressState:
    done: list[SyncStep] = field(default_factory=list)
    current: SyncStep | None = None
    note: str = ""
    queue_place: int = 0  # waiting for a free sync slot: the place in the queue (1 = next)


class Notifier(Protocol):
    """The chat, as the sync sees it."""

    async def sync_started(self, chat: ChatRef, trigger: Trigger) -> int | None:
        """Post the progress message; returns its id (None if it could not be sent)."""

    async def sync_progress(
        self, chat: ChatRef, message_id: int | None, progress: ProgressState
    ) -> None: ...

    async def sync_finished(
        self, chat: ChatRef, message_id: int | None, summary: SyncSummary, trigger: Trigger
    ) -> None: ...

    async def sync_failed(
        self, chat: ChatRef, message_id: int | None, failure: SyncFailure, trigger: Trigger
    ) -> None: ...

    async def stock_alerts(
        self, chat: ChatRef, changes: AlertChanges, summary: SyncSummary
    ) -> None:
        """One grouped message: products newly low and products recovered."""

    async def key_expiring(self, chat: ChatRef, expires_at: datetime, days_left: int) -> None: ...

    async def sync_interrupted(self, chat: ChatRef) -> None:
        """A sync was cut short by a restart; the next one runs normally."""
