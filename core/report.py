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
  otherwise they keep their own size (chrt_id None; its barcode is the least one seen) and
  still count, and a product missing from the cards is described from the remains row (or
  the order's article). A product listed twice is described by its first card.
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
from functools import partial
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

from core.stock_report import (
    DataPart,
    LowStockItem,
    ProductSummary,
    ReportTotals,
    StockReport,
    StockRows,
    WarehouseFigures,
    WarehouseKind,
    row_values,
)
from core.wb.models import Card, FbsStock, Order, RemainsRow, SellerWarehouse

MOSCOW = ZoneInfo("Europe/Moscow")
IN_TRANSIT_TO_BUYERS = "В пути до получателей"
IN_TRANSIT_RETURNS = "В пути возвраты на склад WB"
TOTAL_ON_WAREHOUSES = "Всего находится на складах"
SELLER_WAREHOUSE_TYPE = "Склад продавца"

# (nm_id, barcode, tech_size, supplier_article, warehouse_name, seller_type, is_cancel), where
# seller_type is whether WB's warehouse type is SELLER_WAREHOUSE_TYPE: all the report needs of
# the type, and a database gives it as a number instead of a string per order.
OrderKey = tuple[int, str, str, str, str, bool, bool]
# An OrderKey's fields followed by how many orders have them (a database row, unpacked as is;
# SQLite gives the two flags as 0 or 1, and the warehouse name as its UTF-8 bytes).
OrderGroup = tuple[int, str, str, str, str | bytes, bool, bool, int]
# An OrderGroup without the tech size and the article: (nm_id, barcode, warehouse_name,
# seller_type, is_cancel, n), as the sync reads the window first (see add_orders_by_barcode).
BarcodeOrderGroup = tuple[int, str, str | bytes, bool, bool, int]


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


def warehouse_text(name: str | bytes) -> str:
    """An order group's warehouse name as text (SQLite gives its UTF-8 bytes)."""
    return name.decode() if isinstance(name, bytes) else name


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
            o.warehouse_type == SELLER_WAREHOUSE_TYPE,
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


# A size's record in _Catalogue.table: these fields, then its figures at _FIGURES + the kind
# of warehouse: a dict warehouse name -> its figures there packed in one integer (None until
# some): ordered + cancelled << 30 + stock << 60, the counts of orders below 2**30 (a billion
# orders of one size at one warehouse). One dict per size and kind, not three (stock,
# ordered, cancelled): the rows need no union of three dicts' names. Orders in the low bits:
# a warehouse's orders with no stock or cancellation stay a small integer (CPython keeps one
# object for each up to 256, so adding an order makes none), which the stock in the low
# bits made a 2-digit integer per order (the 30-day build's orders 15 % slower).
_NM_ID, _CHRT_ID, _TECH_SIZE, _BARCODE = 0, 1, 2, 3  # chrt_id None: a size the cards lack
_FIGURES = 4
_AT_WB, _AT_SELLER = 0, 1
_COUNT_BITS = 30
_COUNT = (1 << _COUNT_BITS) - 1
_STOCK_SHIFT = 2 * _COUNT_BITS
_ORDERS = (1 << _STOCK_SHIFT) - 1  # the bits of the two counts
_CANCELLED_ORDER = 1 + (1 << _COUNT_BITS)  # one order, placed in the window and cancelled


_nm_id = attrgetter("nm_id")
_vendor_code = attrgetter("vendor_code")


class _Catalogue:
    """Lookups from the cards, growing with products and sizes seen only in other data.

    A size is a record of six consecutive items in one flat list, `table`, and the lookups
    lead to its offset there. An object per size (~70,000 for a large seller, each with a list
    of its figures) made the collection after the stock was placed walk ~330,000 young
    objects: 0.1 s, a tenth of the build (docs/performance.md, part 8). Integers and strings
    are not tracked by the collector, nor are dicts holding only them.

    The cards' sizes are placed in the report's order (products by vendor code, then nm_id),
    so that making the rows walks the table from start to end: read in the cards' order they
    were scattered over it, and the rows took 12 % longer (memory, not instructions).
    """

    def __init__(self, cards: Sequence[Card]) -> None:
        # nm_id -> (vendor_code, brand, subject, title)
        self.products: dict[int, tuple[str, str, str, str]] = {}
        # nm_id -> its sizes' offsets: the card's in card order, then sizes seen only in
        # other data
        self.sizes: dict[int, list[int]] = {}
        self.card_sizes: dict[int, int] = {}
        self.table: list[Any] = []
        self.by_barcode: dict[str, int] = {}
        self.by_tech_size: dict[int, dict[str, int]] = {}  # nm_id -> tech size -> offset
        self.by_chrt: dict[int, int] = {}
        products, table, by_barcode = self.products, self.table, self.by_barcode
        by_chrt = self.by_chrt
        first: dict[int, Card] = {}  # a product listed twice: its first card
        for card in cards:
            first.setdefault(card.nm_id, card)
        for card in sorted(sorted(first.values(), key=_nm_id), key=_vendor_code):
            nm_id = card.nm_id
            products[nm_id] = (card.vendor_code, card.brand, card.subject, card.title)
            own: list[int] = []
            self.sizes[nm_id] = own
            by_name: dict[str, int] = {}
            self.by_tech_size[nm_id] = by_name
            for card_size in card.sizes:
                chrt_id, tech_size, barcodes = (
                    card_size.chrt_id,
                    card_size.tech_size,
                    card_size.barcodes,
                )
                if tech_size in by_name and any(
                    table[known + _CHRT_ID] == chrt_id and table[known + _TECH_SIZE] == tech_size
                    for known in own
                ):
                    continue  # a size listed twice must not give its rows twice
                offset = len(table)
                # a size's record (the layout above)
                table.extend(
                    (nm_id, chrt_id, tech_size, barcodes[0] if barcodes else "", None, None)
                )
                own.append(offset)
                by_chrt.setdefault(chrt_id, offset)
                by_name.setdefault(tech_size, offset)
                for barcode in barcodes:
                    by_barcode.setdefault(barcode, offset)
            self.card_sizes[nm_id] = len(own)  # a size listed twice counts once

    def size_of(self, nm_id: int, barcode: str, tech_size: str) -> int:
        """The card size by barcode, else by tech size, else a size of its own (chrt_id None)."""
        table = self.table
        offset = self.by_barcode.get(barcode)
        if offset is not None and table[offset] == nm_id:
            return offset
        by_name = self.by_tech_size.get(nm_id)
        if by_name is None:
            by_name = self.by_tech_size[nm_id] = {}
        offset = by_name.get(tech_size)
        if offset is None:
            offset = by_name[tech_size] = len(table)
            table.extend((nm_id, None, tech_size, barcode, None, None))
            self.sizes.setdefault(nm_id, []).append(offset)
        elif table[offset + _CHRT_ID] is None and barcode < table[offset + _BARCODE]:
            # A size of its own shows its least barcode: the same whatever order the orders
            # and remains rows come in.
            table[offset + _BARCODE] = barcode
        return offset

    def take_sizes(self, nm_id: int) -> list[int]:
        """The product's sizes in the report's order; the catalogue lets go of the list."""
        sizes = self.sizes.pop(nm_id, [])
        on_card = self.card_sizes.get(nm_id, 0)
        if len(sizes) - on_card > 1:
            table = self.table
            sizes[on_card:] = sorted(sizes[on_card:], key=lambda size: table[size + _TECH_SIZE])
        return sizes


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
    ReportBuilder does the same in steps.
    """
    builder = ReportBuilder(
        cards=cards,
        remains=remains,
        seller_warehouses=seller_warehouses,
        fbs_stocks=fbs_stocks,
        now_utc=now_utc,
        window_days=window_days,
    )
    if not isinstance(orders, OrderCounts):
        orders = count_orders(orders, *builder.window)
    builder.add_orders(
        (orders.window_start, orders.window_end),
        ((*key, n) for key, n in orders.counts.items()),
    )
    return builder.finish(low_stock_threshold=low_stock_threshold, part_times=part_times)


def warehouse_figures(
    report: StockReport,
) -> Iterator[tuple[ProductSummary, tuple[WarehouseFigures, ...]]]:
    """Each product, in the report's order, with its figures per warehouse: its sizes' rows
    summed, WB warehouses first, then the seller's, each group by name.

    Made from the rows as they are walked, a product at a time: only the summary export needs
    them, and kept for every product of a large seller they took ~50 MB beside the rows. The
    rows must come product by product in the products' order (build_report and the stored
    report keep them so).
    """
    rows = row_values(report.rows)
    row = next(rows, None)
    wb = WarehouseKind.WB
    window_days = report.window_days
    for product in report.products:
        nm_id = product.nm_id
        # (at a seller warehouse, warehouse name) -> [stock, orders, cancelled]
        sums: dict[tuple[bool, str], list[int]] = {}
        while row is not None:
            row_nm_id, _, _, _, name, kind, stock, orders, cancelled, _ = row
            if row_nm_id != nm_id:
                break
            row = next(rows, None)
            key = (kind is not wb, name)
            total = sums.get(key)
            if total is None:
                sums[key] = [stock, orders, cancelled]
            else:
                total[0] += stock
                total[1] += orders
                total[2] += cancelled
        yield (
            product,
            tuple(
                WarehouseFigures(
                    name,
                    WarehouseKind.SELLER if seller else wb,
                    stock,
                    orders,
                    cancelled,
                    days_of_cover(stock, orders, cancelled, window_days),
                )
                for (seller, name), (stock, orders, cancelled) in sorted(sums.items())
            ),
        )
    if row is not None:
        raise ValueError(f"the rows of product {row[0]} are out of the products' order")


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


class ReportBuilder:
    """build_report in three steps, so that no input outlives its step.

    1. The constructor places the stock (cards, remains rows, FBS levels); the caller can let
       go of those afterwards: a large seller's ~60 MB of them need not live through the rest.
    2. `add_orders` (any number of times) adds the window's order groups as they arrive, e.g.
       streamed from the database a partition at a time, straight into the per-size figures:
       a 30-day window's ~460,000 groups are never held as keys of a dict.
    3. `finish` makes the report, once; it empties the figures as it turns them into rows.
    The report is the one build_report makes from the same data, rows in the same order.
    """

    def __init__(
        self,
        *,
        cards: Sequence[Card],
        remains: Sequence[RemainsRow],
        seller_warehouses: Sequence[SellerWarehouse],
        fbs_stocks: Sequence[FbsStock],
        now_utc: datetime,
        window_days: int = 7,
    ) -> None:
        self.now_utc = now_utc
        self.window_days = window_days
        self.window = moscow_window(now_utc, window_days)
        self._in_transit: dict[int, list[int]] = {}
        self._finished = False
        # Barcodes of orders that add_orders_by_barcode could not place (see there).
        self.unmatched_barcodes: set[str] = set()
        with gc_paused():
            self._catalogue = _Catalogue(cards)
            seller_names = {warehouse.id: warehouse.name for warehouse in seller_warehouses}
            self._seller_names = frozenset(seller_names.values())
            self._place_remains(remains)
            self._place_fbs(fbs_stocks, seller_names)
        # warehouse name, as text or bytes -> (one shared object for the name: each order
        # group brings its own copy, and the figures and rows would keep one per group; the
        # orders' slot in a size's record when the type does not say it is the seller's).
        self._places: dict[str | bytes, tuple[str, int]] = {}

    def _place_remains(self, remains: Iterable[RemainsRow]) -> None:
        catalogue = self._catalogue
        products, table, by_barcode = catalogue.products, catalogue.table, catalogue.by_barcode
        in_transit = self._in_transit
        for row in remains:
            nm_id = row.nm_id
            # catalogue.size_of, its first (usual) lookup inline
            size = by_barcode.get(row.barcode)
            if size is None or table[size] != nm_id:
                size = catalogue.size_of(nm_id, row.barcode, row.tech_size)
                if nm_id not in products:  # a card's size means a known product
                    products[nm_id] = (row.vendor_code, row.brand, row.subject, "")
            at_size: dict[str, int] | None = None
            for name, quantity in row.warehouses:
                if name == IN_TRANSIT_TO_BUYERS:
                    in_transit.setdefault(nm_id, [0, 0])[0] += quantity
                elif name == IN_TRANSIT_RETURNS:
                    in_transit.setdefault(nm_id, [0, 0])[1] += quantity
                elif name != TOTAL_ON_WAREHOUSES and quantity > 0:
                    if at_size is None:
                        at_size = table[size + _FIGURES + _AT_WB]
                        if at_size is None:
                            at_size = table[size + _FIGURES + _AT_WB] = {}
                    at_size[name] = at_size.get(name, 0) + (quantity << _STOCK_SHIFT)

    def _place_fbs(self, fbs_stocks: Iterable[FbsStock], seller_names: dict[int, str]) -> None:
        # The last reading of each (warehouse, chrt_id), keyed a warehouse at a time: a tuple
        # key per reading (140,000 for a large seller) cost a third of this step.
        levels: dict[int, dict[int, int]] = {}
        warehouse_id, amounts = None, {}
        for fbs in fbs_stocks:
            # The readings come a warehouse at a time (a call per warehouse): its dict is
            # looked up when the warehouse changes, not made and dropped per reading.
            if fbs.warehouse_id != warehouse_id:
                warehouse_id = fbs.warehouse_id
                amounts = levels.setdefault(warehouse_id, {})
            amounts[fbs.chrt_id] = fbs.amount
        by_chrt, table = self._catalogue.by_chrt, self._catalogue.table
        for warehouse_id, amounts in levels.items():
            name = seller_names.get(warehouse_id, f"#{warehouse_id}")
            for chrt_id, amount in amounts.items():
                size = by_chrt.get(chrt_id)
                if amount > 0 and size is not None:
                    slot = size + _FIGURES + _AT_SELLER
                    at_seller = table[slot]
                    if at_seller is None:
                        at_seller = table[slot] = {}
                    at_seller[name] = at_seller.get(name, 0) + (amount << _STOCK_SHIFT)

    def add_orders(self, window: tuple[datetime, datetime], groups: Iterable[OrderGroup]) -> None:
        """Add order groups counted for `window` (naive Moscow start and end; see OrderCounts).

        Groups that share their size and warehouse add up, so the orders may come counted
        per OrderKey or one per row (n = 1); each order of the window exactly once. The sync
        reads them in two steps instead (add_orders_by_barcode, then add_unmatched_orders).
        """
        groups = list(groups)
        self.add_orders_by_barcode(
            window,
            (
                (nm_id, barcode, name, seller_type, is_cancel, n)
                for nm_id, barcode, _, _, name, seller_type, is_cancel, n in groups
            ),
        )
        unmatched = self.unmatched_barcodes
        if unmatched:
            self.add_unmatched_orders(window, (group for group in groups if group[1] in unmatched))

    def add_orders_by_barcode(
        self, window: tuple[datetime, datetime], groups: Iterable[BarcodeOrderGroup]
    ) -> None:
        """Add the groups whose barcode is a card size of their product (nearly every one);
        the others' barcodes go to `unmatched_barcodes`, and their full groups to
        add_unmatched_orders.

        Read without the tech size and the article, which only an unmatched order needs: two
        strings fewer per order (~30 % of reading a large seller's window from SQLite).
        """
        self._check_window(window)
        catalogue = self._catalogue
        table, by_barcode = catalogue.table, catalogue.by_barcode
        unmatched = self.unmatched_barcodes
        places = self._places
        seller_slot = _FIGURES + _AT_SELLER
        cancelled_order = _CANCELLED_ORDER
        # ~500,000 groups for a large seller's 30 days: every lookup per group counts.
        with gc_paused():
            for nm_id, barcode, name, seller_type, is_cancel, n in groups:
                size = by_barcode.get(barcode)
                if size is None or table[size] != nm_id:
                    unmatched.add(barcode)
                    continue
                # The rest is _count, inline.
                place = places.get(name)
                if place is None:
                    place = places[name] = self._place(name)
                name, slot = place
                if seller_type:
                    slot = seller_slot
                slot += size
                at_size = table[slot]
                if at_size is None:
                    at_size = table[slot] = {}
                at_size[name] = at_size.get(name, 0) + (cancelled_order * n if is_cancel else n)

    def add_unmatched_orders(
        self, window: tuple[datetime, datetime], groups: Iterable[OrderGroup]
    ) -> None:
        """Add the full groups that add_orders_by_barcode left out (their barcode is not a card
        size of their product), matched by tech size or given a size of their own. Groups it
        added are skipped, so these may be every group of the barcodes in `unmatched_barcodes`.
        """
        self._check_window(window)
        catalogue = self._catalogue
        products, table, by_barcode = catalogue.products, catalogue.table, catalogue.by_barcode
        with gc_paused():
            for nm_id, barcode, tech_size, article, name, seller_type, is_cancel, n in groups:
                size = by_barcode.get(barcode)
                if size is not None and table[size] == nm_id:
                    continue  # added by add_orders_by_barcode
                size = catalogue.size_of(nm_id, barcode, tech_size)
                if nm_id not in products:
                    products[nm_id] = (article, "", "", "")
                self._count(size, name, seller_type, is_cancel, n)

    def _count(
        self, size: int, name: str | bytes, seller_type: bool, is_cancel: bool, n: int
    ) -> None:
        """Count n orders of a size at a warehouse (and as cancelled when they are)."""
        place = self._places.get(name)
        if place is None:
            place = self._places[name] = self._place(name)
        text, slot = place
        slot = size + (_FIGURES + _AT_SELLER if seller_type else slot)
        table = self._catalogue.table
        at_size = table[slot]
        if at_size is None:
            at_size = table[slot] = {}
        at_size[text] = at_size.get(text, 0) + (_CANCELLED_ORDER * n if is_cancel else n)

    def _check_window(self, window: tuple[datetime, datetime]) -> None:
        if window != self.window:
            raise ValueError("the order counts are for another window")
        if self._finished:
            raise RuntimeError("the report is already built")

    def _place(self, name: str | bytes) -> tuple[str, int]:
        """A warehouse name's shared object and its figures' slot (by the name alone), the same
        for its text and bytes."""
        text = warehouse_text(name)
        place = self._places.get(text)
        if place is None:
            kind = _AT_SELLER if text in self._seller_names else _AT_WB
            place = self._places[text] = (text, _FIGURES + kind)
        return place

    def finish(
        self,
        *,
        low_stock_threshold: float = 7,
        part_times: Mapping[DataPart, datetime | None] | None = None,
    ) -> StockReport:
        """The report; the builder is spent afterwards."""
        if self._finished:
            raise RuntimeError("the report is already built")
        self._finished = True
        catalogue = self._catalogue
        # Only the orders needed these lookups: let them go before the rows are made.
        catalogue.by_barcode, catalogue.by_tech_size, catalogue.by_chrt = {}, {}, {}
        self._places = {}
        with gc_paused():
            return _assemble(
                catalogue=catalogue,
                in_transit=self._in_transit,
                now_utc=self.now_utc,
                window=self.window,
                window_days=self.window_days,
                low_stock_threshold=low_stock_threshold,
                part_times=dict(part_times or {}),
            )


_new_summary = partial(tuple.__new__, ProductSummary)  # ProductSummary(*fields), no Python call


def _assemble(
    *,
    catalogue: _Catalogue,
    in_transit: dict[int, list[int]],
    now_utc: datetime,
    window: tuple[datetime, datetime],
    window_days: int,
    low_stock_threshold: float,
    part_times: dict[DataPart, datetime | None],
) -> StockReport:
    summaries: list[ProductSummary] = []
    low_stock: list[LowStockItem] = []
    # (kind, the slot of its figures in a size's record)
    kinds = ((WarehouseKind.WB, _FIGURES + _AT_WB), (WarehouseKind.SELLER, _FIGURES + _AT_SELLER))
    table = catalogue.table
    orders_bits, count, count_bits, stock_shift = _ORDERS, _COUNT, _COUNT_BITS, _STOCK_SHIFT
    values: list[Any] = []  # the rows' values, row after row (see StockRows)
    add_row = values.extend
    # The hottest loop of a sync (a row per size and warehouse, a million for a large
    # seller): locals only, and stock-only figures (no orders, so no cover) take a shorter
    # path. Same rows, same order, same arithmetic as days_of_cover. Most sizes have one to
    # three rows of a kind, too few for extends per size and column to pay.
    products = catalogue.products
    # By vendor code, then nm_id: two stable sorts on plain keys take half the time of one
    # on (vendor code, nm_id) tuples.
    by_nm_id = sorted(products)
    by_nm_id.sort(key=lambda nm_id: products[nm_id][0])
    for nm_id in by_nm_id:
        vendor_code, brand, subject, title = products[nm_id]
        sizes = catalogue.take_sizes(nm_id)
        units = [0, 0]  # at WB, at the seller's
        product_orders = product_cancelled = 0
        for kind, slot in kinds:
            kind_units = 0
            for size in sizes:
                figures = table[size + slot]
                if figures is None:
                    continue
                # The figures go as the rows grow (a large seller's are ~60 MB).
                table[size + slot] = None
                chrt_id, size_name, barcode = (
                    table[size + _CHRT_ID],
                    table[size + _TECH_SIZE],
                    table[size + _BARCODE],
                )
                for name in sorted(figures):
                    packed = figures[name]
                    units_here = packed >> stock_shift
                    if not packed & orders_bits:  # stock only
                        add_row(
                            (nm_id, chrt_id, barcode, size_name, name, kind, units_here, 0, 0, None)
                        )
                        kind_units += units_here
                        continue
                    n = packed & count
                    c = packed >> count_bits & count
                    net = n - c
                    add_row(
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
                        )
                    )
                    kind_units += units_here
                    product_orders += n
                    product_cancelled += c
            units[slot - _FIGURES] = kind_units
        fbo, fbs = units
        to_buyers, returns = in_transit.get(nm_id, (0, 0))
        cover = days_of_cover(fbo + fbs, product_orders, product_cancelled, window_days)
        summaries.append(
            _new_summary(  # ProductSummary's fields in order
                (
                    nm_id,
                    vendor_code,
                    brand,
                    subject,
                    title,
                    len(sizes),
                    fbo,
                    fbs,
                    to_buyers,
                    returns,
                    product_orders,
                    product_cancelled,
                    cover,
                )
            )
        )
        if cover is not None and cover < low_stock_threshold:
            low_stock.append(LowStockItem(nm_id, vendor_code, fbo + fbs, product_orders, cover))
    # The rows are all made: the catalogue (~20 MB for a large seller) goes now, so that
    # copying the rows into the report does not add to it.
    catalogue.products.clear()
    table.clear()
    catalogue.sizes.clear()

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
        rows=StockRows(values),
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
