"""The WB fake (tests/fakes/wb.py) in a process of its own, with its limits off.

`python -m benchmarks.wb_server '<json config>'` generates the sellers, starts the fake and a
small control server, prints one JSON line ({"url", "control", "sellers"}) and serves until
its stdin closes. Keeping the fake out of the measured process keeps its half a gigabyte of
generated data and its JSON encoding out of the figures, as WB's own work would be.

Control endpoints: GET /calls?since=N (requests by method since the N-th), GET /minimum
(the fewest calls paging allows for one full sync), GET /truth (the seller's ground truth).
"""

from __future__ import annotations

import asyncio
import bisect
import math
import sys
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import orjson
from aiohttp import web

from benchmarks.fake_process import serve_control
from tests.fakes.wb import FakeWB
from tests.fakes.wb_data import SellerData, generate_seller, msk_naive

CARDS_PAGE = 100  # core.wb.client.CARDS_PAGE: WB's largest page
FBS_CHUNK = 1000  # core.wb.client.FBS_CHUNK: WB's largest chrtIds list


def minimum_calls(
    seller: SellerData, orders_keys: list[str], date_from: str, page_rows: int
) -> dict[str, int]:
    """The fewest WB calls one full sync can make, given how each method pages.

    Cards: the cursor has no "last page" flag, so a full page always costs one more call (an
    empty or short page ends it). FBS stock: one call per active seller warehouse and chunk of
    chrtIds. The remains report: create, one status poll, download. Orders: pages of up to
    `page_rows` rows from the cursor; a full page needs one more call (WB repeats rows whose
    lastChangeDate equals the cursor, which is counted here as WB does).
    """
    cards = len(seller.cards) // CARDS_PAGE + 1
    sizes = len(seller.chrt_ids())
    active = len(seller.active_warehouse_ids())
    fbs = active * math.ceil(sizes / FBS_CHUNK) if sizes else 0
    cursor = msk_naive(datetime.fromisoformat(date_from)).isoformat(timespec="seconds")
    orders = 0
    while True:
        start = bisect.bisect_left(orders_keys, cursor)
        page = orders_keys[start : start + page_rows]
        orders += 1
        if len(page) < page_rows or page[-1] <= cursor:
            break
        cursor = page[-1]
    return {
        "cards_list": cards,
        "warehouses": 1,
        "fbs_stocks": fbs,
        "remains_create": 1,
        "remains_status": 1,
        "remains_download": 1,
        "orders": orders,
    }


def _next_second(moment: datetime) -> datetime:
    """WB's dates have whole seconds: a window edge inside a second means the next one."""
    if moment.microsecond:
        return moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment


def truth(seller: SellerData, window_start: str, window_end: str) -> dict[str, Any]:
    placed, cancelled = seller.truth_orders(
        _next_second(datetime.fromisoformat(window_start)),
        _next_second(datetime.fromisoformat(window_end)),
    )
    to_buyers, returns = seller.truth_in_transit()
    return {
        "products": seller.truth_products(),
        "sizes": seller.truth_sizes(),
        "fbo_units": seller.truth_fbo_units(),
        "fbs_units": seller.truth_fbs_units(),
        "in_transit_to_buyers": to_buyers,
        "in_transit_returns": returns,
        "orders": placed,
        "cancelled": cancelled,
    }


async def serve(config: dict[str, Any]) -> None:
    now = datetime.fromisoformat(config["now"])
    shape: dict[str, Any] = config["shape"]
    sellers = [generate_seller(seed, now=now, **shape) for seed in config["seeds"]]
    by_id = {seller.seller_id: seller for seller in sellers}
    page_rows = int(config["orders_page_rows"])
    orders_keys = {
        seller.seller_id: sorted(order["lastChangeDate"] for order in seller.orders)
        for seller in sellers
    }
    async with FakeWB(sellers) as wb:
        wb.limits_enabled = False
        wb.orders_page_size = page_rows
        wb.remains_polls_until_done = 0  # done at the first poll: the minimum is 1 poll

        async def calls(request: web.Request) -> web.Response:
            since = int(request.query.get("since", "0"))
            seller_id = request.query.get("seller_id")
            recorded = [r for r in wb.requests[since:] if seller_id in (None, r.token_sid)]
            by_method = Counter(r.method for r in recorded)
            statuses = Counter(str(r.status) for r in recorded)
            body = {"next": len(wb.requests), "by_method": by_method, "statuses": statuses}
            return web.Response(body=orjson.dumps(body), content_type="application/json")

        async def minimum(request: web.Request) -> web.Response:
            seller_id = request.query["seller_id"]
            body = minimum_calls(
                by_id[seller_id], orders_keys[seller_id], request.query["date_from"], page_rows
            )
            return web.Response(body=orjson.dumps(body), content_type="application/json")

        async def ground_truth(request: web.Request) -> web.Response:
            q = request.query
            body = truth(by_id[q["seller_id"]], q["window_start"], q["window_end"])
            return web.Response(body=orjson.dumps(body), content_type="application/json")

        control = web.Application()
        control.router.add_get("/calls", calls)
        control.router.add_get("/minimum", minimum)
        control.router.add_get("/truth", ground_truth)
        described = [
            {
                "seller_id": seller.seller_id,
                "cards": len(seller.cards),
                "sizes": seller.truth_sizes(),
                "orders": len(seller.orders),
            }
            for seller in sellers
        ]
        await serve_control(control, {"url": wb.url, "sellers": described})


def main() -> None:
    asyncio.run(serve(orjson.loads(sys.argv[1])))


if __name__ == "__main__":
    main()
