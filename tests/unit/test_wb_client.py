"""The WB client against the local fake WB API, over loopback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from core.wb.client import Host, WBClient
from core.wb.errors import (
    RateLimitWait,
    WBAuthError,
    WBBadResponseError,
    WBError,
    WBForbiddenError,
    WBUnavailableError,
)
from core.wb.limits import Method, RateLimiter
from core.wb.models import Order
from core.wb.token import TokenType
from tests.fakes.wb import FakeWB, make_token
from tests.fakes.wb_data import (
    IN_TRANSIT_RETURNS,
    IN_TRANSIT_TO_BUYERS,
    TOTAL_ON_WAREHOUSES,
    SellerData,
    generate_seller,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SERVICE_ROWS = {IN_TRANSIT_TO_BUYERS, IN_TRANSIT_RETURNS, TOTAL_ON_WAREHOUSES}


class FakeTime:
    """One clock for the fake server, the limiter and the client's sleep."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def seller() -> SellerData:
    return generate_seller(7, products=250, orders=350, now=NOW)


@pytest.fixture
async def wb(seller: SellerData, clock: FakeTime) -> AsyncIterator[FakeWB]:
    async with FakeWB(seller) as fake:
        fake.clock = clock
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def client_for(
    session: aiohttp.ClientSession,
    wb: FakeWB,
    clock: FakeTime,
    key: str,
    token_type: TokenType = TokenType.PERSONAL,
    *,
    retries: int = 3,
    request_timeout: float = 60.0,
) -> WBClient:
    limiter = RateLimiter(token_type, clock=clock)
    return WBClient(
        session,
        key,
        limiter=limiter,
        base_url=wb.url,
        sleep=clock.sleep,
        retries=retries,
        request_timeout=request_timeout,
    )


def personal_key(seller: SellerData, categories: tuple[int, ...] = (1, 2, 4, 5)) -> str:
    return make_token(token_type=3, seller_id=seller.seller_id, categories=categories)


def base_key(seller: SellerData) -> str:
    return make_token(token_type=1, seller_id=seller.seller_id)


async def test_cards_read_across_pages(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    client = client_for(session, wb, clock, personal_key(seller))
    cards = await client.cards()
    assert len(cards) == seller.truth_products() == 250
    assert {c.nm_id for c in cards} == {c["nmID"] for c in seller.cards}
    assert sum(len(c.sizes) for c in cards) == seller.truth_sizes()
    assert wb.calls("cards_list") == 3
    assert client.calls[Method.CARDS_LIST] == 3
    assert all(r.host == "content-api.wildberries.ru" for r in wb.requests)
    first = seller.cards[0]
    card = next(c for c in cards if c.nm_id == first["nmID"])
    assert card.vendor_code == first["vendorCode"]
    assert card.subject == first["subjectName"]
    assert card.sizes[0].chrt_id == first["sizes"][0]["chrtID"]
    assert card.sizes[0].barcodes == tuple(first["sizes"][0]["skus"])


async def test_fbs_stock_asked_in_chunks_of_at_most_1000(
    session: aiohttp.ClientSession, clock: FakeTime
) -> None:
    big = generate_seller(3, products=900, max_sizes=5, orders=0, now=NOW)
    chrt_ids = big.chrt_ids()[:2500]
    assert len(chrt_ids) == 2500
    warehouse_id = big.seller_warehouses[0]["id"]
    async with FakeWB(big) as wb:
        wb.clock = clock
        client = client_for(session, wb, clock, base_key(big), TokenType.BASE)
        stocks = await client.fbs_stocks(warehouse_id, chrt_ids)
        sizes_sent = [len(r.body["chrtIds"]) for r in wb.requests]
    assert len(sizes_sent) >= 3
    assert max(sizes_sent) <= 1000
    assert sum(sizes_sent) == 2500
    wanted = set(chrt_ids)
    expected = sum(q for (w, c), q in big.fbs_stock.items() if w == warehouse_id and c in wanted)
    assert sum(s.amount for s in stocks) == expected > 0


async def test_seller_warehouses_skip_deleted_ones(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    client = client_for(session, wb, clock, personal_key(seller))
    warehouses = await client.seller_warehouses()
    assert {w.id for w in warehouses} == seller.active_warehouse_ids()
    assert all(w.delivery_type == 1 for w in warehouses)


async def test_remains_report_created_polled_and_downloaded(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    client = client_for(session, wb, clock, personal_key(seller))
    task_id = await client.create_remains_report()
    statuses = [await client.remains_status(task_id)]
    while statuses[-1] != "done":
        statuses.append(await client.remains_status(task_id))
    rows = await client.download_remains(task_id)

    assert statuses == ["new", "processing", "done"]
    assert clock.slept == [5.0, 5.0]  # status polls: one per 5 s for a Personal key
    assert rows
    real = sum(q for r in rows for name, q in r.warehouses if name not in SERVICE_ROWS)
    assert real == seller.truth_fbo_units()
    to_buyers = sum(q for r in rows for name, q in r.warehouses if name == IN_TRANSIT_TO_BUYERS)
    returns = sum(q for r in rows for name, q in r.warehouses if name == IN_TRANSIT_RETURNS)
    assert (to_buyers, returns) == seller.truth_in_transit()
    for row in rows:
        entries = dict(row.warehouses)
        real_row = sum(q for name, q in row.warehouses if name not in SERVICE_ROWS)
        assert entries.get(TOTAL_ON_WAREHOUSES, 0) == real_row
        assert all(q != 0 for _, q in row.warehouses)
    query = wb.requests[0].query
    assert query["groupByNm"] == query["groupBySize"] == query["groupByBarcode"] == "true"


async def test_empty_remains_download_is_no_rows(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    wb.remains_polls_until_done = 0
    wb.remains_download_empty = True
    client = client_for(session, wb, clock, personal_key(seller))
    task_id = await client.create_remains_report()
    assert await client.remains_status(task_id) == "done"
    assert await client.download_remains(task_id) == []


async def test_purged_report_status_reported(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    wb.remains_polls_until_done = 0
    wb.remains_final_status = "purged"
    client = client_for(session, wb, clock, personal_key(seller))
    task_id = await client.create_remains_report()
    assert await client.remains_status(task_id) == "purged"


async def test_orders_paged_until_the_boundary_stops_moving(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    wb.orders_page_size = 100
    client = client_for(session, wb, clock, personal_key(seller))
    window_start = NOW - timedelta(days=7)
    pages = [page async for page in client.orders_since(window_start)]

    by_srid: dict[str, Order] = {}
    for page in pages:
        for order in page:
            by_srid[order.srid] = order
    msk_start = datetime(2026, 11, 20, 15, 0)  # NOW - 7 days, in Moscow time
    expected = {o["srid"] for o in seller.orders if o["lastChangeDate"] >= "2026-11-20T15:00:00"}
    assert set(by_srid) == expected
    late = [o for o in by_srid.values() if o.date < msk_start]
    assert late, "orders placed before the window but changed inside it come back"
    in_window = [o for o in by_srid.values() if msk_start <= o.date < datetime(2026, 11, 27, 15)]
    placed, cancelled = seller.truth_orders(window_start, NOW)
    assert len(in_window) == placed
    assert sum(o.is_cancel for o in in_window) == cancelled
    assert any(o.cancel_date is not None for o in in_window if o.is_cancel)
    assert all(o.cancel_date is None for o in in_window if not o.is_cancel)
    assert wb.requests[0].query == {"dateFrom": "2026-11-20T15:00:00", "flag": "0"}
    assert len(pages) == wb.calls("orders") <= len(expected) // 100 + 2
    assert all(s == 60.0 for s in clock.slept)  # one orders call per minute, Personal


async def test_orders_short_page_ends_paging_early(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    client = client_for(session, wb, clock, personal_key(seller))
    pages = [p async for p in client.orders_since(NOW - timedelta(days=30), short_page=80_000)]
    assert len(pages) == 1
    assert wb.calls("orders") == 1


async def test_key_without_analytics_gets_401_once(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    client = client_for(session, wb, clock, personal_key(seller, categories=(1, 4, 5)))
    with pytest.raises(WBAuthError) as caught:
        await client.create_remains_report()
    assert caught.value.status == 401
    assert caught.value.detail == "token scope not allowed"
    assert wb.calls("remains_create") == 1
    assert clock.slept == []


async def test_base_token_refused_is_forbidden_not_retried(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    wb.base_forbidden = {"orders"}
    client = client_for(session, wb, clock, base_key(seller), TokenType.BASE)
    with pytest.raises(WBForbiddenError) as caught:
        await client.orders_page(NOW)
    assert caught.value.detail == "base token is not allowed"
    assert wb.calls("orders") == 1


async def test_429_waits_exactly_retry_header_then_succeeds(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    key = personal_key(seller)
    other = client_for(session, wb, clock, key)  # another process of the same seller
    await other.orders_page(NOW)
    client = client_for(session, wb, clock, key)
    orders = await client.orders_page(NOW - timedelta(days=1))
    assert orders
    assert [r.status for r in wb.requests] == [200, 429, 200]
    assert clock.slept == [60.0]
    assert client.calls[Method.ORDERS] == 2


async def test_429_beyond_max_wait_raises_rate_limit_wait(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    key = base_key(seller)
    await client_for(session, wb, clock, key, TokenType.BASE).orders_page(NOW)
    client = client_for(session, wb, clock, key, TokenType.BASE)
    with pytest.raises(RateLimitWait) as caught:
        await client.orders_page(NOW)
    assert caught.value.wait_seconds == pytest.approx(10800)
    assert clock.slept == []
    later = client.limiter.next_allowed_at(Method.ORDERS)
    assert later == datetime.fromtimestamp(clock.now + 10800, UTC)


async def test_base_key_second_orders_call_waits_three_hours_without_calling(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    client = client_for(session, wb, clock, base_key(seller), TokenType.BASE)
    await client.orders_page(NOW - timedelta(days=7))
    clock.now += 600
    with pytest.raises(RateLimitWait) as caught:
        await client.orders_page(NOW - timedelta(days=7))
    assert caught.value.method == "orders"
    assert caught.value.wait_seconds == pytest.approx(10800 - 600)
    assert caught.value.retry_at == datetime.fromtimestamp(clock.now + 10800 - 600, UTC)
    assert wb.calls("orders") == 1
    assert clock.slept == []


async def test_two_server_errors_then_success(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    wb.fail_next("warehouses", 500, times=2)
    client = client_for(session, wb, clock, personal_key(seller))
    assert await client.seller_warehouses()
    assert [r.status for r in wb.requests] == [500, 500, 200]
    assert clock.slept == [1.0, 2.0]


async def test_server_errors_beyond_retries_mean_unavailable(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    wb.fail_next("/api/v1/seller-info", 503, times=5)
    client = client_for(session, wb, clock, personal_key(seller), retries=1)
    with pytest.raises(WBUnavailableError):
        await client.seller_info()
    assert wb.calls("seller_info") == 2


async def test_timeout_is_retried(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    wb.fail_next("warehouses", "timeout")
    client = client_for(session, wb, clock, personal_key(seller), request_timeout=0.2)
    assert await client.seller_warehouses()
    assert clock.slept == [1.0]


async def test_malformed_json_is_a_bad_response(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    wb.fail_next("remains_create", "malformed")
    client = client_for(session, wb, clock, personal_key(seller))
    with pytest.raises(WBBadResponseError):
        await client.create_remains_report()


async def test_marketplace_4xx_costs_ten_requests(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    client = client_for(session, wb, clock, personal_key(seller))
    with pytest.raises(WBError) as caught:
        await client.fbs_stocks(424242, [1, 2, 3])
    assert caught.value.status == 404
    tokens = client.limiter.to_state()["buckets"]["fbs_stocks"]["tokens"]
    assert tokens == pytest.approx(10)


async def test_ping_and_seller_info(
    session: aiohttp.ClientSession, wb: FakeWB, clock: FakeTime, seller: SellerData
) -> None:
    client = client_for(session, wb, clock, personal_key(seller))
    for host in Host:
        await client.ping(host)
    info = await client.seller_info()
    assert info["sid"] == seller.seller_id
    assert {r.host for r in wb.requests} == {h.value for h in Host}
    for _ in range(3):
        await client.ping(Host.CONTENT)
    assert clock.slept == [pytest.approx(10.0)]  # 3 per 30 s per host


async def test_fake_rejects_old_skus_body_and_oversized_chunks(
    session: aiohttp.ClientSession, wb: FakeWB, seller: SellerData
) -> None:
    headers = {"Authorization": personal_key(seller), "Host": "marketplace-api.wildberries.ru"}
    url = f"{wb.url}/api/v3/stocks/{seller.seller_warehouses[0]['id']}"
    async with session.post(url, json={"skus": ["1"]}, headers=headers) as response:
        assert response.status == 400
        assert response.content_type == "application/problem+json"
    async with session.post(url, json={"chrtIds": list(range(1001))}, headers=headers) as r:
        assert r.status == 400


async def test_token_never_in_errors_or_logs(
    session: aiohttp.ClientSession,
    wb: FakeWB,
    clock: FakeTime,
    seller: SellerData,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = personal_key(seller, categories=(1, 4, 5))
    client = client_for(session, wb, clock, key, retries=1)
    texts: list[str] = []
    wb.fail_next("orders", 500, times=5)
    wb.fail_next("warehouses", "malformed")
    for call in (
        client.create_remains_report(),
        client.orders_page(NOW),
        client.seller_warehouses(),
    ):
        with pytest.raises(WBError) as caught:
            await call
        texts += [str(caught.value), repr(caught.value), caught.value.detail]
    limited = client_for(session, wb, clock, base_key(seller), TokenType.BASE)
    await limited.seller_info()
    with pytest.raises(RateLimitWait) as wait:
        await limited.seller_info()
    texts.append(str(wait.value))
    texts += [record.getMessage() for record in caplog.records]
    assert caplog.records
    for text in texts:
        assert key not in text
        assert key.split(".")[1] not in text
