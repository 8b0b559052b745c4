"""The sizes the benchmarks run at: `full` (the issue's figures) and `tiny` (a CI smoke run)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class SellerShape:
    """Arguments of tests.fakes.wb_data.generate_seller (besides seed and now)."""

    products: int
    max_sizes: int
    wb_warehouses: int
    seller_warehouses: int
    orders: int
    days: int = 30

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Size:
    name: str
    large_seller: SellerShape
    orders_page_rows: int
    # The orders window of the large-seller runs: 7 is the product's default (the first sync
    # reads the last 7 days of changes); 30 makes the sync read and count every order.
    large_windows: tuple[int, ...]
    sellers: int  # syncing at once in the responsiveness run
    small_seller: SellerShape
    status_chats: int
    status_interval: float  # seconds between two /status commands (over all chats)
    tenants: int  # with schedules, in the scale run
    idle_seconds: float  # how long the scheduler's idle CPU is measured


FULL = Size(
    name="full",
    large_seller=SellerShape(
        products=20_000, max_sizes=6, wb_warehouses=60, seller_warehouses=2, orders=500_000
    ),
    orders_page_rows=80_000,
    large_windows=(7, 30),
    sellers=50,
    small_seller=SellerShape(
        products=1_000, max_sizes=4, wb_warehouses=20, seller_warehouses=2, orders=10_000
    ),
    status_chats=20,
    status_interval=0.05,
    tenants=10_000,
    idle_seconds=20.0,
)

TINY = Size(
    name="tiny",
    large_seller=SellerShape(
        products=200, max_sizes=6, wb_warehouses=10, seller_warehouses=2, orders=3_000
    ),
    orders_page_rows=500,
    large_windows=(30,),
    sellers=3,
    small_seller=SellerShape(
        products=30, max_sizes=3, wb_warehouses=5, seller_warehouses=1, orders=200
    ),
    status_chats=3,
    status_interval=0.05,
    tenants=200,
    idle_seconds=1.0,
)

SIZES = {size.name: size for size in (FULL, TINY)}
