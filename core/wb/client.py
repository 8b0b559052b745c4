"""The WB seller API client: hosts, auth, limits, retries, problem+json errors."""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, TypeVar

import aiohttp
import orjson

from core.fast_dataclass import positional_constructor
from core.foreground import Foreground
from core.wb.errors import (
    RateLimitWait,
    WBBadResponseError,
    WBRateLimitedError,
    WBUnavailableError,
    error_for_status,
)
from core.wb.limits import Method, RateLimiter, limit_for
from core.wb.models import Card, CardSize, FbsStock, Order, RemainsRow, SellerWarehouse

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

MOSCOW = timezone(timedelta(hours=3), "MSK")  # no DST in Moscow since 2014
CARDS_PAGE = 100
FBS_CHUNK = 1000
# Bodies at least this large are decoded off the event loop (see _off_loop).
OFF_LOOP_BYTES = 256 * 1024
# A large JSON array (an orders page, the remains report) is decoded this many bytes of
# elements at a time, each slice turned into typed rows at once (see _decode_rows).
DECODE_CHUNK_BYTES = 1024 * 1024
# How many times a slice that does not decode is merged with the next one before the rest of
# the body is decoded at once (a string value containing the element separator; a bad body).
_CHUNK_RETRIES = 3
_WHITESPACE = b" \t\r\n"
_NO_DATE = "0001-01-01"


class Host(StrEnum):
    """WB API hosts, one per key category (common works with any)."""

    CONTENT = "content-api.wildberries.ru"
    ANALYTICS = "seller-analytics-api.wildberries.ru"
    MARKETPLACE = "marketplace-api.wildberries.ru"
    STATISTICS = "statistics-api.wildberries.ru"
    COMMON = "common-api.wildberries.ru"


def to_moscow_naive(moment: datetime) -> datetime:
    """Moscow local time without tzinfo, as WB's statistics API speaks; naive means Moscow."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(MOSCOW).replace(tzinfo=None)


def parse_wb_datetime(value: Any) -> datetime | None:
    """A statistics date ("2022-03-04T18:08:31", Moscow) as naive Moscow time; WB's zero → None."""
    if not isinstance(value, str) or not value or value.startswith(_NO_DATE):
        return None
    moment = datetime.fromisoformat(value)  # three per order: to_moscow_naive inlined
    return moment if moment.tzinfo is None else moment.astimezone(MOSCOW).replace(tzinfo=None)


def format_date_from(moment: datetime) -> str:
    """`dateFrom` for statistics: Moscow time, no offset, full precision."""
    return to_moscow_naive(moment).isoformat(timespec="auto")


class WBClient:
    """Calls WB for one seller key; every call passes the seller's rate limiter first."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: str,
        *,
        limiter: RateLimiter,
        base_url: str | None = None,
        max_wait: float = 65.0,
        request_timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        foreground: Foreground | None = None,
    ) -> None:
        self._session = session
        self._foreground = foreground  # parsing gives way to chat commands in flight
        self._token = token.strip()
        self.limiter = limiter
        self._base_url = base_url.rstrip("/") if base_url else None
        self.max_wait = max_wait
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep
        self.calls: collections.Counter[Method] = collections.Counter()

    def _url(self, host: Host, path: str) -> str:
        return f"{self._base_url or 'https://' + host.value}{path}"

    def _headers(self, host: Host) -> dict[str, str]:
        headers = {"Authorization": self._token, "Accept": "application/json"}
        if self._base_url:
            headers["Host"] = host.value
        return headers

    async def _wait_for_limiter(self, method: Method, bucket_host: str) -> float:
        wait = self.limiter.wait_time(method, host=bucket_host)
        if wait > self.max_wait:
            raise RateLimitWait(
                method.value, wait, self.limiter.next_allowed_at(method, host=bucket_host)
            )
        if wait > 0:
            await self._sleep(wait)
        return self.limiter.take(method, host=bucket_host)

    async def _request(
        self,
        method: Method,
        host: Host,
        http_method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> tuple[int, bytes]:
        """Send one logical call, waiting out limits and retrying transient failures."""
        bucket_host = host.value if method is Method.PING else ""
        what = f"{method.value} {http_method} {host.value}{path}"
        data = orjson.dumps(body) if body is not None else None
        headers = self._headers(host)
        if data is not None:
            headers["Content-Type"] = "application/json"
        failures = 0
        throttled = 0
        while True:
            left = await self._wait_for_limiter(method, bucket_host)
            self.calls[method] += 1
            started = time.monotonic()
            try:
                async with self._session.request(
                    http_method,
                    self._url(host, path),
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=self._timeout,
                ) as response:
                    status = response.status
                    payload = await response.read()
                    retry_header = response.headers.get("X-Ratelimit-Retry")
                    remaining_header = response.headers.get("X-Ratelimit-Remaining")
            except (TimeoutError, aiohttp.ClientError) as exc:
                failures += 1
                logger.warning(
                    "wb %s failed: %s (%.3f s)",
                    what,
                    type(exc).__name__,
                    time.monotonic() - started,
                )
                if failures > self.retries:
                    raise WBUnavailableError(
                        f"{what}: {type(exc).__name__} after {failures} attempts"
                    ) from None
                await self._sleep(self.backoff * 2 ** (failures - 1))
                continue
            logger.info("wb %s -> %s (%.3f s)", what, status, time.monotonic() - started)
            self.limiter.settle(method, left, host=bucket_host)

            if status == 429:
                retry_after = _seconds(retry_header)
                if retry_after is None:
                    retry_after = limit_for(method, self.limiter.token_type).period_seconds
                self.limiter.penalize(method, retry_after, host=bucket_host)
                throttled += 1
                if retry_after > self.max_wait:
                    raise RateLimitWait(
                        method.value,
                        retry_after,
                        self.limiter.next_allowed_at(method, host=bucket_host),
                    )
                if throttled > self.retries:
                    error = error_for_status(status, payload, what=what, token=self._token)
                    raise WBRateLimitedError(
                        str(error),
                        retry_after=retry_after,
                        status=status,
                        title=error.title,
                        detail=error.detail,
                        request_id=error.request_id,
                    )
                await self._sleep(retry_after)
                continue

            if host is Host.MARKETPLACE and 400 <= status < 500:
                self.limiter.take(method, cost=9, host=bucket_host)  # a 4xx costs 10 here
            remaining = _seconds(remaining_header)
            if remaining is not None:
                self.limiter.observe_remaining(method, int(remaining), host=bucket_host)
            if 200 <= status < 300:
                return status, payload
            error = error_for_status(status, payload, what=what, token=self._token)
            if status >= 500:
                failures += 1
                if failures <= self.retries:
                    await self._sleep(self.backoff * 2 ** (failures - 1))
                    continue
            raise error

    async def _json(
        self,
        method: Method,
        host: Host,
        http_method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        _, payload = await self._request(method, host, http_method, path, params=params, body=body)
        return self._decode(method, payload)

    @staticmethod
    def _decode(method: Method, payload: bytes) -> Any:
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise WBBadResponseError(f"{method.value}: response is not valid JSON") from None

    async def ping(self, host: Host) -> None:
        """Check that `host` answers and accepts the key (3 calls / 30 s per host)."""
        data = await self._json(Method.PING, host, "GET", "/ping")
        if not isinstance(data, dict) or data.get("Status") != "OK":
            raise WBBadResponseError(f"ping {host.value}: unexpected answer")

    async def seller_info(self) -> dict[str, Any]:
        """The seller's name, sid, tin and trade mark."""
        data = await self._json(Method.SELLER_INFO, Host.COMMON, "GET", "/api/v1/seller-info")
        if not isinstance(data, dict):
            raise WBBadResponseError("seller_info: expected a JSON object")
        return data

    async def cards(self) -> list[Card]:
        """Every product card of the seller, paged by the updatedAt + nmID cursor."""
        result: list[Card] = []
        cursor: dict[str, Any] = {"limit": CARDS_PAGE}
        while True:
            body = {
                "settings": {
                    "sort": {"ascending": True},
                    "cursor": cursor,
                    "filter": {"withPhoto": -1},
                }
            }
            data = await self._json(
                Method.CARDS_LIST, Host.CONTENT, "POST", "/content/v2/get/cards/list", body=body
            )
            try:
                page = data["cards"]
                answer = data["cursor"]
                result.extend(_card(raw) for raw in page)
                if int(answer["total"]) < CARDS_PAGE or not page:
                    return result
                cursor = {
                    "limit": CARDS_PAGE,
                    "updatedAt": answer["updatedAt"],
                    "nmID": answer["nmID"],
                }
            except (KeyError, TypeError, ValueError) as exc:
                raise WBBadResponseError(f"cards_list: unexpected shape ({exc!r})") from None

    async def seller_warehouses(self) -> list[SellerWarehouse]:
        """The seller's own (FBS) warehouses, without those being deleted."""
        data = await self._json(Method.WAREHOUSES, Host.MARKETPLACE, "GET", "/api/v3/warehouses")
        try:
            return [
                SellerWarehouse(
                    id=int(raw["id"]),
                    name=str(raw["name"]),
                    office_id=int(raw.get("officeId") or 0),
                    delivery_type=int(raw.get("deliveryType") or 0),
                )
                for raw in data
                if not raw.get("isDeleting")
            ]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WBBadResponseError(f"warehouses: unexpected shape ({exc!r})") from None

    async def fbs_stocks(self, warehouse_id: int, chrt_ids: Sequence[int]) -> list[FbsStock]:
        """Stock of the given sizes at one seller warehouse, asked in chunks of 1000."""
        result: list[FbsStock] = []
        path = f"/api/v3/stocks/{int(warehouse_id)}"
        for start in range(0, len(chrt_ids), FBS_CHUNK):
            chunk = [int(c) for c in chrt_ids[start : start + FBS_CHUNK]]
            data = await self._json(
                Method.FBS_STOCKS, Host.MARKETPLACE, "POST", path, body={"chrtIds": chunk}
            )
            try:
                warehouse = int(warehouse_id)
                result.extend(
                    _make_fbs_stock(warehouse, int(raw["chrtId"]), int(raw["amount"]))
                    for raw in data["stocks"]
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise WBBadResponseError(f"fbs_stocks: unexpected shape ({exc!r})") from None
        return result

    async def create_remains_report(self) -> str:
        """Start a warehouse-remains report grouped down to size; returns its task id."""
        params = {
            "groupByNm": "true",
            "groupBySa": "true",
            "groupByBarcode": "true",
            "groupBySize": "true",
        }
        data = await self._json(
            Method.REMAINS_CREATE,
            Host.ANALYTICS,
            "GET",
            "/api/v1/warehouse_remains",
            params=params,
        )
        try:
            return str(data["data"]["taskId"])
        except (KeyError, TypeError) as exc:
            raise WBBadResponseError(f"remains_create: unexpected shape ({exc!r})") from None

    async def remains_status(self, task_id: str) -> str:
        """The report's status: new, processing, done, purged or canceled."""
        data = await self._json(
            Method.REMAINS_STATUS,
            Host.ANALYTICS,
            "GET",
            f"/api/v1/warehouse_remains/tasks/{task_id}/status",
        )
        try:
            return str(data["data"]["status"])
        except (KeyError, TypeError) as exc:
            raise WBBadResponseError(f"remains_status: unexpected shape ({exc!r})") from None

    async def download_remains(self, task_id: str) -> list[RemainsRow]:
        """The finished report's rows, service rows kept; 204 or empty means no data."""
        status, payload = await self._request(
            Method.REMAINS_DOWNLOAD,
            Host.ANALYTICS,
            "GET",
            f"/api/v1/warehouse_remains/tasks/{task_id}/download",
        )
        if status == 204 or not payload.strip():
            return []
        return await _off_loop(_remains_rows, payload, self._foreground)

    async def orders_page(self, date_from: datetime) -> list[Order]:
        """One page of orders whose lastChangeDate >= date_from (naive means Moscow time)."""
        _, payload = await self._request(
            Method.ORDERS,
            Host.STATISTICS,
            "GET",
            "/api/v1/supplier/orders",
            params={"dateFrom": format_date_from(date_from), "flag": "0"},
        )
        return await _off_loop(_orders, payload, self._foreground)

    async def orders_since(
        self, date_from: datetime, *, short_page: int | None = None
    ) -> AsyncIterator[list[Order]]:
        """Pages of orders changed since `date_from`; rows at a page boundary may repeat.

        Stops on [] or when a page's last lastChangeDate does not move past the cursor.
        With `short_page`, a page of fewer rows is taken as the last one (saves a call).
        """
        cursor = to_moscow_naive(date_from)
        while True:
            page = await self.orders_page(cursor)
            if not page:
                return
            yield page
            last = page[-1].last_change_date
            if last <= cursor or (short_page is not None and len(page) < short_page):
                return
            cursor = last


async def _off_loop(
    parse: Callable[[bytes, Callable[[], None] | None], _T],
    payload: bytes,
    foreground: Foreground | None,
) -> _T:
    """Decode and parse a large body in a worker thread, a small one in place.

    A full orders page (80,000 rows, ~40 MB) takes about a second of CPU; on the event loop
    that would stall every chat for as long. In a thread the loop still gets the GIL every
    few milliseconds, and the thread stops between slices while a chat command is answered.
    """
    if len(payload) >= OFF_LOOP_BYTES:
        pause = foreground.give_way_in_thread if foreground is not None else None
        return await asyncio.to_thread(parse, payload, pause)
    if foreground is not None:
        await foreground.give_way()
    return parse(payload, None)


def _remains_rows(payload: bytes, pause: Callable[[], None] | None = None) -> list[RemainsRow]:
    shared: dict[Any, Any] = {}
    return _decode_rows(
        Method.REMAINS_DOWNLOAD,
        payload,
        "remains_download",
        lambda raw: _remains_row(raw, shared),
        must_be_list=False,
        pause=pause,
    )


def _orders(payload: bytes, pause: Callable[[], None] | None = None) -> list[Order]:
    shared: dict[str, str] = {}
    return _decode_rows(
        Method.ORDERS,
        payload,
        "orders",
        lambda raw: _order(raw, shared),
        must_be_list=True,
        pause=pause,
    )


def _decode_rows(
    method: Method,
    payload: bytes,
    what: str,
    convert: Callable[[Any], _T],
    *,
    must_be_list: bool,
    pause: Callable[[], None] | None = None,
) -> list[_T]:
    """Decode a JSON array and convert each element, with the whole-body decode's errors.

    A large array is decoded a slice of elements at a time (~DECODE_CHUNK_BYTES each), and each
    slice is converted before the next is decoded: an 80,000-row orders page never exists as
    80,000 dicts at once (they took three times the body's size). Slices are cut before the
    opening bytes of the first element (`},{"key":`), and a slice counts only if it decodes
    as an array of its own, so a cut that fell inside a string value, or inside a nested
    object, is never taken: that slice is merged with the next one. A body that is not valid
    JSON raises `<method>: response is not valid JSON`, also when a row before the bad spot
    has a bad shape (as when the whole body was decoded first); then `<what>: unexpected shape`.
    `pause` is called before each slice (see core.foreground).
    """
    slices = _element_slices(payload)
    if slices is None:
        data = WBClient._decode(method, payload)
        if must_be_list and not isinstance(data, list):
            raise WBBadResponseError(f"{what}: expected a JSON array")
        try:
            # Each decoded row is replaced by its typed row at once, so the list never holds
            # both forms of every row (the decoded dicts are the larger).
            for index, raw in enumerate(data):
                data[index] = convert(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WBBadResponseError(f"{what}: unexpected shape ({exc!r})") from None
        rows: list[_T] = data
        return rows
    rows = []
    try:
        for items, rest in slices:
            if pause is not None:
                pause()
            try:
                rows.extend([convert(raw) for raw in items])
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                # As with a whole-body decode: a body that is not JSON is reported as such.
                if rest is not None:
                    orjson.loads(b"[" + rest)
                raise WBBadResponseError(f"{what}: unexpected shape ({exc!r})") from None
    except orjson.JSONDecodeError:
        raise WBBadResponseError(f"{method.value}: response is not valid JSON") from None
    return rows


def _element_slices(
    payload: bytes,
) -> Iterator[tuple[list[Any], memoryview | None]] | None:
    """(decoded elements, the body after them or None at the end) per slice; None: no slicing.

    Only a body larger than one slice, that is an array whose first element is an object
    starting with a plain key, is sliced; anything else is decoded whole by the caller.
    """
    if len(payload) <= DECODE_CHUNK_BYTES:
        return None
    opening = _skip_whitespace(payload, 0)
    if payload[opening : opening + 1] != b"[":
        return None
    first = _skip_whitespace(payload, opening + 1)
    key_end = payload.find(b'":', first, first + 200)
    head = payload[first : key_end + 2] if key_end > 0 else b""
    if not head.startswith(b'{"') or b"\\" in head or b'"' in head[2:-2]:
        return None
    return _slices(payload, first, b"}," + head)


def _skip_whitespace(payload: bytes, index: int) -> int:
    while index < len(payload) and payload[index] in _WHITESPACE:
        index += 1
    return index


def _slices(
    payload: bytes, start: int, separator: bytes
) -> Iterator[tuple[list[Any], memoryview | None]]:
    body = memoryview(payload)
    while True:
        cut = payload.find(separator, start + DECODE_CHUNK_BYTES)
        for _ in range(_CHUNK_RETRIES):
            if cut < 0:
                break
            try:
                items = orjson.loads(b"".join((b"[", body[start : cut + 1], b"]")))
            except orjson.JSONDecodeError:
                cut = payload.find(separator, cut + 1)  # merge with the next slice
                continue
            rest = body[cut + 2 :]
            yield items, rest
            del items
            start = cut + 2
            break
        else:
            cut = -1
        if cut < 0:
            # The last slice, or no cut worked: the rest at once (raises if it is not JSON).
            yield orjson.loads(b"[" + body[start:]), None
            return


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


# A large seller's sync makes a typed row per card size, FBS level, remains row and order
# (hundreds of thousands): the fields go positionally to constructors that skip the frozen
# __init__ (see core.fast_dataclass); the objects are the same.
_make_card = positional_constructor(Card)
_make_card_size = positional_constructor(CardSize)
_make_fbs_stock = positional_constructor(FbsStock)
_make_remains_row = positional_constructor(RemainsRow)
_make_order = positional_constructor(Order)


def _card(raw: Mapping[str, Any]) -> Card:
    get = raw.get
    return _make_card(
        int(raw["nmID"]),
        int(get("imtID") or 0),
        str(get("vendorCode", "")),
        str(get("brand", "")),
        str(get("title", "")),
        str(get("subjectName", "")),
        tuple(
            _make_card_size(
                int(size["chrtID"]),
                str(size.get("techSize", "")),
                str(size.get("wbSize", "")),
                tuple(str(sku) for sku in size.get("skus") or ()),
            )
            for size in get("sizes") or ()
        ),
    )


# `shared` gives one object per distinct value within a body (sizes, brands, warehouse names,
# (warehouse, quantity) pairs): a large seller's rows repeat them hundreds of thousands of times.


def _remains_row(raw: Mapping[str, Any], shared: dict[Any, Any]) -> RemainsRow:
    get = raw.get
    share = shared.setdefault
    pairs = []
    for w in get("warehouses") or ():
        pair = (share(name := str(w["warehouseName"]), name), int(w["quantity"]))
        pairs.append(share(pair, pair))
    return _make_remains_row(
        int(raw["nmId"]),
        share(vendor_code := str(get("vendorCode", "")), vendor_code),
        str(get("barcode", "")),
        share(tech_size := str(get("techSize", "")), tech_size),
        share(brand := str(get("brand", "")), brand),
        share(subject := str(get("subjectName", "")), subject),
        tuple(pairs),
    )


def _order(raw: Mapping[str, Any], shared: dict[str, str]) -> Order:
    date = parse_wb_datetime(raw["date"])
    last_change = parse_wb_datetime(raw["lastChangeDate"])
    if date is None or last_change is None:
        raise ValueError("order without date or lastChangeDate")
    get = raw.get
    share = shared.setdefault
    return _make_order(
        str(raw["srid"]),
        date,
        last_change,
        int(raw["nmId"]),
        share(barcode := str(get("barcode", "")), barcode),
        share(tech_size := str(get("techSize", "")), tech_size),
        share(article := str(get("supplierArticle", "")), article),
        share(warehouse := str(get("warehouseName", "")), warehouse),
        share(warehouse_type := str(get("warehouseType", "")), warehouse_type),
        bool(get("isCancel", False)),
        parse_wb_datetime(get("cancelDate")),
        str(get("gNumber", "")),
        float(get("finishedPrice") or 0.0),
    )
