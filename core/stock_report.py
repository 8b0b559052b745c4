"""The stock report's shape: what `core.report.build_report` returns and exporters consume."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any, NamedTuple, overload


class WarehouseKind(StrEnum):
    """Where stock sits: a WB warehouse (FBO) or one of the seller's own (FBS)."""

    WB = "wb"
    SELLER = "seller"


class DataPart(StrEnum):
    """The parts a sync reads; each has its own age."""

    CARDS = "cards"
    FBS_STOCK = "fbs_stock"
    REMAINS = "remains"
    ORDERS = "orders"


# StockRow and WarehouseFigures are named tuples, not frozen dataclasses: a large seller's
# report has hundreds of thousands of each, and a tuple is made in a quarter of the time (and
# is smaller). Read them by field name; unlike a dataclass, one also equals a plain tuple of
# the same values.


class StockRow(NamedTuple):
    """One product size at one warehouse."""

    nm_id: int
    chrt_id: int | None
    barcode: str
    size: str
    warehouse: str
    kind: WarehouseKind
    stock: int
    orders: int  # orders placed in the window (cancelled included)
    cancelled: int
    days_of_cover: float | None  # None: no sales in the window


# StockRow(*values) without the generated __new__'s Python call.
_as_row = partial(tuple.__new__, StockRow)


_WIDTH = len(StockRow._fields)


class StockRows(Sequence[StockRow]):
    """The rows of a built report, their values in one flat list: row i's fields are items
    i * 10 to i * 10 + 9, in StockRow's order.

    A large seller's report has 226,000-548,000 rows. As tuples each row was an object that
    the garbage collector walked in every collection while the report lived (0.12 s for the
    7-day report's first one, docs/performance.md, part 8); a list is one object. Reading a
    row makes its StockRow then. It takes the list over, uncopied: nothing else may change it.
    """

    __slots__ = ("_values",)

    def __init__(self, values: list[Any]) -> None:
        if len(values) % _WIDTH:
            raise ValueError(f"{len(values)} values are not whole rows of {_WIDTH}")
        self._values = values

    def __len__(self) -> int:
        return len(self._values) // _WIDTH

    @overload
    def __getitem__(self, index: int) -> StockRow: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[StockRow, ...]: ...

    def __getitem__(self, index: int | slice) -> StockRow | tuple[StockRow, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        count = len(self)
        position = index + count if index < 0 else index
        if not 0 <= position < count:
            raise IndexError("row index out of range")
        start = position * _WIDTH
        return _as_row(self._values[start : start + _WIDTH])

    def __iter__(self) -> Iterator[StockRow]:
        return map(_as_row, self.values())

    def values(self) -> Iterator[RowValues]:
        """Each row's fields as a plain tuple (see row_values)."""
        values = iter(self._values)
        return zip(*(values,) * _WIDTH, strict=True)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StockRows):
            return self._values == other._values
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"StockRows({len(self)} rows)"


RowValues = tuple[int, int | None, str, str, str, WarehouseKind, int, int, int, float | None]


def row_values(rows: Sequence[StockRow]) -> Iterator[RowValues]:
    """The rows' fields as tuples in StockRow's order, for code that unpacks them: from a
    StockRows without making a StockRow per row (a third of the time to walk them)."""
    if isinstance(rows, StockRows):
        return rows.values()
    return iter(rows)


class WarehouseFigures(NamedTuple):
    """A product's figures at one warehouse."""

    warehouse: str
    kind: WarehouseKind
    stock: int
    orders: int
    cancelled: int
    days_of_cover: float | None


class ProductSummary(NamedTuple):
    """One product (nmID) across all its sizes and warehouses.

    A named tuple like StockRow: a large seller's build makes 20,000, and a frozen slotted
    dataclass took 1.4 us each to make against 0.2 us (~25 ms of the 7-day build).
    """

    nm_id: int
    vendor_code: str
    brand: str
    subject: str
    title: str
    sizes: int
    fbo_units: int
    fbs_units: int
    in_transit_to_buyers: int
    in_transit_returns: int
    orders: int
    cancelled: int
    days_of_cover: float | None
    # Its figures per warehouse are derived from the report's rows when needed
    # (core.report.warehouse_figures).

    @property
    def total_units(self) -> int:
        return self.fbo_units + self.fbs_units


@dataclass(frozen=True, slots=True)
class LowStockItem:
    """A product whose days of cover fall below the threshold (or sold out after sales)."""

    nm_id: int
    vendor_code: str
    stock: int
    orders: int
    days_of_cover: float


@dataclass(frozen=True, slots=True)
class ReportTotals:
    products: int
    sizes: int
    fbo_units: int
    fbs_units: int
    in_transit_to_buyers: int
    in_transit_returns: int
    orders: int
    cancelled: int


@dataclass(frozen=True, slots=True)
class StockReport:
    """Everything a seller sees about stock after a sync."""

    generated_at: datetime  # aware UTC
    window_days: int
    window_start: datetime  # Moscow local time, naive (WB's order dates are)
    window_end: datetime
    low_stock_threshold: float
    products: tuple[ProductSummary, ...]
    rows: Sequence[StockRow]  # StockRows, built or loaded
    totals: ReportTotals
    low_stock: tuple[LowStockItem, ...]
    part_times: dict[DataPart, datetime | None] = field(default_factory=dict)  # aware UTC
