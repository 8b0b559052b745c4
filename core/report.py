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
- Sizes: remains rows and orders map to a card size of their product by barcode (a barcode
  on two of its sizes: the first), else by (nm_id, tech_size); a barcode on another
  product's card does not count. Otherwise they keep their own size (chrt_id None; its
  barcode is the least one seen) and still count, and a product missing from the cards is
  described from the remains row (or the order's article). A product listed twice is
  described by its first card.
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from operator import attrgetter
from typing import Any, cast
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
# SQLite gives the two flags as 0 or 1).
OrderGroup = tuple[int, str, str, str, str, bool, bool, int]


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


def order_size_key(barcode: str, nm_id: int) -> str:
    """An order's barcode and product as one string: what the sync reads of each order, the
    database joining the two the same way (core.snapshot_store.warehouse_orders), and what
    finds its card size in one lookup."""
    return f"{barcode} {nm_id}"


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
_RECORD = _FIGURES + 2  # a size's items: the figures at WB's warehouses and the seller's
_AT_WB, _AT_SELLER = 0, 1
_COUNT_BITS = 30
_COUNT = (1 << _COUNT_BITS) - 1
_STOCK_SHIFT = 2 * _COUNT_BITS
_ORDERS = (1 << _STOCK_SHIFT) - 1  # the bits of the two counts
_CANCELLED_ORDER = 1 + (1 << _COUNT_BITS)  # one order, placed in the window and cancelled
# Stock levels below _SHARED_LEVELS units (nearly every size's at a warehouse) as shared
# objects: placing the stock makes no integer for them, and adding an order to such a cell or
# making its row reads one of these few objects, which stay in the CPU's cache, not one
# integer per size and warehouse scattered over the heap (the rows step ~8 % faster;
# docs/performance.md, item 47).
_SHARED_LEVELS = 1024
_STOCK_LEVELS = tuple(units << _STOCK_SHIFT for units in range(_SHARED_LEVELS))


def _stock_figures(units: int) -> int:
    """A stock level (units > 0) as packed figures: shared below _SHARED_LEVELS."""
    return _STOCK_LEVELS[units] if units < _SHARED_LEVELS else units << _STOCK_SHIFT


_vendor_code = attrgetter("vendor_code")


def _add_keyed_orders_python(
    table: list[Any], by_key: dict[str, int], keys: Sequence[str], slot: int, name: str, one: int
) -> list[str]:
    """Add `one` to each key's size's figures at `name` (the figures at the size's offset +
    `slot`, made where None); return the keys `by_key` lacks. The sizes are counted in the
    table's order, not the keys': the records and figures dicts they reach lie in memory in
    about that order, and so do the dicts this makes, which the rows then read in that order
    too (the rows step 8-13 % faster; docs/performance.md, item 48)."""
    found = list(map(by_key.get, keys))
    unmatched: list[str] = []
    if None in found:
        unmatched = [key for key, size in zip(keys, found, strict=True) if size is None]
        found = [size for size in found if size is not None]
    sizes = cast(list[int], found)  # no None left
    sizes.sort()
    for size in sizes:
        size += slot
        figures = table[size]
        if figures is None:
            table[size] = {name: one}
        else:
            figures[name] = figures.get(name, 0) + one
    return unmatched


def _add_size_rows_python(
    values: list[Any],
    table: list[Any],
    sizes: Sequence[int],
    slot: int,
    kind: WarehouseKind,
    nm_id: int,
    window_days: int,
) -> tuple[int, int, int]:
    """Append the rows of the sizes' figures of one kind (`slot`) to `values`, ten values a
    row (StockRows), warehouses by name; empty the slots. Returns the rows' stock, orders and
    cancelled orders summed.

    The hottest loop of a sync (a row per size and warehouse, a million for a large seller):
    locals only, and stock-only figures (no orders, so no cover) take a shorter path. Same
    arithmetic as days_of_cover. Most sizes have one to three rows of a kind, too few for
    extends per size and column to pay.
    """
    orders_bits, count, count_bits, stock_shift = _ORDERS, _COUNT, _COUNT_BITS, _STOCK_SHIFT
    add_row = values.extend
    kind_units = ordered = cancelled = 0
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
        # One warehouse (most sizes of a kind): nothing to sort.
        for name in figures if len(figures) == 1 else sorted(figures):
            packed = figures[name]
            units_here = packed >> stock_shift
            if not packed & orders_bits:  # stock only
                add_row((nm_id, chrt_id, barcode, size_name, name, kind, units_here, 0, 0, None))
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
            ordered += n
            cancelled += c
    return kind_units, ordered, cancelled


def _place_remains_rows_python(
    remains: Iterable[RemainsRow],
    by_key: dict[str, int],
    table: list[Any],
    slot: int,
    levels: tuple[int, ...],
    to_buyers_name: str,
    to_buyers: dict[int, int],
    returns_name: str,
    returns: dict[int, int],
    ignored_name: str,
    unmatched: Callable[[RemainsRow], int],
) -> None:
    """Place the remains rows' stock: each row's size by order_size_key, else `unmatched`
    finds or makes it; its entries named `to_buyers_name` and `returns_name` add to those
    counts per product, `ignored_name` and quantities <= 0 are skipped, the others add their
    quantity (`levels[q]` below len(levels)) to the size's figures at `slot`."""
    stock_shift, shared = _STOCK_SHIFT, len(levels)
    for row in remains:
        nm_id = row.nm_id
        size = by_key.get(f"{row.barcode} {nm_id}")  # order_size_key, inline
        if size is None:
            size = unmatched(row)
        at_size: dict[str, int] | None = None
        for name, quantity in row.warehouses:
            if name == to_buyers_name:
                to_buyers[nm_id] = to_buyers.get(nm_id, 0) + quantity
            elif name == returns_name:
                returns[nm_id] = returns.get(nm_id, 0) + quantity
            elif name != ignored_name and quantity > 0:
                if at_size is None:
                    at_size = table[size + slot]
                    if at_size is None:
                        at_size = table[size + slot] = {}
                # _stock_figures(quantity), inline: ~100,000 entries
                units = levels[quantity] if quantity < shared else quantity << stock_shift
                known = at_size.get(name)
                at_size[name] = units if known is None else known + units


def _place_cards_python(
    cards: Sequence[Card],
    products: dict[int, int],
    descriptions: list[str],
    table: list[Any],
    by_chrt: dict[int, int],
    by_key: dict[str, int],
    first_size: dict[int, int],
    card_sizes: dict[int, int],
) -> None:
    """Describe each card's product and make its sizes' records (see _Catalogue), in the
    cards' order; a size listed twice on a card is one size."""
    for card in cards:
        nm_id = card.nm_id
        products[nm_id] = len(descriptions)  # describe(), inline
        descriptions += (card.vendor_code, card.brand, card.subject, card.title)
        first = len(table)
        of_product = f" {nm_id}"  # order_size_key's end, inline
        for card_size in card.sizes:
            chrt_id, tech_size, barcodes = (
                card_size.chrt_id,
                card_size.tech_size,
                card_size.barcodes,
            )
            if chrt_id in by_chrt and any(  # (a size listed twice has been seen)
                table[known + _CHRT_ID] == chrt_id and table[known + _TECH_SIZE] == tech_size
                for known in range(first, len(table), _RECORD)
            ):
                continue  # a size listed twice must not give its rows twice
            offset = len(table)
            # a size's record (the layout above)
            table.extend((nm_id, chrt_id, tech_size, barcodes[0] if barcodes else "", None, None))
            by_chrt.setdefault(chrt_id, offset)
            for barcode in barcodes:
                by_key.setdefault(barcode + of_product, offset)
        if len(table) > first:
            first_size[nm_id] = first
            card_sizes[nm_id] = (len(table) - first) // _RECORD  # a size listed twice: once


# The loops above in C where core/_report_speedups.c was compiled (setup.py): they do a few
# dict, string and integer operations per size, order or row, and the interpreter's work
# around those was a fifth to a third of each step (docs/performance.md, issue 7, part 12).
# Tests hold both to the same results.
try:
    from core._report_speedups import add_keyed_orders as _add_keyed_orders
    from core._report_speedups import add_size_rows as _add_size_rows
    from core._report_speedups import place_cards as _place_cards
    from core._report_speedups import place_remains as _place_remains_rows

    SPEEDUPS = True
except ImportError:  # installed where no C compiler was at hand
    _add_keyed_orders, _add_size_rows = _add_keyed_orders_python, _add_size_rows_python
    _place_cards, _place_remains_rows = _place_cards_python, _place_remains_rows_python
    SPEEDUPS = False
# A call into C holds the GIL until it returns, where the interpreter lets other threads in
# every 5 ms (the event loop's, while a sync builds in a worker thread): the loops are given
# their input in pieces of ~3 ms each for a large seller (docs/performance.md, item 52).
_CARDS_PER_CALL = 1_000
_REMAINS_PER_CALL = 4_096
_KEYS_PER_CALL = 8_192


class _Catalogue:
    """Lookups from the cards, growing with products and sizes seen only in other data.

    A size is a record of six consecutive items in one flat list, `table`, and the lookups
    lead to its offset there. An object per size (~70,000 for a large seller, each with a list
    of its figures) made the collection after the stock was placed walk ~330,000 young
    objects: 0.1 s, a tenth of the build (docs/performance.md, part 8). Integers and strings
    are not tracked by the collector, nor are dicts holding only them: a product's description
    and sizes are found by offsets too, not kept as a tuple and a list per product (~48,000
    objects for a large seller, whose collection took 0.02 s).

    The cards' sizes are placed in the report's order (products by vendor code, then nm_id),
    so that making the rows walks the table from start to end: read in the cards' order they
    were scattered over it, and the rows took 12 % longer (memory, not instructions).
    """

    def __init__(self, cards: Sequence[Card]) -> None:
        # nm_id -> the offset of its description in `descriptions`: vendor_code, brand,
        # subject, title
        self.products: dict[int, int] = {}
        self.descriptions: list[str] = []
        # A product's card sizes are consecutive records: nm_id -> the first one's offset, and
        # how many. Sizes seen only in other data: nm_id -> their offsets.
        self.first_size: dict[int, int] = {}
        self.card_sizes: dict[int, int] = {}
        self.other_sizes: dict[int, list[int]] = {}
        self.table: list[Any] = []
        # order_size_key(barcode, nm_id) -> the product's card size with that barcode (its
        # first). Orders are read as such keys: one lookup of a string the database made
        # replaces a barcode's and a check of its product's.
        self.by_key: dict[str, int] = {}
        # nm_id -> tech size -> offset, made for a product when other_size first needs it
        self.by_tech_size: dict[int, dict[str, int]] = {}
        self.by_chrt: dict[int, int] = {}
        table, by_chrt, by_key = self.table, self.by_chrt, self.by_key
        products, descriptions = self.products, self.descriptions
        first: dict[int, Card] = {}  # a product listed twice: its first card
        for card in cards:
            first.setdefault(card.nm_id, card)
        # By vendor code, then nm_id: sorting the integers first reads each card only once.
        in_order = [first[nm_id] for nm_id in sorted(first)]
        in_order.sort(key=_vendor_code)
        self.on_cards = len(in_order)  # the first products, in the report's order
        for start in range(0, len(in_order), _CARDS_PER_CALL):
            _place_cards(
                in_order[start : start + _CARDS_PER_CALL],
                products,
                descriptions,
                table,
                by_chrt,
                by_key,
                self.first_size,
                self.card_sizes,
            )

    def other_size(self, nm_id: int, barcode: str, tech_size: str) -> int:
        """The size of a barcode that is no card size of the product (not in by_key): the card
        size by tech size, else a size of its own (chrt_id None)."""
        table = self.table
        by_name = self.by_tech_size.get(nm_id)
        if by_name is None:  # the card's sizes by tech size, the first of a name
            by_name = self.by_tech_size[nm_id] = {}
            for card_size in self.card_size_offsets(nm_id):
                by_name.setdefault(table[card_size + _TECH_SIZE], card_size)
        offset = by_name.get(tech_size)
        if offset is None:
            offset = by_name[tech_size] = len(table)
            table.extend((nm_id, None, tech_size, barcode, None, None))
            self.other_sizes.setdefault(nm_id, []).append(offset)
        elif table[offset + _CHRT_ID] is None and barcode < table[offset + _BARCODE]:
            # A size of its own shows its least barcode: the same whatever order the orders
            # and remains rows come in.
            table[offset + _BARCODE] = barcode
        return offset

    def describe(self, nm_id: int, vendor_code: str, brand: str, subject: str, title: str) -> None:
        """Describe a product unless it already is (a card's description comes first)."""
        if nm_id not in self.products:
            self.products[nm_id] = len(self.descriptions)
            self.descriptions.extend((vendor_code, brand, subject, title))

    def card_size_offsets(self, nm_id: int) -> range:
        """The offsets of the product's card sizes, in card order."""
        first = self.first_size.get(nm_id)
        if first is None:
            return range(0)
        return range(first, first + self.card_sizes[nm_id] * _RECORD, _RECORD)

    def take_sizes(self, nm_id: int) -> Sequence[int]:
        """The product's sizes in the report's order: its card's, then the others by name."""
        on_card = self.card_size_offsets(nm_id)
        others = self.other_sizes.get(nm_id)
        if others is None:
            return on_card
        table = self.table
        return [*on_card, *sorted(others, key=lambda size: table[size + _TECH_SIZE])]


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
        # nm_id -> units in transit to buyers, and returning to WB's warehouses
        self._to_buyers: dict[int, int] = {}
        self._returns: dict[int, int] = {}
        self._finished = False
        # Barcodes of orders that add_warehouse_orders could not place (see there).
        self.unmatched_barcodes: set[str] = set()
        with gc_paused():
            self._catalogue = _Catalogue(cards)
            seller_names = {warehouse.id: warehouse.name for warehouse in seller_warehouses}
            self._seller_names = frozenset(seller_names.values())
            self._place_remains(remains)
            self._place_fbs(fbs_stocks, seller_names)
        # warehouse name -> (one shared object for the name: each order group brings its own
        # copy, and the figures and rows would keep one per group; the orders' slot in a
        # size's record when the type does not say it is the seller's).
        self._places: dict[str, tuple[str, int]] = {}

    def _place_remains(self, remains: Iterable[RemainsRow]) -> None:
        catalogue = self._catalogue

        def unmatched(row: RemainsRow) -> int:
            """The size of a row whose barcode is no card size of its product."""
            size = catalogue.other_size(row.nm_id, row.barcode, row.tech_size)
            catalogue.describe(row.nm_id, row.vendor_code, row.brand, row.subject, "")
            return size

        rows = remains if isinstance(remains, Sequence) else list(remains)
        for start in range(0, len(rows), _REMAINS_PER_CALL):
            _place_remains_rows(
                rows[start : start + _REMAINS_PER_CALL],
                catalogue.by_key,
                catalogue.table,
                _FIGURES + _AT_WB,
                _STOCK_LEVELS,
                IN_TRANSIT_TO_BUYERS,
                self._to_buyers,
                IN_TRANSIT_RETURNS,
                self._returns,
                TOTAL_ON_WAREHOUSES,
                unmatched,
            )

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
                    units = _stock_figures(amount)
                    known = at_seller.get(name)
                    at_seller[name] = units if known is None else known + units

    def add_orders(self, window: tuple[datetime, datetime], groups: Iterable[OrderGroup]) -> None:
        """Add order groups counted for `window` (naive Moscow start and end; see OrderCounts).

        Groups that share their size and warehouse add up, so the orders may come counted
        per OrderKey or one per row (n = 1); each order of the window exactly once. The sync
        reads them in two steps instead (add_warehouse_orders, then add_unmatched_orders).
        """
        self._add_groups(window, groups, skip_matched=False)

    def add_warehouse_orders(
        self,
        window: tuple[datetime, datetime],
        warehouse: str,
        seller_type: bool,
        is_cancel: bool,
        keys: Sequence[str],
    ) -> None:
        """Add the window's orders at one warehouse, of one type and cancellation, each given
        by its order_size_key (an order twice: two keys). Those whose barcode is not a card
        size of their product (rare) leave their barcode in `unmatched_barcodes`: their full
        groups go to add_unmatched_orders.

        The sync's hot path: a large seller's 30 days are ~500,000 keys, and what was a tuple
        of six values per order read from the database (two of them strings) is one string
        here, its size found in one lookup, then counted in the table's order
        (_add_keyed_orders_python says why).
        """
        self._check_window(window)
        catalogue = self._catalogue
        table, by_key = catalogue.table, catalogue.by_key
        name, slot = self._place(warehouse)
        if seller_type:
            slot = _FIGURES + _AT_SELLER
        one = _CANCELLED_ORDER if is_cancel else 1
        unmatched: list[str] = []
        with gc_paused():
            for start in range(0, len(keys), _KEYS_PER_CALL):
                unmatched += _add_keyed_orders(
                    table, by_key, keys[start : start + _KEYS_PER_CALL], slot, name, one
                )
        for key in unmatched:
            self.unmatched_barcodes.add(key.rpartition(" ")[0])

    def add_unmatched_orders(
        self, window: tuple[datetime, datetime], groups: Iterable[OrderGroup]
    ) -> None:
        """Add the full groups that add_warehouse_orders left out (their barcode is not a card
        size of their product), matched by tech size or given a size of their own. Groups it
        added are skipped, so these may be every group of the barcodes in `unmatched_barcodes`.
        """
        self._add_groups(window, groups, skip_matched=True)

    def _add_groups(
        self,
        window: tuple[datetime, datetime],
        groups: Iterable[OrderGroup],
        *,
        skip_matched: bool,
    ) -> None:
        self._check_window(window)
        catalogue = self._catalogue
        by_key = catalogue.by_key
        with gc_paused():
            for nm_id, barcode, tech_size, article, name, seller_type, is_cancel, n in groups:
                size = by_key.get(f"{barcode} {nm_id}")  # order_size_key, inline
                if size is None:
                    size = catalogue.other_size(nm_id, barcode, tech_size)
                    catalogue.describe(nm_id, article, "", "", "")
                elif skip_matched:
                    continue  # added by add_warehouse_orders
                self._count(size, name, seller_type, is_cancel, n)

    def _count(self, size: int, name: str, seller_type: bool, is_cancel: bool, n: int) -> None:
        """Count n orders of a size at a warehouse (and as cancelled when they are)."""
        text, slot = self._place(name)
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

    def _place(self, name: str) -> tuple[str, int]:
        """A warehouse name's shared object and its figures' slot (by the name alone)."""
        place = self._places.get(name)
        if place is None:
            kind = _AT_SELLER if name in self._seller_names else _AT_WB
            place = self._places[name] = (name, _FIGURES + kind)
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
        catalogue.by_key, catalogue.by_tech_size, catalogue.by_chrt = {}, {}, {}
        self._places = {}
        with gc_paused():
            return _assemble(
                catalogue=catalogue,
                in_transit=(self._to_buyers, self._returns),
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
    in_transit: tuple[dict[int, int], dict[int, int]],
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
    values: list[Any] = []  # the rows' values, row after row (see StockRows)
    products, descriptions = catalogue.products, catalogue.descriptions
    to_buyers, returns = in_transit
    # By vendor code, then nm_id: the cards' products are in that order already (see
    # _Catalogue); two stable sorts on plain keys take half the time of one on (vendor code,
    # nm_id) tuples.
    by_nm_id = list(products)
    if len(by_nm_id) > catalogue.on_cards:  # products only other data has
        by_nm_id.sort()
        by_nm_id.sort(key=lambda nm_id: descriptions[products[nm_id]])
    for nm_id in by_nm_id:
        at = products[nm_id]
        vendor_code, brand, subject, title = descriptions[at : at + 4]
        sizes = catalogue.take_sizes(nm_id)
        units = [0, 0]  # at WB, at the seller's
        product_orders = product_cancelled = 0
        for kind, slot in kinds:
            kind_units, ordered, cancelled = _add_size_rows(
                values, table, sizes, slot, kind, nm_id, window_days
            )
            units[slot - _FIGURES] = kind_units
            product_orders += ordered
            product_cancelled += cancelled
        fbo, fbs = units
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
                    to_buyers.get(nm_id, 0),
                    returns.get(nm_id, 0),
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
    catalogue.descriptions.clear()
    table.clear()

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
