"""A local fake of WB's seller API that honours the rules in docs/wb-api.md.

One aiohttp server on 127.0.0.1 answers for every WB host, routing by the Host header.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import bisect
import contextlib
import math
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import orjson
from aiohttp import web

from tests.fakes.wb_data import MSK, SellerData, msk_naive

CONTENT = "content-api.wildberries.ru"
ANALYTICS = "seller-analytics-api.wildberries.ru"
MARKETPLACE = "marketplace-api.wildberries.ru"
STATISTICS = "statistics-api.wildberries.ru"
COMMON = "common-api.wildberries.ru"
HOST_CATEGORY_BIT: dict[str, int | None] = {
    CONTENT: 1,
    ANALYTICS: 2,
    MARKETPLACE: 4,
    STATISTICS: 5,
    COMMON: None,
}
READ_ONLY_BIT = 30
BASE = 1

# (period seconds, burst) per method: (Personal/Service/Test, Base), from docs/wb-api.md.
_MIN = 60.0
_H = 3600.0
RATE_TABLE: dict[str, tuple[tuple[float, int], tuple[float, int]]] = {
    "ping": ((10.0, 3), (10.0, 3)),
    "seller_info": ((_MIN, 1), (24 * _H, 1)),
    "cards_list": ((0.6, 5), (0.6, 5)),
    "warehouses": ((0.2, 20), (0.4, 10)),
    "fbs_stocks": ((0.2, 20), (0.4, 10)),
    "remains_create": ((_MIN, 1), (_H / 4, 1)),
    "remains_status": ((5.0, 1), (_H / 4, 1)),
    "remains_download": ((_MIN, 1), (_H / 4, 1)),
    "orders": ((_MIN, 1), (3 * _H, 1)),
    "sales": ((_MIN, 1), (2 * _H, 1)),
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(
    *,
    token_type: int = 1,
    categories: Iterable[int] = (1, 2, 4, 5),
    read_only: bool = True,
    seller_id: str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    expires_at: datetime | None = None,
    sandbox: bool = False,
    user_id: int = 12345678,
) -> str:
    """A WB-shaped API key (ES256 JWT layout; the signature is random bytes)."""
    if expires_at is None:
        expires_at = datetime.now(UTC) + timedelta(days=180)
    mask = 0
    for bit in categories:
        mask |= 1 << bit
    if read_only:
        mask |= 1 << READ_ONLY_BIT
    header = {"alg": "ES256", "kid": "20250925v1", "typ": "JWT"}
    seed = uuid.uuid5(uuid.NAMESPACE_URL, f"{seller_id}:{token_type}:{mask}:{expires_at}")
    payload = {
        "acc": token_type,
        "ent": 1,
        "exp": int(expires_at.timestamp()),
        "for": "self",
        "id": str(seed),
        "iid": user_id,
        "oid": 4_000_000 + user_id % 1_000_000,
        "s": mask,
        "sid": seller_id,
        "t": sandbox,
        "uid": user_id,
    }
    signature = (seed.bytes * 4)[:64]
    return ".".join((_b64(orjson.dumps(header)), _b64(orjson.dumps(payload)), _b64(signature)))


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake answered."""

    host: str
    method: str  # the fake's method key, e.g. "orders", "" when unknown
    path: str
    query: dict[str, str]
    token_sid: str | None
    status: int
    body: Any = None


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class _Task:
    sid: str
    polls: int = 0


@dataclass
class _Fault:
    kind: int | str
    times: int
    seller_id: str | None = None  # only this seller's calls; None: anyone's


class _Reply(Exception):
    """Raised inside a handler to answer at once with this response."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def problem(status: int, title: str, detail: str, **headers: str) -> web.Response:
    """A WB problem+json error response."""
    body = {
        "title": title,
        "detail": detail,
        "code": f"{uuid.uuid4().hex[:8]}--{uuid.uuid4().hex[:12]}",
        "requestId": uuid.uuid4().hex,
        "origin": "s2s-api-auth-fake",
        "status": status,
        "statusText": _STATUS_TEXT.get(status, ""),
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return web.Response(
        status=status,
        body=orjson.dumps(body),
        content_type="application/problem+json",
        headers=headers,
    )


_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type="application/json")


class FakeWB:
    """`async with FakeWB(data) as wb:` then point the client at `wb.url`."""

    def __init__(self, data: SellerData | Iterable[SellerData]) -> None:
        sellers = [data] if isinstance(data, SellerData) else list(data)
        self.sellers: dict[str, SellerData] = {s.seller_id: s for s in sellers}
        self.clock: Callable[[], float] = time.monotonic
        self.limits_enabled = True
        self.base_forbidden: set[str] = set()
        self.orders_page_size = 80_000
        self.remains_polls_until_done = 2
        self.remains_final_status = "done"
        self.remains_download_empty = False
        self.timeout_delay = 30.0
        self.requests: list[RecordedRequest] = []
        self.url = ""
        self._faults: dict[str, _Fault] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._tasks: dict[str, _Task] = {}
        self._orders_index: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}
        self._cards_index: dict[str, tuple[list[tuple[str, int]], list[dict[str, Any]]]] = {}
        self._chrt_index: dict[str, set[int]] = {}
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeWB:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(
        self,
        method_or_path: str,
        status: int | str = 500,
        *,
        times: int = 1,
        seller_id: str | None = None,
    ) -> None:
        """Make the next `times` calls of a method key (or exact path) fail; with `seller_id`,
        only that seller's calls.

        `status` is an HTTP status, "timeout" (no answer in time) or "malformed" (bad JSON).
        """
        self._faults[str(method_or_path)] = _Fault(status, times, seller_id)

    def count(self, path: str) -> int:
        """How many requests hit exactly this path."""
        return sum(1 for r in self.requests if r.path == path)

    def calls(self, method: str) -> int:
        """How many requests of a method key the fake received."""
        return sum(1 for r in self.requests if r.method == method)

    # ---- plumbing

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        host = (request.host or "").split(":")[0]
        path = request.path
        query = dict(request.query)
        raw_body = await request.read()
        body: Any = None
        if raw_body:
            try:
                body = orjson.loads(raw_body)
            except orjson.JSONDecodeError:
                body = raw_body.decode("utf-8", "replace")
        method = self._route(host, request.method, path)
        sid: str | None = None
        try:
            if not method:
                raise _Reply(problem(404, "not found", f"no route {request.method} {path}"))
            claims = self._authorize(host, request.headers.get("Authorization", ""))
            sid = str(claims["sid"])
            token_type = int(claims["acc"])
            if token_type == BASE and method in self.base_forbidden:
                raise _Reply(problem(403, "forbidden", "base token is not allowed"))
            bucket = self._spend(sid, method, host, token_type)
            response = await self._faulted(method, path, sid)
            if response is None:
                response = self._handle(method, host, path, query, body, self.sellers[sid])
            if host == MARKETPLACE and 400 <= response.status < 500 and bucket is not None:
                bucket.tokens -= 9  # a Marketplace 4xx costs 10 requests
            if bucket is not None:
                response.headers["X-Ratelimit-Remaining"] = str(max(0, math.floor(bucket.tokens)))
        except _Reply as reply:
            response = reply.response
        self.requests.append(RecordedRequest(host, method, path, query, sid, response.status, body))
        return response

    @staticmethod
    def _route(host: str, http_method: str, path: str) -> str:
        if http_method == "GET" and path == "/ping" and host in HOST_CATEGORY_BIT:
            return "ping"
        parts = path.strip("/").split("/")
        routes = {
            (COMMON, "GET", "/api/v1/seller-info"): "seller_info",
            (CONTENT, "POST", "/content/v2/get/cards/list"): "cards_list",
            (MARKETPLACE, "GET", "/api/v3/warehouses"): "warehouses",
            (ANALYTICS, "GET", "/api/v1/warehouse_remains"): "remains_create",
            (STATISTICS, "GET", "/api/v1/supplier/orders"): "orders",
            (STATISTICS, "GET", "/api/v1/supplier/sales"): "sales",
        }
        if (host, http_method, path) in routes:
            return routes[(host, http_method, path)]
        if host == MARKETPLACE and http_method == "POST" and parts[:3] == ["api", "v3", "stocks"]:
            return "fbs_stocks" if len(parts) == 4 else ""
        if (
            host == ANALYTICS
            and http_method == "GET"
            and len(parts) == 6
            and parts[:4] == ["api", "v1", "warehouse_remains", "tasks"]
        ):
            return {"status": "remains_status", "download": "remains_download"}.get(parts[5], "")
        return ""

    def _authorize(self, host: str, key: str) -> dict[str, Any]:
        parts = key.strip().split(".")
        if len(parts) != 3 or not all(parts):
            raise _Reply(problem(401, "unauthorized", "token problem; token is malformed"))
        try:
            claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
            token_type, mask, exp, sid = (
                int(claims["acc"]),
                int(claims["s"]),
                int(claims["exp"]),
                str(claims["sid"]),
            )
        except (binascii.Error, ValueError, KeyError, TypeError, orjson.JSONDecodeError):
            raise _Reply(
                problem(401, "unauthorized", "token problem; token is malformed")
            ) from None
        if token_type not in (1, 2, 3, 4):
            raise _Reply(problem(401, "unauthorized", "token problem; unknown token type"))
        if exp <= time.time():
            raise _Reply(problem(401, "unauthorized", "token problem; token is expired"))
        bit = HOST_CATEGORY_BIT[host]
        if bit is not None and not mask & (1 << bit):
            raise _Reply(problem(401, "unauthorized", "token scope not allowed"))
        if sid not in self.sellers:
            raise _Reply(problem(401, "unauthorized", "unknown seller"))
        return dict(claims)

    def _spend(self, sid: str, method: str, host: str, token_type: int) -> _Bucket | None:
        if not self.limits_enabled:
            return None
        period, burst = RATE_TABLE[method][1 if token_type == BASE else 0]
        key = (sid, f"ping:{host}" if method == "ping" else method)
        now = self.clock()
        bucket = self._buckets.setdefault(key, _Bucket(float(burst), now))
        if now > bucket.at:
            bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.at) / period)
            bucket.at = now
        if bucket.tokens < 1.0:
            retry = math.ceil((1.0 - bucket.tokens) * period - 1e-9)
            reset = math.ceil((burst - bucket.tokens) * period - 1e-9)
            raise _Reply(
                problem(
                    429,
                    "too many requests",
                    f"limited by {uuid.uuid5(uuid.NAMESPACE_DNS, key[1])}",
                    **{
                        "X-Ratelimit-Retry": str(retry),
                        "X-Ratelimit-Limit": str(burst),
                        "X-Ratelimit-Reset": str(reset),
                    },
                )
            )
        bucket.tokens -= 1.0
        return bucket

    async def _faulted(self, method: str, path: str, sid: str) -> web.Response | None:
        key = path if path in self._faults else method if method in self._faults else None
        if key is None:
            return None
        fault = self._faults[key]
        if fault.seller_id is not None and fault.seller_id != sid:
            return None
        fault.times -= 1
        if fault.times <= 0:
            del self._faults[key]
        if fault.kind == "timeout":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), timeout=self.timeout_delay)
            return problem(504, "gateway timeout", "upstream timed out")
        if fault.kind == "malformed":
            return web.Response(
                status=200, body=b'{"data": [{"broken": ', content_type="application/json"
            )
        status = int(fault.kind)
        return problem(status, _STATUS_TEXT.get(status, "error").lower(), "injected fault")

    # ---- endpoints

    def _handle(
        self,
        method: str,
        host: str,
        path: str,
        query: dict[str, str],
        body: Any,
        seller: SellerData,
    ) -> web.Response:
        if method == "ping":
            return _json({"TS": datetime.now(MSK).isoformat(timespec="seconds"), "Status": "OK"})
        if method == "seller_info":
            return _json(seller.seller_info())
        if method == "cards_list":
            return self._cards(body, seller)
        if method == "warehouses":
            return _json(seller.seller_warehouses)
        if method == "fbs_stocks":
            return self._fbs_stocks(path, body, seller)
        if method == "remains_create":
            return self._remains_create(query, seller)
        if method == "remains_status":
            return self._remains_status(path, seller)
        if method == "remains_download":
            return self._remains_download(path, seller)
        if method == "orders":
            return self._orders(query, seller)
        if method == "sales":
            return _json([])
        raise AssertionError(method)

    def _cards(self, body: Any, seller: SellerData) -> web.Response:
        try:
            settings = body["settings"]
            cursor = settings.get("cursor") or {}
            limit = int(cursor.get("limit", 10))
            ascending = bool((settings.get("sort") or {}).get("ascending", False))
        except (TypeError, KeyError, AttributeError, ValueError):
            return problem(400, "Bad Request", "Request body can not be decoded")
        if not 0 < limit <= 100:
            return problem(400, "Bad Request", "limit must be between 1 and 100")
        keys, cards = self._cards_sorted(seller)
        if not ascending:
            keys, cards = keys[::-1], cards[::-1]
        start = 0
        if cursor.get("updatedAt") and cursor.get("nmID"):
            position = (str(cursor["updatedAt"]), int(cursor["nmID"]))
            if ascending:
                start = bisect.bisect_right(keys, position)
            else:
                start = next((i for i, k in enumerate(keys) if k < position), len(keys))
        page = cards[start : start + limit]
        answer: dict[str, Any] = {"total": len(page)}
        if page:
            answer.update(updatedAt=page[-1]["updatedAt"], nmID=page[-1]["nmID"])
        return _json({"cards": page, "cursor": answer})

    def _cards_sorted(
        self, seller: SellerData
    ) -> tuple[list[tuple[str, int]], list[dict[str, Any]]]:
        cached = self._cards_index.get(seller.seller_id)
        if cached is None or len(cached[1]) != len(seller.cards):
            cards = sorted(seller.cards, key=lambda c: (c["updatedAt"], c["nmID"]))
            cached = ([(c["updatedAt"], c["nmID"]) for c in cards], cards)
            self._cards_index[seller.seller_id] = cached
        return cached

    def _fbs_stocks(self, path: str, body: Any, seller: SellerData) -> web.Response:
        try:
            warehouse_id = int(path.rstrip("/").rsplit("/", 1)[1])
        except ValueError:
            return problem(400, "Bad Request", "invalid warehouseId")
        if not isinstance(body, dict) or "skus" in body:
            return problem(400, "Bad Request", "invalid request body: chrtIds is required")
        chrt_ids = body.get("chrtIds")
        if not isinstance(chrt_ids, list) or not chrt_ids:
            return problem(400, "Bad Request", "chrtIds must be a non-empty array")
        if len(chrt_ids) > 1000:
            return problem(400, "Bad Request", "chrtIds: no more than 1000 items allowed")
        if warehouse_id not in {w["id"] for w in seller.seller_warehouses}:
            return problem(404, "Not Found", "warehouse not found")
        known = self._chrt_index.get(seller.seller_id)
        if known is None:
            known = self._chrt_index[seller.seller_id] = set(seller.chrt_ids())
        stocks = [
            {"chrtId": c, "amount": seller.fbs_stock.get((warehouse_id, c), 0)}
            for c in chrt_ids
            if c in known
        ]
        return _json({"stocks": stocks})

    def _remains_create(self, query: dict[str, str], seller: SellerData) -> web.Response:
        for name in ("groupByNm", "groupBySa", "groupByBarcode", "groupBySize"):
            if query.get(name, "false") not in ("true", "false"):
                return problem(400, "Bad Request", f'parameter "{name}" in query has an error')
        task_id = str(uuid.uuid4())
        self._tasks[task_id] = _Task(seller.seller_id)
        return _json({"data": {"taskId": task_id}})

    def _task(self, path: str, seller: SellerData) -> _Task:
        task = self._tasks.get(path.strip("/").split("/")[4])
        if task is None or task.sid != seller.seller_id:
            raise _Reply(problem(404, "Not Found", "not found"))
        return task

    def _status_of(self, task: _Task) -> str:
        if task.polls > self.remains_polls_until_done:
            return self.remains_final_status
        return "new" if task.polls <= 1 else "processing"

    def _remains_status(self, path: str, seller: SellerData) -> web.Response:
        task = self._task(path, seller)
        task.polls += 1
        return _json({"data": {"id": path.split("/")[5], "status": self._status_of(task)}})

    def _remains_download(self, path: str, seller: SellerData) -> web.Response:
        task = self._task(path, seller)
        if self._status_of(task) != "done":
            return problem(400, "Bad Request", "task is not done")
        if self.remains_download_empty:
            return web.Response(status=204)
        return _json(seller.remains_rows())

    def _orders(self, query: dict[str, str], seller: SellerData) -> web.Response:
        raw = query.get("dateFrom")
        if not raw:
            return _json({"errors": ["dateFrom: field required"]}, status=400)
        try:
            date_from = msk_naive(datetime.fromisoformat(raw)).isoformat(timespec="seconds")
        except ValueError:
            return _json({"errors": ["dateFrom: Value not validated"]}, status=400)
        keys, rows = self._orders_sorted(seller)
        if query.get("flag", "0") == "1":
            day = date_from[:10]
            return _json([r for r in rows if r["date"][:10] == day])
        start = bisect.bisect_left(keys, date_from)
        return _json(rows[start : start + self.orders_page_size])

    def _orders_sorted(self, seller: SellerData) -> tuple[list[str], list[dict[str, Any]]]:
        cached = self._orders_index.get(seller.seller_id)
        if cached is None or len(cached[1]) != len(seller.orders):
            rows = sorted(seller.orders, key=lambda r: r["lastChangeDate"])
            cached = ([r["lastChangeDate"] for r in rows], rows)
            self._orders_index[seller.seller_id] = cached
        return cached


__all__ = ["FakeWB", "RecordedRequest", "make_token", "problem"]
