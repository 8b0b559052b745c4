"""Build the stock report from WB data: pure functions, no I/O, no clock.

Rules:
- Window: WB's order dates are Moscow local time (naive). The window ends at `now_utc` in
  Europe/Moscow (made naive) and starts `window_days` days earlier; an order counts when
  `window_start <= order.date < window_end`. Orders are deduplicated by `srid`, keeping the row
  with the latest `last_change_date` (a later cancellation wins; on a tie the later row wins).
  An order placed before the window but changed inside it does not count.
- "orders" are orders placed in the window, cancelled ones included (WB cabinet "Заказали");
  "cancelled" are those with `is_cancel`. Days of cover = stock / ((orders - cancelled) /
  window_days); with no net orders it is None ("no sales"), never 0. Nothing is rounded.
- FBO stock comes only from the remains report (WB warehouses), FBS stock only from the
  Marketplace stocks (seller warehouses, named by id from `seller_warehouses`; an unknown id is
  named "#<id>"). Warehouse identity is the exact name; nothing is inferred from names.
- Remains service rows: "В пути до получателей" and "В пути возвраты на склад WB" are in-transit
  figures, "Всего находится на складах" is ignored; every other entry is a WB warehouse.
  Entries with quantity <= 0 give no stock row.
- Sizes: remains rows and orders map to a card size by barcode, else by (nm_id, tech_size);
  otherwise they keep their own size (chrt_id None) and still count, and a product missing
  from the cards is described from the remains row (or the order's article).
- FBS amounts are levels: a repeated (warehouse, chrt_id) reading replaces the earlier one.
  FBS stock of a chrt_id that no card has is dropped: nothing tells which product it is.
- Orders of a warehouse with no stock for the size still make a row (stock 0). An order's
  warehouse is the seller's when its name is a seller warehouse's name or its type is
  "Склад продавца"; otherwise it is a WB warehouse.
- A product's `sizes` = its card sizes plus any other size seen in the remains report or in
  the window's orders; totals are sums over the products.
- Low stock: net demand > 0 and days of cover < threshold (`orders` there are the product's
  orders, cancelled included); sorted by days of cover, then vendor code, then nm_id.
- Products are sorted by vendor code, then nm_id; rows by vendor code, nm_id, size (card order,
  then other sizes by name), WB warehouses before the seller's, warehouse name.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

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
from core.wb.models import Card, FbsStock, Order, RemainsRow, SellerWarehouse

MOSCOW = ZoneInfo("Europe/Moscow")
IN_TRANSIT_TO_BUYERS = "В пути до получателей"
IN_TRANSIT_RETURNS = "В пути возвраты на склад WB"
TOTAL_ON_WAREHOUSES = "Всего находится на складах"
SELLER_WAREHOUSE_TYPE = "Склад продавца"

# (nm_id, chrt_id or None when the size is not in the cards, tech_size)
_SizeKey = tuple[int, int | None, str]
# (nm_id, barcode, tech_size, supplier_article, warehouse_name, warehouse_type, is_cancel)
OrderKey = tuple[int, str, str, str, str, str, bool]


@dataclass(frozen=True, slots=True)
class OrderCounts:
    """The window's orders as build_report needs them: how many per distinct OrderKey.

    Counted once per srid (its latest change), placed in [window_start, window_end) (naive
    Moscow times). Made by `count_orders` from Order rows, or by the database from the stored
    orders (core.snapshot_store.count_orders): a large seller's 500,000 orders then never
    exist as objects.
    """

    window_start: datetime
    window_end: datetime
    counts: Mapping[OrderKey, int]


def moscow_window(now_utc: datetime, window_days: int) -> tuple[datetime, datetime]:
    """Return (window_start, window_end) as naive Moscow local times."""
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must be timezone-aware")
    if window_days < 1:
        raise ValueError("window_days must be at least 1")
    end = now_utc.astimezone(MOSCOW).replace(tzinfo=None)
    return end - timedelta(days=window_days), end


def days_of_cover(stock: int, orders: int, cancelled: int, window_days: int) -> float | None:
    """Days the stock lasts at the window's net daily demand; None when nothing sold."""
    net = orders - cancelled
    if net <= 0:
        return None
    return stock * window_days / net


def dedupe_orders(orders: Iterable[Order]) -> dict[str, Order]:
    """Keep one row per srid: the one with the latest last_change_date (later row on a tie)."""
    latest: dict[str, Order] = {}
    for order in orders:
        previous = latest.get(order.srid)
        if previous is None or order.last_change_date >= previous.last_change_date:
            latest[order.srid] = order
    return latest


def count_orders(
    orders: Iterable[Order], window_start: datetime, window_end: datetime
) -> OrderCounts:
    """Dedupe by srid, keep the orders placed in the window, count them per OrderKey."""
    counts = Counter(
        (
            o.nm_id,
            o.barcode,
            o.tech_size,
            o.supplier_article,
            o.warehouse_name,
            o.warehouse_type,
            o.is_cancel,
        )
        for o in dedupe_orders(orders).values()
        if window_start <= o.date < window_end
    )
    return OrderCounts(window_start, window_end, counts)


def order_warehouse_kind(order: Order, seller_warehouse_names: frozenset[str]) -> WarehouseKind:
    """A seller warehouse by exact name or by WB's warehouse type; otherwise a WB warehouse."""
    return _warehouse_kind(order.warehouse_name, order.warehouse_type, seller_warehouse_names)


def _warehouse_kind(name: str, warehouse_type: str, seller_names: frozenset[str]) -> WarehouseKind:
    if name in seller_names or warehouse_type == SELLER_WAREHOUSE_TYPE:
        return WarehouseKind.SELLER
    return WarehouseKind.WB


class _Catalogue:
    """Lookups from the cards, growing with products and sizes seen only in other data."""

    def __init__(self, cards: Sequence[Card]) -> None:
        # nm_id -> (vendor_code, brand, subject, title)
        self.products: dict[int, tuple[str, str, str, str]] = {}
        # nm_id -> its sizes: the card's in card order, then sizes seen only in other data
        self.sizes: dict[int, list[_SizeKey]] = {}
        self.card_sizes: dict[int, int] = {}
        self.barcodes: dict[_SizeKey, str] = {}
        self.by_barcode: dict[str, _SizeKey] = {}
        self.by_tech_size: dict[tuple[int, str], _SizeKey] = {}
        self.by_chrt: dict[int, _SizeKey] = {}
        for card in cards:
            nm_id = card.nm_id
            if nm_id in self.products:
                continue
            self.products[nm_id] = (card.vendor_code, card.brand, card.subject, card.title)
            self.card_sizes[nm_id] = len(card.sizes)
            keys = self.sizes[nm_id] = []
            for size in card.sizes:
                key: _SizeKey = (nm_id, size.chrt_id, size.tech_size)
                if key in self.barcodes:
                    continue  # a size listed twice must not give its rows twice
                keys.append(key)
                self.barcodes[key] = size.barcodes[0] if size.barcodes else ""
                self.by_chrt.setdefault(size.chrt_id, key)
                self.by_tech_size.setdefault((nm_id, size.tech_size), key)
                for barcode in size.barcodes:
                    self.by_barcode.setdefault(barcode, key)

    def size_of(self, nm_id: int, barcode: str, tech_size: str) -> _SizeKey:
        """The card size by barcode, else by tech size, else a size of its own (chrt_id None)."""
        key = self.by_barcode.get(barcode)
        if key is not None and key[0] == nm_id:
            return key
        key = self.by_tech_size.get((nm_id, tech_size))
        if key is None:
            key = (nm_id, None, tech_size)
            self.by_tech_size[nm_id, tech_size] = key
            self.barcodes[key] = barcode
            self.sizes.setdefault(nm_id, []).append(key)
        return key

    def ordered_sizes(self, nm_id: int) -> list[_SizeKey]:
        sizes = self.sizes.get(nm_id, [])
        on_card = self.card_sizes.get(nm_id, 0)
        if len(sizes) - on_card > 1:
            sizes[on_card:] = sorted(sizes[on_card:], key=lambda size: size[2])
        return sizes


# kind -> size -> warehouse name -> units
_Figures = dict[WarehouseKind, dict[_SizeKey, dict[str, int]]]


def _figures() -> _Figures:
    return {WarehouseKind.WB: {}, WarehouseKind.SELLER: {}}


def build_report(
    *,
    cards: Sequence[Card],
    remains: Sequence[RemainsRow],
    seller_warehouses: Sequence[SellerWarehouse],
    fbs_stocks: Sequence[FbsStock],
    orders: Iterable[Order] | OrderCounts,
    now_utc: datetime,
    window_days: int = 7,
    low_stock_threshold: float = 7,
    part_times: Mapping[DataPart, datetime | None] | None = None,
) -> StockReport:
    """Combine cards, FBO remains, FBS stock and orders into one stock report.

    `orders` are Order rows, or their counts for this very window (see OrderCounts).
    """
    window_start, window_end = moscow_window(now_utc, window_days)
    if isinstance(orders, OrderCounts):
        if (orders.window_start, orders.window_end) != (window_start, window_end):
            raise ValueError("the order counts are for another window")
        counted = orders.counts
    else:
        counted = count_orders(orders, window_start, window_end).counts
    with gc_paused():
        return _build(
            cards=cards,
            remains=remains,
            seller_warehouses=seller_warehouses,
            fbs_stocks=fbs_stocks,
            counted=counted,
            now_utc=now_utc,
            window=(window_start, window_end),
            window_days=window_days,
            low_stock_threshold=low_stock_threshold,
            part_times=dict(part_times or {}),
        )


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while hundreds of thousands of objects are made.

    Building a large seller's report allocates a tracked object per row and per size
    (~450,000 for the 7-day report), which triggers collections that walk every live object of
    the process: ~40 % of the build's CPU. The build makes no reference cycles, and reference
    counting still frees everything else meanwhile. Only the caller that found collection
    enabled turns it back on, so pauses overlapping in other threads or tasks cannot leave it
    off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _build(
    *,
    cards: Sequence[Card],
    remains: Sequence[RemainsRow],
    seller_warehouses: Sequence[SellerWarehouse],
    fbs_stocks: Sequence[FbsStock],
    counted: Mapping[OrderKey, int],
    now_utc: datetime,
    window: tuple[datetime, datetime],
    window_days: int,
    low_stock_threshold: float,
    part_times: dict[DataPart, datetime | None],
) -> StockReport:
    catalogue = _Catalogue(cards)
    products = catalogue.products
    stock, ordered, cancelled = _figures(), _figures(), _figures()
    in_transit: dict[int, list[int]] = {}

    wb_stock = stock[WarehouseKind.WB]
    for row in remains:
        size = catalogue.size_of(row.nm_id, row.barcode, row.tech_size)
        if row.nm_id not in products:
            products[row.nm_id] = (row.vendor_code, row.brand, row.subject, "")
        at_size: dict[str, int] | None = None
        for name, quantity in row.warehouses:
            if name == IN_TRANSIT_TO_BUYERS:
                in_transit.setdefault(row.nm_id, [0, 0])[0] += quantity
            elif name == IN_TRANSIT_RETURNS:
                in_transit.setdefault(row.nm_id, [0, 0])[1] += quantity
            elif name != TOTAL_ON_WAREHOUSES and quantity > 0:
                if at_size is None:
                    at_size = wb_stock.get(size)
                    if at_size is None:
                        at_size = wb_stock[size] = {}
                at_size[name] = at_size.get(name, 0) + quantity

    seller_stock = stock[WarehouseKind.SELLER]
    seller_names = {warehouse.id: warehouse.name for warehouse in seller_warehouses}
    levels = {(fbs.warehouse_id, fbs.chrt_id): fbs.amount for fbs in fbs_stocks}
    for (warehouse_id, chrt_id), amount in levels.items():
        card_size = catalogue.by_chrt.get(chrt_id)
        if amount > 0 and card_size is not None:
            name = seller_names.get(warehouse_id, f"#{warehouse_id}")
            at_seller = seller_stock.get(card_size)
            if at_seller is None:
                at_seller = seller_stock[card_size] = {}
            at_seller[name] = at_seller.get(name, 0) + amount

    # Orders were counted on their raw fields; each distinct combination is mapped once.
    seller_name_set = frozenset(seller_names.values())
    for (nm_id, barcode, tech_size, article, name, warehouse_type, is_cancel), n in counted.items():
        size = catalogue.size_of(nm_id, barcode, tech_size)
        if nm_id not in products:
            products[nm_id] = (article, "", "", "")
        kind = _warehouse_kind(name, warehouse_type, seller_name_set)
        for figures in (ordered, cancelled) if is_cancel else (ordered,):
            of_kind = figures[kind]
            at_order = of_kind.get(size)
            if at_order is None:
                at_order = of_kind[size] = {}
            at_order[name] = at_order.get(name, 0) + n

    return _assemble(
        catalogue=catalogue,
        stock=stock,
        ordered=ordered,
        cancelled=cancelled,
        in_transit=in_transit,
        now_utc=now_utc,
        window=window,
        window_days=window_days,
        low_stock_threshold=low_stock_threshold,
        part_times=part_times,
    )


_NOTHING: dict[str, int] = {}
# tuple.__new__(StockRow, values) is StockRow(*values) without the generated __new__'s call.
_new_tuple = tuple.__new__


def _assemble(
    *,
    catalogue: _Catalogue,
    stock: _Figures,
    ordered: _Figures,
    cancelled: _Figures,
    in_transit: dict[int, list[int]],
    now_utc: datetime,
    window: tuple[datetime, datetime],
    window_days: int,
    low_stock_threshold: float,
    part_times: dict[DataPart, datetime | None],
) -> StockReport:
    rows: list[StockRow] = []
    summaries: list[ProductSummary] = []
    low_stock: list[LowStockItem] = []
    barcodes = catalogue.barcodes
    by_kind = [
        (kind, stock[kind], ordered[kind], cancelled[kind])
        for kind in (WarehouseKind.WB, WarehouseKind.SELLER)
    ]
    append_row = rows.append
    # The hottest loop of a sync (a row per size and warehouse, a million for a large
    # seller): locals only, and a size's stock-only rows (no orders, so no cover) take a
    # shorter path. Same rows, same order, same arithmetic as days_of_cover.
    for nm_id, (vendor_code, brand, subject, title) in sorted(
        catalogue.products.items(), key=lambda item: (item[1][0], item[0])
    ):
        sizes = catalogue.ordered_sizes(nm_id)
        units = {WarehouseKind.WB: 0, WarehouseKind.SELLER: 0}
        product_orders = product_cancelled = 0
        warehouses: list[WarehouseFigures] = []
        for kind, stock_of, ordered_of, cancelled_of in by_kind:
            # warehouse name -> [stock, orders, cancelled] of the whole product
            per_warehouse: dict[str, list[int]] = {}
            for size in sizes:
                at_stock = stock_of.get(size)
                at_ordered = ordered_of.get(size)
                if at_ordered is None:
                    if at_stock is None:
                        continue
                    _, chrt_id, size_name = size
                    barcode = barcodes[size]
                    for name in sorted(at_stock):
                        units_here = at_stock[name]
                        append_row(
                            _new_tuple(
                                StockRow,
                                (
                                    nm_id,
                                    chrt_id,
                                    barcode,
                                    size_name,
                                    name,
                                    kind,
                                    units_here,
                                    0,
                                    0,
                                    None,
                                ),
                            )
                        )
                        total = per_warehouse.get(name)
                        if total is None:
                            per_warehouse[name] = [units_here, 0, 0]
                        else:
                            total[0] += units_here
                    continue
                at_cancelled = cancelled_of.get(size, _NOTHING)
                if at_stock is None:
                    at_stock = _NOTHING
                    names = sorted(at_ordered)
                else:
                    names = sorted(at_stock | at_ordered)
                _, chrt_id, size_name = size
                barcode = barcodes[size]
                for name in names:
                    units_here = at_stock.get(name, 0)
                    n = at_ordered.get(name, 0)
                    c = at_cancelled.get(name, 0)
                    net = n - c
                    append_row(
                        _new_tuple(
                            StockRow,
                            (
                                nm_id,
                                chrt_id,
                                barcode,
                                size_name,
                                name,
                                kind,
                                units_here,
                                n,
                                c,
                                units_here * window_days / net if net > 0 else None,
                            ),
                        )
                    )
                    total = per_warehouse.get(name)
                    if total is None:
                        per_warehouse[name] = [units_here, n, c]
                    else:
                        total[0] += units_here
                        total[1] += n
                        total[2] += c
            kind_units = 0
            for name, (units_here, n, c) in sorted(per_warehouse.items()):
                net = n - c
                warehouses.append(
                    _new_tuple(
                        WarehouseFigures,
                        (
                            name,
                            kind,
                            units_here,
                            n,
                            c,
                            units_here * window_days / net if net > 0 else None,
                        ),
                    )
                )
                kind_units += units_here
                product_orders += n
                product_cancelled += c
            units[kind] = kind_units
        fbo, fbs = units[WarehouseKind.WB], units[WarehouseKind.SELLER]
        to_buyers, returns = in_transit.get(nm_id, (0, 0))
        cover = days_of_cover(fbo + fbs, product_orders, product_cancelled, window_days)
        summaries.append(
            ProductSummary(
                nm_id=nm_id,
                vendor_code=vendor_code,
                brand=brand,
                subject=subject,
                title=title,
                sizes=len(sizes),
                fbo_units=fbo,
                fbs_units=fbs,
                in_transit_to_buyers=to_buyers,
                in_transit_returns=returns,
                orders=product_orders,
                cancelled=product_cancelled,
                days_of_cover=cover,
                warehouses=tuple(warehouses),
            )
        )
        if cover is not None and cover < low_stock_threshold:
            low_stock.append(LowStockItem(nm_id, vendor_code, fbo + fbs, product_orders, cover))

    # A stable sort: equal (cover, vendor_code) keep the products' nm_id order.
    low_stock.sort(key=lambda item: (item.days_of_cover, item.vendor_code))
    window_start, window_end = window
    return StockReport(
        generated_at=now_utc,
        window_days=window_days,
        window_start=window_start,
        window_end=window_end,
        low_stock_threshold=low_stock_threshold,
        products=tuple(summaries),
        rows=tuple(rows),
        totals=ReportTotals(
            products=len(summaries),
            sizes=sum(summary.sizes for summary in summaries),
            fbo_units=sum(summary.fbo_units for summary in summaries),
            fbs_units=sum(summary.fbs_units for summary in summaries),
            in_transit_to_buyers=sum(summary.in_transit_to_buyers for summary in summaries),
            in_transit_returns=sum(summary.in_transit_returns for summary in summaries),
            orders=sum(summary.orders for summary in summaries),
            cancelled=sum(summary.cancelled for summary in summaries),
        ),
        low_stock=tuple(low_stock),
        part_times=part_times,
    )
