"""WB's per-method rate limits by token type, and a per-seller token-bucket limiter."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from core.wb.token import TokenType


class Method(StrEnum):
    """A WB API method the tracker calls; limits are kept per method."""

    PING = "ping"
    SELLER_INFO = "seller_info"
    CARDS_LIST = "cards_list"
    WAREHOUSES = "warehouses"
    FBS_STOCKS = "fbs_stocks"
    REMAINS_CREATE = "remains_create"
    REMAINS_STATUS = "remains_status"
    REMAINS_DOWNLOAD = "remains_download"
    ORDERS = "orders"
    SALES = "sales"


@dataclass(frozen=True)
class Limit:
    """A token bucket: one request refills every `period_seconds`, at most `burst` stored."""

    period_seconds: float
    burst: int


def _same(limit: Limit) -> Mapping[TokenType, Limit]:
    return MappingProxyType({t: limit for t in TokenType})


def _by_type(personal: Limit, base: Limit) -> Mapping[TokenType, Limit]:
    # Personal, Service and Test keys share WB's "Personal" column; Base has its own.
    limits = {t: personal for t in TokenType}
    limits[TokenType.BASE] = base
    return MappingProxyType(limits)


# Wall-clock floats near 1.8e9 carry ~2e-7 s of rounding; ignore waits below that noise.
_CLOCK_EPSILON = 1e-6
_MINUTE = 60.0
_HOUR = 3600.0

# From docs/wb-api.md. Where it gives no burst, the burst is 1 (the conservative reading).
LIMITS: Mapping[Method, Mapping[TokenType, Limit]] = MappingProxyType(
    {
        Method.PING: _same(Limit(10.0, 3)),  # 3 per 30 s per host
        Method.SELLER_INFO: _by_type(Limit(_MINUTE, 1), Limit(24 * _HOUR, 1)),
        Method.CARDS_LIST: _same(Limit(_MINUTE / 100, 5)),
        Method.WAREHOUSES: _by_type(Limit(_MINUTE / 300, 20), Limit(_MINUTE / 150, 10)),
        Method.FBS_STOCKS: _by_type(Limit(_MINUTE / 300, 20), Limit(_MINUTE / 150, 10)),
        Method.REMAINS_CREATE: _by_type(Limit(_MINUTE, 1), Limit(_HOUR / 4, 1)),
        Method.REMAINS_STATUS: _by_type(Limit(5.0, 1), Limit(_HOUR / 4, 1)),
        Method.REMAINS_DOWNLOAD: _by_type(Limit(_MINUTE, 1), Limit(_HOUR / 4, 1)),
        Method.ORDERS: _by_type(Limit(_MINUTE, 1), Limit(3 * _HOUR, 1)),
        Method.SALES: _by_type(Limit(_MINUTE, 1), Limit(2 * _HOUR, 1)),
    }
)


def limit_for(method: Method, token_type: TokenType) -> Limit:
    """The bucket WB applies to `method` for keys of `token_type`."""
    return LIMITS[method][token_type]


@dataclass
class _Bucket:
    tokens: float
    at: float  # wall-clock seconds when `tokens` was last computed
    blocked_until: float = 0.0


class RateLimiter:
    """Token buckets for one seller, one per method (and per host for ping).

    Wall-clock based, so `to_state()` saved before a restart is still right after it.
    """

    _STATE_VERSION = 1

    def __init__(
        self,
        token_type: TokenType,
        *,
        clock: Callable[[], float] = time.time,
        state: Mapping[str, Any] | None = None,
        enabled: bool = True,
    ) -> None:
        self.token_type = token_type
        self.enabled = enabled
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        if state:
            self._restore(state)

    @staticmethod
    def _key(method: Method, host: str) -> str:
        return f"{method.value}:{host}" if host else method.value

    @staticmethod
    def _method_of(key: str) -> Method:
        return Method(key.split(":", 1)[0])

    def _bucket(self, method: Method, host: str, now: float) -> tuple[_Bucket, Limit]:
        limit = limit_for(method, self.token_type)
        key = self._key(method, host)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=float(limit.burst), at=now)
            self._buckets[key] = bucket
        elif now > bucket.at:
            bucket.tokens = min(
                float(limit.burst), bucket.tokens + (now - bucket.at) / limit.period_seconds
            )
            bucket.at = now
        return bucket, limit

    def wait_time(self, method: Method, *, host: str = "") -> float:
        """Seconds until one call of `method` is allowed (0 when it is allowed now)."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        bucket, limit = self._bucket(method, host, now)
        wait = max((1.0 - bucket.tokens) * limit.period_seconds, bucket.blocked_until - now)
        return wait if wait > _CLOCK_EPSILON else 0.0

    def next_allowed_at(self, method: Method, *, host: str = "") -> datetime:
        """When the next call of `method` is allowed (aware UTC)."""
        return datetime.fromtimestamp(self._clock() + self.wait_time(method, host=host), tz=UTC)

    def take(self, method: Method, cost: int = 1, *, host: str = "") -> float:
        """Spend `cost` requests of `method`'s bucket (it may go negative: a debt).

        Returns what is left, for `settle` once the answer is in."""
        if not self.enabled:
            return 0.0
        bucket, _ = self._bucket(method, host, self._clock())
        bucket.tokens -= cost
        return bucket.tokens

    def settle(self, method: Method, left_after_take: float, *, host: str = "") -> None:
        """The answer is in: count the call as made now rather than when it was sent.

        WB counts a call when it arrives; a slow send (a loaded machine, a slow network) lands
        it later than our clock says, and the next call, spaced from the send, could then arrive
        too early and get a 429. Forgetting what refilled while the call was out keeps the
        spacing from the latest moment the call can have arrived."""
        if not self.enabled:
            return
        bucket, _ = self._bucket(method, host, self._clock())
        bucket.tokens = min(bucket.tokens, left_after_take)

    def penalize(self, method: Method, retry_after: float, *, host: str = "") -> None:
        """WB answered 429: no call of `method` before now + `retry_after`."""
        if not self.enabled:
            return
        now = self._clock()
        bucket, limit = self._bucket(method, host, now)
        # Exactly one token becomes available at now + retry_after, not a period later.
        bucket.tokens = min(bucket.tokens, 1.0 - retry_after / limit.period_seconds)
        bucket.blocked_until = max(bucket.blocked_until, now + retry_after)

    def observe_remaining(self, method: Method, remaining: int, *, host: str = "") -> None:
        """WB's X-Ratelimit-Remaining: when it says fewer remain than we think, believe it."""
        if not self.enabled:
            return
        bucket, _ = self._bucket(method, host, self._clock())
        bucket.tokens = min(bucket.tokens, float(remaining))

    def to_state(self) -> dict[str, Any]:
        """A JSON-serializable snapshot to persist between runs and restore with `state=`."""
        return {
            "version": self._STATE_VERSION,
            "token_type": int(self.token_type),
            "buckets": {
                key: {"tokens": b.tokens, "at": b.at, "blocked_until": b.blocked_until}
                for key, b in self._buckets.items()
            },
        }

    def _restore(self, state: Mapping[str, Any]) -> None:
        if state.get("version") != self._STATE_VERSION:
            return
        buckets = state.get("buckets")
        if not isinstance(buckets, Mapping):
            return
        for key, raw in buckets.items():
            try:
                method = self._method_of(str(key))
                burst = float(limit_for(method, self.token_type).burst)
                self._buckets[str(key)] = _Bucket(
                    tokens=min(burst, float(raw["tokens"])),
                    at=float(raw["at"]),
                    blocked_until=float(raw.get("blocked_until", 0.0)),
                )
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
