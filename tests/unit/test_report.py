"""The stock report on a hand-computed example, plus properties on random inputs."""

from __future__ import annotations

import gc
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.report import (
    IN_TRANSIT_RETURNS,
    IN_TRANSIT_TO_BUYERS,
    TOTAL_ON_WAREHOUSES,
    OrderCounts,
    OrderGroup,
    ReportBuilder,
    build_report,
    count_orders,
    days_of_cover,
    dedupe_orders,
    moscow_window,
    order_size_key,
    order_warehouse_kind,
    warehouse_figures,
)
from core.stock_report import (
    DataPart,
    LowStockItem,
    ProductSummary,
    ReportTotals,
    StockReport,
    StockRow,
    WarehouseFigures,
    WarehouseKind,
)
from core.wb.models import Card, CardSize, FbsStock, Order, RemainsRow, SellerWarehouse

WB = WarehouseKind.WB
SELLER = WarehouseKind.SELLER
WB_TYPE = "Склад WB"
SELLER_TYPE = "Склад продавца"

# 12:00 UTC+3 in Moscow: the window is [2026-03-03 12:00, 2026-03-10 12:00) Moscow time.
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
WINDOW_START = datetime(2026, 3, 3, 12, 0)
WINDOW_END = datetime(2026, 3, 10, 12, 0)
MY_WAREHOUSE = SellerWarehouse(id=501, name="Мой склад", office_id=1, delivery_type=1)


def card(nm_id: int, vendor_code: str, *sizes: tuple[int, str, str]) -> Card:
    return Card(
        nm_id=nm_id,
        imt_id=nm_id * 10,
        vendor_code=vendor_code,
        brand="Brand",
        title=f"Title {vendor_code}",
        subject="Одежда",
        sizes=tuple(
            CardSize(chrt_id=chrt, tech_size=tech, wb_size=tech, barcodes=(barcode,))
            for chrt, tech, barcode in sizes
        ),
    )


def remains(
    nm_id: int, vendor_code: str, barcode: str, tech_size: str, *warehouses: tuple[str, int]
) -> RemainsRow:
    return RemainsRow(
        nm_id=nm_id,
        vendor_code=vendor_code,
        barcode=barcode,
        tech_size=tech_size,
        brand="Remains brand",
        subject="Remains subject",
        warehouses=warehouses,
    )


def order(
    srid: str,
    date: datetime,
    nm_id: int,
    barcode: str,
    tech_size: str,
    warehouse: str,
    *,
    warehouse_type: str = WB_TYPE,
    is_cancel: bool = False,
    changed: datetime | None = None,
    article: str = "",
) -> Order:
    return Order(
        srid=srid,
        date=date,
        last_change_date=changed or date,
        nm_id=nm_id,
        barcode=barcode,
        tech_size=tech_size,
        supplier_article=article,
        warehouse_name=warehouse,
        warehouse_type=warehouse_type,
        is_cancel=is_cancel,
        cancel_date=changed if is_cancel else None,
    )


def day(d: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, d, hour, 0)


CARDS = [
    card(1001, "A-shirt", (11, "S", "2001"), (12, "M", "2002"), (13, "L", "2003")),
    card(1002, "B-cap", (21, "0", "3001")),
    card(1003, "C-sock", (31, "0", "4001")),
    card(1004, "D-bag", (41, "0", "5001")),
    card(1005, "E-belt", (51, "0", "6001")),
    card(1006, "F-hat", (61, "0", "7001")),
]
REMAINS = [
    remains(
        1001,
        "A-shirt",
        "2001",
        "S",
        ("Подольск 3", 10),
        ("Подольск 4", 4),
        (IN_TRANSIT_TO_BUYERS, 3),
        (IN_TRANSIT_RETURNS, 1),
        (TOTAL_ON_WAREHOUSES, 14),
    ),
    remains(
        1001, "A-shirt", "2002", "M", ("Подольск 3", 2), ("Коледино", 0), (TOTAL_ON_WAREHOUSES, 2)
    ),
    remains(1002, "B-cap", "3001", "0", ("Коледино", 1), (TOTAL_ON_WAREHOUSES, 1)),
    remains(1003, "C-sock", "4001", "0", ("Коледино", 5), (TOTAL_ON_WAREHOUSES, 5)),
    # A product no card describes any more: it still counts.
    RemainsRow(
        nm_id=2001,
        vendor_code="Z-old",
        barcode="9001",
        tech_size="0",
        brand="Old",
        subject="Сумки",
        warehouses=(("Казань", 2), (TOTAL_ON_WAREHOUSES, 2)),
    ),
]
# Size L of A-shirt has FBS stock only; zero amounts give no row.
FBS = [FbsStock(501, 13, 6), FbsStock(501, 12, 0), FbsStock(501, 21, 0)]
ORDERS = [
    order("a1", day(5), 1001, "2001", "S", "Подольск 3"),
    order("a2", day(6), 1001, "2001", "S", "Подольск 3"),
    order("a3", day(7), 1001, "2001", "S", "Подольск 3", is_cancel=True, changed=day(8)),
    order("a4", WINDOW_START, 1001, "2001", "S", "Подольск 4"),  # on the start: counts
    order("a5", WINDOW_END, 1001, "2001", "S", "Коледино"),  # on the end: does not count
    # Placed before the window, cancelled inside it: not counted.
    order(
        "a6", datetime(2026, 2, 20), 1001, "2001", "S", "Подольск 3", is_cancel=True, changed=day(8)
    ),
    # The same srid twice, the later change (a cancellation) wins; listed out of order.
    order("a7", day(8), 1001, "2002", "M", "Электросталь", is_cancel=True, changed=day(9)),
    order("a7", day(8), 1001, "2002", "M", "Электросталь"),
    order("a8", day(9), 1001, "2002", "M", "Электросталь"),
    order("a9", day(9), 1001, "2003", "L", "Мой склад", warehouse_type=SELLER_TYPE),
    order("b1", day(4), 1002, "3001", "0", "Коледино"),
    order("b2", day(5), 1002, "3001", "0", "Коледино"),
    order("b3", day(6), 1002, "3001", "0", "Коледино"),
    order("e1", day(9), 1005, "6001", "0", "Коледино"),
    order("f1", day(8), 1006, "7001", "0", "Казань"),
    order("f2", day(9), 1006, "7001", "0", "Казань"),
]


@pytest.fixture(scope="module")
def report() -> StockReport:
    return build_report(
        cards=CARDS,
        remains=REMAINS,
        seller_warehouses=[MY_WAREHOUSE],
        fbs_stocks=FBS,
        orders=ORDERS,
        now_utc=NOW,
        part_times={DataPart.ORDERS: NOW - timedelta(hours=2)},
    )


def product(report: StockReport, nm_id: int) -> ProductSummary:
    return next(p for p in report.products if p.nm_id == nm_id)


def figures(report: StockReport, nm_id: int) -> tuple[WarehouseFigures, ...]:
    return next(found for p, found in warehouse_figures(report) if p.nm_id == nm_id)


def rows_of(report: StockReport, nm_id: int) -> list[StockRow]:
    return [row for row in report.rows if row.nm_id == nm_id]


def test_window_is_moscow_time_and_report_is_stamped(report: StockReport) -> None:
    assert (report.window_start, report.window_end) == (WINDOW_START, WINDOW_END)
    assert report.generated_at == NOW
    assert report.window_days == 7
    assert report.part_times == {DataPart.ORDERS: NOW - timedelta(hours=2)}


def test_rows_of_a_product_with_fbo_fbs_and_order_only_warehouses(report: StockReport) -> None:
    # S Подольск 3: stock 10, orders a1 a2 a3 = 3, cancelled a3 = 1, net 2 -> 10 * 7 / 2 = 35.0
    # S Подольск 4: stock 4, order a4 = 1 -> 4 * 7 / 1 = 28.0
    # S Коледино: only a5, on the window end -> no row
    # M Подольск 3: stock 2, no orders -> None; M Коледино has quantity 0 -> no row
    # M Электросталь: no stock, a7 (cancelled version) + a8 = 2, cancelled 1 -> 0 * 7 / 1 = 0.0
    # L Мой склад: FBS 6, order a9 = 1 -> 6 * 7 / 1 = 42.0
    assert rows_of(report, 1001) == [
        StockRow(1001, 11, "2001", "S", "Подольск 3", WB, 10, 3, 1, 35.0),
        StockRow(1001, 11, "2001", "S", "Подольск 4", WB, 4, 1, 0, 28.0),
        StockRow(1001, 12, "2002", "M", "Подольск 3", WB, 2, 0, 0, None),
        StockRow(1001, 12, "2002", "M", "Электросталь", WB, 0, 2, 1, 0.0),
        StockRow(1001, 13, "2003", "L", "Мой склад", SELLER, 6, 1, 0, 42.0),
    ]


def test_fbs_stock_kept_for_sizes_without_fbo_stock(report: StockReport) -> None:
    size_l = [row for row in report.rows if row.chrt_id == 13]
    assert [(row.warehouse, row.kind, row.stock) for row in size_l] == [("Мой склад", SELLER, 6)]
    assert product(report, 1001).fbs_units == 6


def test_warehouse_with_orders_and_no_stock_is_visible(report: StockReport) -> None:
    assert [
        (r.nm_id, r.size, r.stock, r.orders) for r in report.rows if r.warehouse == "Электросталь"
    ] == [(1001, "M", 0, 2)]


def test_product_summary_adds_sizes_and_warehouses(report: StockReport) -> None:
    # fbo 10 + 4 + 2 = 16, fbs 6; orders 3 + 1 + 2 + 1 = 7, cancelled 2, net 5
    # -> (16 + 6) * 7 / 5 = 30.8
    # Подольск 3: stock 12, orders 3, cancelled 1 -> 12 * 7 / 2 = 42.0
    assert product(report, 1001) == ProductSummary(
        nm_id=1001,
        vendor_code="A-shirt",
        brand="Brand",
        subject="Одежда",
        title="Title A-shirt",
        sizes=3,
        fbo_units=16,
        fbs_units=6,
        in_transit_to_buyers=3,
        in_transit_returns=1,
        orders=7,
        cancelled=2,
        days_of_cover=30.8,  # 154 / 5, exact in float like the literal
    )
    assert figures(report, 1001) == (
        WarehouseFigures("Подольск 3", WB, 12, 3, 1, 42.0),
        WarehouseFigures("Подольск 4", WB, 4, 1, 0, 28.0),
        WarehouseFigures("Электросталь", WB, 0, 2, 1, 0.0),
        WarehouseFigures("Мой склад", SELLER, 6, 1, 0, 42.0),
    )


def test_cancelled_orders_counted_as_orders_but_not_as_demand(report: StockReport) -> None:
    podolsk_3 = figures(report, 1001)[0]
    # 3 orders, 1 cancelled: demand 2 per 7 days, not 3 -> 12 * 7 / 2 = 42.0 (not 28.0)
    assert (podolsk_3.orders, podolsk_3.cancelled, podolsk_3.days_of_cover) == (3, 1, 42.0)


def test_order_placed_before_window_but_changed_inside_is_not_counted(report: StockReport) -> None:
    # a6 would have made 4 orders and 2 cancellations at S Подольск 3.
    s_podolsk_3 = rows_of(report, 1001)[0]
    assert (s_podolsk_3.orders, s_podolsk_3.cancelled) == (3, 1)


def test_duplicate_srid_rows_count_once_and_the_later_change_wins(report: StockReport) -> None:
    elektrostal = rows_of(report, 1001)[3]
    # a7 once (cancelled, its later state) + a8 = 2 orders, 1 cancelled
    assert (elektrostal.orders, elektrostal.cancelled) == (2, 1)


def test_window_start_is_included_and_window_end_excluded(report: StockReport) -> None:
    size_s = [(row.warehouse, row.orders) for row in rows_of(report, 1001) if row.size == "S"]
    # a4 at the start counts at Подольск 4; a5 at the end would have made a Коледино row.
    assert size_s == [("Подольск 3", 3), ("Подольск 4", 1)]


def test_service_rows_are_in_transit_figures_and_never_warehouses(report: StockReport) -> None:
    service = {IN_TRANSIT_TO_BUYERS, IN_TRANSIT_RETURNS, TOTAL_ON_WAREHOUSES}
    assert not [row for row in report.rows if row.warehouse in service]
    assert not [
        w for _, found in warehouse_figures(report) for w in found if w.warehouse in service
    ]
    shirt = product(report, 1001)
    assert (shirt.in_transit_to_buyers, shirt.in_transit_returns) == (3, 1)


def test_warehouses_with_similar_names_stay_separate(report: StockReport) -> None:
    names = [w.warehouse for w in figures(report, 1001)]
    assert "Подольск 3" in names
    assert "Подольск 4" in names


def test_product_without_sales_has_no_cover_and_is_never_low(report: StockReport) -> None:
    sock = product(report, 1003)
    assert (sock.fbo_units, sock.orders, sock.days_of_cover) == (5, 0, None)
    assert 1003 not in [item.nm_id for item in report.low_stock]


def test_card_without_stock_or_orders_still_appears(report: StockReport) -> None:
    bag = product(report, 1004)
    assert (bag.sizes, bag.total_units, bag.orders, bag.days_of_cover, figures(report, 1004)) == (
        1,
        0,
        0,
        None,
        (),
    )
    assert rows_of(report, 1004) == []


def test_remains_row_of_product_missing_from_cards_still_counts(report: StockReport) -> None:
    assert product(report, 2001) == ProductSummary(
        nm_id=2001,
        vendor_code="Z-old",
        brand="Old",
        subject="Сумки",
        title="",
        sizes=1,
        fbo_units=2,
        fbs_units=0,
        in_transit_to_buyers=0,
        in_transit_returns=0,
        orders=0,
        cancelled=0,
        days_of_cover=None,
    )
    assert figures(report, 2001) == (WarehouseFigures("Казань", WB, 2, 0, 0, None),)
    assert rows_of(report, 2001) == [StockRow(2001, None, "9001", "0", "Казань", WB, 2, 0, 0, None)]


def test_low_stock_sorted_by_days_of_cover_then_vendor_code(report: StockReport) -> None:
    # E-belt: stock 0, 1 order -> 0.0; F-hat: stock 0, 2 orders -> 0.0;
    # B-cap: stock 1, 3 orders -> 1 * 7 / 3 = 2.333...; A-shirt 30.8 is above the threshold 7.
    assert report.low_stock == (
        LowStockItem(1005, "E-belt", 0, 1, 0.0),
        LowStockItem(1006, "F-hat", 0, 2, 0.0),
        LowStockItem(1002, "B-cap", 1, 3, 7 / 3),
    )


def test_products_sorted_by_vendor_code(report: StockReport) -> None:
    assert [p.vendor_code for p in report.products] == [
        "A-shirt",
        "B-cap",
        "C-sock",
        "D-bag",
        "E-belt",
        "F-hat",
        "Z-old",
    ]


def test_totals_of_the_example(report: StockReport) -> None:
    # sizes 3 + 1 + 1 + 1 + 1 + 1 + 1 (Z-old) = 9; fbo 16 + 1 + 5 + 2 = 24; fbs 6;
    # orders 7 (A) + 3 (B) + 1 (E) + 2 (F) = 13; cancelled 2
    assert report.totals == ReportTotals(
        products=7,
        sizes=9,
        fbo_units=24,
        fbs_units=6,
        in_transit_to_buyers=3,
        in_transit_returns=1,
        orders=13,
        cancelled=2,
    )
    assert len(report.rows) == 10


def _build(
    *,
    cards: list[Card] | None = None,
    remains: list[RemainsRow] | None = None,
    fbs: list[FbsStock] | None = None,
    orders: list[Order] | None = None,
) -> StockReport:
    return build_report(
        cards=cards or [],
        remains=remains or [],
        seller_warehouses=[MY_WAREHOUSE],
        fbs_stocks=fbs or [],
        orders=orders or [],
        now_utc=NOW,
    )


def test_remains_row_with_unknown_barcode_maps_to_card_size_by_tech_size() -> None:
    built = _build(
        cards=[card(1, "X", (11, "S", "111"))],
        remains=[remains(1, "X", "old-barcode", "S", ("Коледино", 3))],
    )
    assert [(r.chrt_id, r.barcode, r.size, r.stock) for r in built.rows] == [(11, "111", "S", 3)]
    assert built.totals.sizes == 1


def test_a_barcode_on_two_products_cards_is_each_products_own_size() -> None:
    """WB reused a barcode: each product's stock and orders go to its own card size with it,
    read as build_report reads them and as the sync does (by size key, a warehouse at a
    time); within one product the first size with the barcode takes them."""
    cards = [
        card(1, "A", (11, "S", "777")),
        card(2, "B", (21, "M", "777"), (22, "L", "777")),
    ]
    stock = [
        remains(2, "B", "777", "M", ("Коледино", 4)),
        remains(1, "A", "777", "S", ("Казань", 2)),
    ]
    orders = [
        order("o1", day(8), 2, "777", "L", "Казань"),
        order("o2", day(8), 1, "777", "S", "Казань"),
        order("o3", day(9), 2, "777", "M", "Коледино", is_cancel=True),
    ]
    expected = [
        (1, 11, "S", "Казань", 2, 1, 0),
        (2, 21, "M", "Казань", 0, 1, 0),
        (2, 21, "M", "Коледино", 4, 1, 1),
    ]
    built = _build(cards=cards, remains=stock, orders=orders)
    assert [
        (r.nm_id, r.chrt_id, r.size, r.warehouse, r.stock, r.orders, r.cancelled)
        for r in built.rows
    ] == expected
    assert built.totals.sizes == 3
    builder = _builder(cards, stock, [])
    for warehouse_orders in _by_warehouse(_groups_of_one(orders)):
        builder.add_warehouse_orders((WINDOW_START, WINDOW_END), *warehouse_orders)
    assert not builder.unmatched_barcodes
    assert builder.finish() == built


def test_order_of_a_size_missing_from_cards_keeps_its_own_size() -> None:
    built = _build(
        cards=[card(1, "X", (11, "S", "111"))],
        orders=[order("o1", day(9), 1, "999", "XXL", "Коледино")],
    )
    assert [(r.chrt_id, r.barcode, r.size, r.orders) for r in built.rows] == [
        (None, "999", "XXL", 1)
    ]
    assert built.totals.sizes == 2  # the card's S and the ordered XXL


def test_order_at_a_seller_warehouse_name_is_seller_whatever_its_type() -> None:
    built = _build(
        cards=[card(1, "X", (11, "S", "111"))],
        fbs=[FbsStock(501, 11, 4)],
        orders=[order("o1", day(9), 1, "111", "S", "Мой склад", warehouse_type=WB_TYPE)],
    )
    assert [(r.warehouse, r.kind, r.stock, r.orders) for r in built.rows] == [
        ("Мой склад", SELLER, 4, 1)
    ]


def test_same_name_at_wb_and_seller_stays_two_rows_wb_first() -> None:
    built = _build(
        cards=[card(1, "X", (11, "S", "111"))],
        remains=[remains(1, "X", "111", "S", ("Мой склад", 1))],
        fbs=[FbsStock(501, 11, 2)],
    )
    assert [(r.kind, r.stock) for r in built.rows] == [(WB, 1), (SELLER, 2)]
    assert (built.totals.fbo_units, built.totals.fbs_units) == (1, 2)


def test_fbs_stock_of_unknown_seller_warehouse_is_kept_under_its_id() -> None:
    built = _build(cards=[card(1, "X", (11, "S", "111"))], fbs=[FbsStock(777, 11, 3)])
    assert [(r.warehouse, r.kind, r.stock) for r in built.rows] == [("#777", SELLER, 3)]


def test_repeated_fbs_reading_replaces_the_earlier_one() -> None:
    built = _build(
        cards=[card(1, "X", (11, "S", "111"))], fbs=[FbsStock(501, 11, 3), FbsStock(501, 11, 5)]
    )
    assert built.totals.fbs_units == 5


def test_an_fbs_reading_of_nothing_replaces_the_earlier_stock() -> None:
    built = _build(
        cards=[card(1, "X", (11, "S", "111"), (12, "M", "112"))],
        fbs=[FbsStock(501, 11, 3), FbsStock(501, 12, 2), FbsStock(501, 11, 0)],
    )
    assert [(r.size, r.warehouse, r.stock) for r in built.rows] == [("M", "Мой склад", 2)]


def test_repeated_fbs_readings_at_two_warehouses_of_one_name_add_up() -> None:
    """Levels are per warehouse id: the last reading of each, summed under the shared name."""
    twin = SellerWarehouse(id=502, name=MY_WAREHOUSE.name, office_id=2, delivery_type=1)
    built = build_report(
        cards=[card(1, "X", (11, "S", "111"))],
        remains=[],
        seller_warehouses=[MY_WAREHOUSE, twin],
        fbs_stocks=[
            FbsStock(501, 11, 3),
            FbsStock(502, 11, 4),
            FbsStock(501, 11, 5),
            FbsStock(502, 11, 0),  # the twin's stock ran out
            FbsStock(502, 11, 2),
            FbsStock(501, 11, 1),
        ],
        orders=[],
        now_utc=NOW,
    )
    assert [(r.warehouse, r.stock) for r in built.rows] == [(MY_WAREHOUSE.name, 3)]


def test_a_size_listed_twice_on_its_card_is_one_size() -> None:
    built = _build(
        cards=[
            card(1, "X", (11, "S", "111"), (12, "M", "112"), (11, "S", "111")),
            # Two sizes of one tech size stay two; only the exact repeat goes.
            card(2, "Y", (21, "M", "211"), (22, "M", "212"), (22, "M", "212")),
        ],
        remains=[
            remains(1, "X", "111", "S", ("Коледино", 3)),
            remains(2, "Y", "212", "M", ("Коледино", 4)),
        ],
    )
    assert [(r.nm_id, r.chrt_id, r.stock) for r in built.rows] == [(1, 11, 3), (2, 22, 4)]
    assert [p.sizes for p in built.products] == [2, 2]


def test_a_product_listed_twice_is_described_by_its_first_card() -> None:
    built = _build(
        cards=[
            card(2, "Z-later", (21, "S", "211")),
            card(1, "Y-first", (11, "S", "111")),
            card(1, "A-again", (12, "M", "112")),
        ],
        remains=[remains(1, "?", "111", "S", ("Коледино", 3))],
    )
    assert [(p.nm_id, p.vendor_code, p.sizes) for p in built.products] == [
        (1, "Y-first", 1),
        (2, "Z-later", 1),
    ]
    assert [(r.nm_id, r.chrt_id, r.stock) for r in built.rows] == [(1, 11, 3)]


def test_sizes_the_cards_lack_follow_the_card_sizes_by_name_after_a_size_listed_twice() -> None:
    built = _build(
        cards=[card(1, "X", (11, "S", "111"), (12, "M", "112"), (11, "S", "111"))],
        orders=[
            order("o1", day(8), 1, "901", "XL", "Коледино"),
            order("o2", day(8), 1, "902", "A", "Коледино"),
            order("o3", day(8), 1, "112", "M", "Коледино"),
        ],
    )
    assert [r.size for r in built.rows] == ["M", "A", "XL"]
    assert built.products[0].sizes == 4


def test_moscow_window_converts_utc_to_naive_moscow_time() -> None:
    assert moscow_window(datetime(2026, 1, 1, 22, 30, tzinfo=UTC), 7) == (
        datetime(2025, 12, 26, 1, 30),
        datetime(2026, 1, 2, 1, 30),
    )


def test_moscow_window_refuses_naive_time() -> None:
    with pytest.raises(ValueError):
        moscow_window(datetime(2026, 1, 1), 7)


def test_days_of_cover_uses_net_demand_and_none_without_sales() -> None:
    assert days_of_cover(10, 3, 1, 7) == 35.0  # 10 / (2 / 7)
    assert days_of_cover(0, 2, 0, 7) == 0.0
    assert days_of_cover(10, 0, 0, 7) is None
    assert days_of_cover(10, 2, 2, 7) is None


def test_counts_of_the_window_give_the_report_the_orders_give(report: StockReport) -> None:
    counts = count_orders(ORDERS, WINDOW_START, WINDOW_END)
    assert counts.counts[1001, "2001", "S", "", "Подольск 3", False, False] == 2
    assert counts.counts[1001, "2001", "S", "", "Подольск 3", False, True] == 1
    assert counts.counts[1001, "2002", "M", "", "Электросталь", False, True] == 1  # a7 once
    assert sum(counts.counts.values()) == report.totals.orders
    from_counts = build_report(
        cards=CARDS,
        remains=REMAINS,
        seller_warehouses=[MY_WAREHOUSE],
        fbs_stocks=FBS,
        orders=counts,
        now_utc=NOW,
        part_times={DataPart.ORDERS: NOW - timedelta(hours=2)},
    )
    assert from_counts == report


def test_counts_of_another_window_are_refused() -> None:
    counts = OrderCounts(WINDOW_START + timedelta(seconds=1), WINDOW_END, {})
    with pytest.raises(ValueError, match="another window"):
        build_report(
            cards=CARDS, remains=[], seller_warehouses=[], fbs_stocks=[], orders=counts, now_utc=NOW
        )


def test_building_leaves_garbage_collection_as_it_found_it() -> None:
    def build() -> None:
        build_report(
            cards=CARDS,
            remains=REMAINS,
            seller_warehouses=[],
            fbs_stocks=FBS,
            orders=ORDERS,
            now_utc=NOW,
        )

    assert gc.isenabled()
    build()
    assert gc.isenabled()
    gc.disable()
    try:
        build()
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(AttributeError):  # a failure inside the build
        build_report(
            cards=CARDS,
            remains=[None],  # type: ignore[list-item]
            seller_warehouses=[],
            fbs_stocks=[],
            orders=[],
            now_utc=NOW,
        )
    assert gc.isenabled()


def test_dedupe_orders_keeps_latest_change() -> None:
    first = order("x", day(5), 1, "1", "S", "Коледино")
    cancelled = order("x", day(5), 1, "1", "S", "Коледино", is_cancel=True, changed=day(6))
    assert dedupe_orders([cancelled, first]) == {"x": cancelled}
    assert dedupe_orders([first, cancelled]) == {"x": cancelled}


def test_order_warehouse_kind_by_type_or_exact_seller_name() -> None:
    names = frozenset({"Мой склад"})
    assert order_warehouse_kind(order("o", day(5), 1, "1", "S", "Мой склад"), names) is SELLER
    by_type = order("o", day(5), 1, "1", "S", "Другой", warehouse_type=SELLER_TYPE)
    assert order_warehouse_kind(by_type, names) is SELLER
    # No guessing from the name: "Мой склад 2" is not "Мой склад".
    assert order_warehouse_kind(order("o", day(5), 1, "1", "S", "Мой склад 2"), names) is WB


def _groups_of_one(orders: list[Order]) -> list[OrderGroup]:
    """The window's orders one row each (n = 1), as SQLite streams them to the sync."""
    return [
        (
            o.nm_id,
            o.barcode,
            o.tech_size,
            o.supplier_article,
            o.warehouse_name,
            o.warehouse_type == SELLER_TYPE,
            o.is_cancel,
            1,
        )
        for o in dedupe_orders(orders).values()
        if WINDOW_START <= o.date < WINDOW_END
    ]


def _by_warehouse(groups: list[OrderGroup]) -> list[tuple[str, bool, bool, list[str]]]:
    """The groups' orders as the sync reads them first: a (warehouse, seller type,
    cancellation) at a time, each order as its size key (core.snapshot_store.warehouse_orders)."""
    keys: dict[tuple[str, bool, bool], list[str]] = {}
    for nm_id, barcode, _, _, name, seller_type, is_cancel, n in groups:
        keys.setdefault((name, seller_type, is_cancel), []).extend(
            [order_size_key(barcode, nm_id)] * n
        )
    return [(*place, place_keys) for place, place_keys in keys.items()]


def _builder(
    cards: list[Card], remains_rows: list[RemainsRow], fbs: list[FbsStock]
) -> ReportBuilder:
    return ReportBuilder(
        cards=cards,
        remains=remains_rows,
        seller_warehouses=[MY_WAREHOUSE],
        fbs_stocks=fbs,
        now_utc=NOW,
    )


def test_builder_in_steps_gives_the_report_of_build_report(report: StockReport) -> None:
    """Inputs let go of once placed, orders one row each in partitions: the same report."""
    cards, remains_rows, fbs = list(CARDS), list(REMAINS), list(FBS)
    builder = _builder(cards, remains_rows, fbs)
    for placed in (cards, remains_rows, fbs):
        placed.clear()  # the sync lets go of them here
    groups = _groups_of_one(ORDERS)
    assert len(groups) == report.totals.orders
    for start in range(0, len(groups), 3):
        builder.add_orders((WINDOW_START, WINDOW_END), groups[start : start + 3])
    built = builder.finish(part_times={DataPart.ORDERS: NOW - timedelta(hours=2)})
    assert built == report
    with pytest.raises(RuntimeError, match="already built"):
        builder.finish()
    with pytest.raises(RuntimeError, match="already built"):
        builder.add_orders((WINDOW_START, WINDOW_END), [])


def test_builder_refuses_orders_of_another_window() -> None:
    builder = _builder(list(CARDS), [], [])
    other = (WINDOW_START, WINDOW_END + timedelta(seconds=1))
    with pytest.raises(ValueError, match="another window"):
        builder.add_orders(other, [])
    with pytest.raises(ValueError, match="another window"):
        builder.add_warehouse_orders(other, "Коледино", False, False, [])
    with pytest.raises(ValueError, match="another window"):
        builder.add_unmatched_orders(other, [])
    builder.finish()
    with pytest.raises(RuntimeError, match="already built"):
        builder.add_warehouse_orders((WINDOW_START, WINDOW_END), "Коледино", False, False, [])
    with pytest.raises(RuntimeError, match="already built"):
        builder.add_unmatched_orders((WINDOW_START, WINDOW_END), [])


@pytest.mark.parametrize("reverse", [False, True])
def test_a_size_of_its_own_shows_its_least_barcode_whatever_the_order(reverse: bool) -> None:
    """Two barcodes no card has, one product and tech size: one size, whichever comes first."""
    orders = [
        order("o1", day(8), 1, "999", "XXL", "Коледино"),
        order("o2", day(9), 1, "555", "XXL", "Коледино"),
        order("o3", day(9), 1, "777", "XXL", "Казань"),
    ]
    built = _build(
        cards=[card(1, "X", (11, "S", "111"))],
        remains=[remains(1, "X", "888", "XXL", ("Казань", 2))],
        orders=orders[::-1] if reverse else orders,
    )
    assert [(r.barcode, r.size, r.warehouse, r.stock, r.orders) for r in built.rows] == [
        ("555", "XXL", "Казань", 2, 1),
        ("555", "XXL", "Коледино", 0, 2),
    ]


def test_packed_figures_stay_exact_for_large_counts_and_stock() -> None:
    """A size's figures at a warehouse share one integer: counts far past the small ones,
    and a stock past any 64-bit field, come back exact."""
    window = (WINDOW_START, WINDOW_END)
    builder = ReportBuilder(
        cards=[card(1, "X", (11, "S", "111"))],
        remains=[remains(1, "X", "111", "S", ("Коледино", 10**15), ("Казань", 7))],
        seller_warehouses=[MY_WAREHOUSE],
        fbs_stocks=[FbsStock(501, 11, 2**40)],
        now_utc=NOW,
    )
    builder.add_orders(
        window,
        [
            (1, "111", "S", "X", "Коледино", False, False, 2**29),
            (1, "111", "S", "X", "Коледино", False, True, 2**29 - 1),
            (1, "111", "S", "X", "Казань", False, False, 1),
            (1, "111", "S", "X", "Мой склад", True, True, 299),
        ],
    )
    builder.add_warehouse_orders(window, "Мой склад", True, True, [order_size_key("111", 1)])
    assert [(r.warehouse, r.stock, r.orders, r.cancelled) for r in builder.finish().rows] == [
        ("Казань", 7, 1, 0),
        ("Коледино", 10**15, 2**30 - 1, 2**29 - 1),
        ("Мой склад", 2**40, 300, 300),
    ]


def test_stock_levels_on_either_side_of_the_shared_ones_add_up_exactly() -> None:
    """Levels below 1,024 units are shared objects, the others computed: sums of either
    kind, and orders added to them, come back exact."""
    window = (WINDOW_START, WINDOW_END)
    builder = ReportBuilder(
        cards=[card(1, "X", (11, "S", "111"), (12, "M", "112"))],
        remains=[
            remains(1, "X", "111", "S", ("Коледино", 1023), ("Казань", 1024), ("Тула", 1)),
            remains(1, "X", "111", "S", ("Коледино", 1), ("Казань", 1023), ("Тула", 1)),
            remains(1, "X", "112", "M", ("Коледино", 1023)),
        ],
        seller_warehouses=[MY_WAREHOUSE],
        fbs_stocks=[FbsStock(501, 11, 1023), FbsStock(501, 12, 1024)],
        now_utc=NOW,
    )
    builder.add_warehouse_orders(
        window, "Коледино", False, False, [order_size_key("111", 1), order_size_key("112", 1)]
    )
    builder.add_warehouse_orders(window, "Мой склад", True, True, [order_size_key("112", 1)])
    rows = builder.finish().rows
    assert [(r.barcode, r.warehouse, r.stock, r.orders, r.cancelled) for r in rows] == [
        ("111", "Казань", 2047, 0, 0),
        ("111", "Коледино", 1024, 1, 0),
        ("111", "Тула", 2, 0, 0),
        ("112", "Коледино", 1023, 1, 0),
        ("111", "Мой склад", 1023, 0, 0),
        ("112", "Мой склад", 1024, 1, 1),
    ]


def test_orders_read_by_warehouse_then_described_give_the_report_of_build_report(
    report: StockReport,
) -> None:
    """The sync's two reads: every order as its size key, a warehouse at a time, then the full
    groups of the barcodes no card size of their product has (given all of them here: those
    already added are skipped)."""
    window = (WINDOW_START, WINDOW_END)
    extra = [  # 2003 is a card's barcode, but of product 1001: not a size of 1002
        order("x1", day(9), 1002, "2003", "L", "Казань", article="B-cap"),
        order("x2", day(9), 1009, "8001", "0", "Казань", article="Z-new"),
    ]
    expected = build_report(
        cards=CARDS,
        remains=REMAINS,
        seller_warehouses=[MY_WAREHOUSE],
        fbs_stocks=FBS,
        orders=ORDERS + extra,
        now_utc=NOW,
    )
    builder = _builder(list(CARDS), list(REMAINS), list(FBS))
    groups = _groups_of_one(ORDERS + extra)
    for warehouse_orders in _by_warehouse(groups):
        builder.add_warehouse_orders(window, *warehouse_orders)
    assert builder.unmatched_barcodes == {"2003", "8001"}
    builder.add_unmatched_orders(window, groups)
    built = builder.finish()
    assert built == expected
    assert built.totals.orders == report.totals.orders + 2


_WAREHOUSES = ["Коледино", "Подольск 3", "Подольск 4", "Мой склад"]
_SERVICE_ROWS = [IN_TRANSIT_TO_BUYERS, IN_TRANSIT_RETURNS, TOTAL_ON_WAREHOUSES]
_TECH_SIZES = ["S", "M", "0"]


@st.composite
def _inputs(
    draw: st.DrawFn,
) -> tuple[list[Card], list[RemainsRow], list[FbsStock], list[Order]]:
    nm_ids = draw(st.lists(st.integers(1, 6), max_size=4, unique=True))
    cards = [
        card(
            nm, f"V{nm % 3}", *[(nm * 10 + i, tech, f"{nm}-{tech}") for i, tech in enumerate(sizes)]
        )
        for nm in nm_ids
        for sizes in [draw(st.lists(st.sampled_from(_TECH_SIZES), max_size=3, unique=True))]
    ]
    known = st.integers(1, 8)  # 7 and 8 are never in the cards
    sizes = st.sampled_from([*_TECH_SIZES, "XL"])
    quantity = st.integers(0, 5)
    remains_rows = draw(
        st.lists(
            st.builds(
                lambda nm, tech, entries: remains(nm, f"R{nm}", f"{nm}-{tech}", tech, *entries),
                known,
                sizes,
                st.lists(
                    st.tuples(
                        st.sampled_from(_WAREHOUSES + _SERVICE_ROWS),
                        quantity,
                    ),
                    max_size=4,
                ),
            ),
            max_size=6,
        )
    )
    fbs = draw(
        st.lists(st.builds(FbsStock, st.sampled_from([501, 502]), st.integers(10, 70), quantity))
    )
    orders = draw(
        st.lists(
            st.builds(
                lambda srid, nm, tech, warehouse, days, cancel: order(
                    str(srid),
                    WINDOW_END - timedelta(days=days),
                    nm,
                    f"{nm}-{tech}",
                    tech,
                    warehouse,
                    is_cancel=cancel,
                ),
                st.integers(0, 15),
                known,
                sizes,
                st.sampled_from(_WAREHOUSES),
                st.floats(0, 9),
                st.booleans(),
            ),
            max_size=15,
        )
    )
    return cards, remains_rows, fbs, orders


@settings(max_examples=200, deadline=None)
@given(_inputs())
def test_totals_are_sums_and_cover_is_never_zero_with_stock(
    inputs: tuple[list[Card], list[RemainsRow], list[FbsStock], list[Order]],
) -> None:
    cards, remains_rows, fbs, orders = inputs
    built = _build(cards=cards, remains=remains_rows, fbs=fbs, orders=orders)
    totals, products, rows = built.totals, built.products, built.rows
    assert totals.products == len(products) == len({p.nm_id for p in products})
    assert totals.sizes == sum(p.sizes for p in products)
    assert totals.fbo_units == sum(p.fbo_units for p in products)
    assert totals.fbo_units == sum(r.stock for r in rows if r.kind is WB)
    assert totals.fbs_units == sum(p.fbs_units for p in products)
    assert totals.fbs_units == sum(r.stock for r in rows if r.kind is SELLER)
    assert totals.orders == sum(p.orders for p in products) == sum(r.orders for r in rows)
    assert totals.cancelled == sum(p.cancelled for p in products) == sum(r.cancelled for r in rows)
    assert totals.in_transit_to_buyers == sum(p.in_transit_to_buyers for p in products)
    assert totals.in_transit_returns == sum(p.in_transit_returns for p in products)
    for p, found in warehouse_figures(built):
        assert p.total_units == sum(w.stock for w in found)
        assert p.orders == sum(w.orders for w in found)
        if p.total_units > 0:
            assert p.days_of_cover != 0
        if p.orders == p.cancelled:
            assert p.days_of_cover is None
    for r in rows:
        assert r.stock > 0 or r.orders > 0
        assert r.warehouse not in _SERVICE_ROWS
        if r.stock > 0:
            assert r.days_of_cover != 0
    assert all(item.days_of_cover < built.low_stock_threshold for item in built.low_stock)
    assert [i.days_of_cover for i in built.low_stock] == sorted(
        i.days_of_cover for i in built.low_stock
    )


@settings(max_examples=100, deadline=None)
@given(_inputs())
def test_orders_added_one_row_at_a_time_give_the_report_of_their_counts(
    inputs: tuple[list[Card], list[RemainsRow], list[FbsStock], list[Order]],
) -> None:
    cards, remains_rows, fbs, orders = inputs
    expected = _build(cards=cards, remains=remains_rows, fbs=fbs, orders=orders)
    builder = _builder(list(cards), list(remains_rows), list(fbs))
    for group in _groups_of_one(orders):
        builder.add_orders((WINDOW_START, WINDOW_END), [group])
    assert builder.finish() == expected


@settings(max_examples=100, deadline=None)
@given(_inputs(), st.randoms(use_true_random=False))
def test_orders_read_by_warehouse_in_any_order_give_the_report_of_their_counts(
    inputs: tuple[list[Card], list[RemainsRow], list[FbsStock], list[Order]],
    shuffler: random.Random,
) -> None:
    cards, remains_rows, fbs, orders = inputs
    expected = _build(cards=cards, remains=remains_rows, fbs=fbs, orders=orders)
    window = (WINDOW_START, WINDOW_END)
    builder = _builder(list(cards), list(remains_rows), list(fbs))
    groups = _groups_of_one(orders)
    shuffler.shuffle(groups)
    by_warehouse = _by_warehouse(groups)
    shuffler.shuffle(by_warehouse)
    for warehouse_orders in by_warehouse:
        builder.add_warehouse_orders(window, *warehouse_orders)
    card_sizes = {(c.nm_id, b) for c in cards for size in c.sizes for b in size.barcodes}
    assert builder.unmatched_barcodes == {g[1] for g in groups if (g[0], g[1]) not in card_sizes}
    shuffler.shuffle(groups)
    builder.add_unmatched_orders(window, groups)
    assert builder.finish() == expected


def test_warehouse_figures_need_each_products_rows_together(report: StockReport) -> None:
    rows = report.rows
    first = rows[0].nm_id
    apart = next(i for i, row in enumerate(rows) if row.nm_id != first)
    # The first product's first row moved behind another product's rows.
    shuffled = replace(report, rows=(*rows[1 : apart + 1], rows[0], *rows[apart + 1 :]))
    with pytest.raises(ValueError, match=f"product {first}"):
        list(warehouse_figures(shuffled))
    # A product with no rows has no figures; every product is listed once, in order.
    listed = [(p.nm_id, found) for p, found in warehouse_figures(report)]
    assert [nm_id for nm_id, _ in listed] == [p.nm_id for p in report.products]
    assert dict(listed)[1004] == ()
