"""Large WB bodies: parsed off the event loop, into the same rows, with the same errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import orjson
import pytest

from core.wb import client as wb_client
from core.wb.client import WBClient
from core.wb.errors import WBBadResponseError
from core.wb.limits import RateLimiter
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


@pytest.fixture(scope="module")
def seller() -> SellerData:
    # Big enough that the orders page and the remains report exceed OFF_LOOP_BYTES.
    return generate_seller(5, products=3_000, max_sizes=4, orders=3_000, now=NOW)


@pytest.fixture
async def wb(seller: SellerData) -> AsyncIterator[FakeWB]:
    async with FakeWB(seller) as fake:
        fake.limits_enabled = False
        fake.remains_polls_until_done = 0
        yield fake


@pytest.fixture
async def client(wb: FakeWB, seller: SellerData) -> AsyncIterator[WBClient]:
    async with aiohttp.ClientSession() as session:
        yield WBClient(
            session,
            make_token(token_type=3, seller_id=seller.seller_id),
            limiter=RateLimiter(TokenType.PERSONAL, enabled=False),
            base_url=wb.url,
        )


async def test_a_large_orders_page_gives_every_order(
    client: WBClient, wb: FakeWB, seller: SellerData
) -> None:
    orders = await client.orders_page(NOW - timedelta(days=31))
    assert len(orders) == len(seller.orders) == 3_000
    by_srid = {o.srid: o for o in orders}
    assert set(by_srid) == {raw["srid"] for raw in seller.orders}
    for raw in seller.orders[:50]:
        order = by_srid[raw["srid"]]
        assert order.date == datetime.fromisoformat(raw["date"])
        assert order.last_change_date == datetime.fromisoformat(raw["lastChangeDate"])
        assert order.is_cancel is raw["isCancel"]
        assert order.cancel_date == (
            datetime.fromisoformat(raw["cancelDate"]) if raw["isCancel"] else None
        )
        assert (order.nm_id, order.barcode, order.warehouse_name) == (
            raw["nmId"],
            raw["barcode"],
            raw["warehouseName"],
        )
    # The body really was a large one (this test is about that path).
    assert len(orjson.dumps(seller.orders)) > wb_client.OFF_LOOP_BYTES


async def test_a_large_remains_report_gives_every_row(client: WBClient, seller: SellerData) -> None:
    task_id = await client.create_remains_report()
    assert await client.remains_status(task_id) == "done"
    rows = await client.download_remains(task_id)
    assert len(rows) == len(seller.remains_rows())
    assert len(orjson.dumps(seller.remains_rows())) > wb_client.OFF_LOOP_BYTES
    real = sum(q for r in rows for name, q in r.warehouses if name not in SERVICE_ROWS)
    assert real == seller.truth_fbo_units()


async def test_a_bad_row_in_a_large_page_is_a_bad_response(
    client: WBClient, seller: SellerData
) -> None:
    broken = dict(seller.orders[-1])
    del broken["srid"]
    seller.orders.append(broken)
    try:
        with pytest.raises(WBBadResponseError, match="orders: unexpected shape"):
            await client.orders_page(NOW - timedelta(days=31))
    finally:
        seller.orders.pop()
