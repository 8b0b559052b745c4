"""The stock report's shape: what `core.report.build_report` returns and exporters consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple


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


class WarehouseFigures(NamedTuple):
    """A product's figures at one warehouse."""

    warehouse: str
    kind: WarehouseKind
    stock: int
    orders: int
    cancelled: int
    days_of_cover: float | None


@dataclass(frozen=True, slots=True)
class ProductSummary:
    """One product (nmID) across all its sizes and warehouses."""

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
    rows: tuple[StockRow, ...]
    totals: ReportTotals
    low_stock: tuple[LowStockItem, ...]
    part_times: dict[DataPart, datetime | None] = field(default_factory=dict)  # aware UTC
