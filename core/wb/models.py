"""Typed rows read from the WB seller API, already normalized to our field names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class CardSize:
    """One size of a product card; `chrt_id` is WB's size id (chrtID in Content)."""

    chrt_id: int
    tech_size: str
    wb_size: str
    barcodes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Card:
    """A product card (one nmID) with its sizes."""

    nm_id: int
    imt_id: int
    vendor_code: str
    brand: str
    title: str
    subject: str
    sizes: tuple[CardSize, ...]


@dataclass(frozen=True, slots=True)
class SellerWarehouse:
    """A seller's own warehouse from Marketplace (`/api/v3/warehouses`)."""

    id: int
    name: str
    office_id: int
    delivery_type: int


@dataclass(frozen=True, slots=True)
class FbsStock:
    """Units of one size at one seller warehouse."""

    warehouse_id: int
    chrt_id: int
    amount: int


@dataclass(frozen=True, slots=True)
class RemainsRow:
    """One row of the warehouse-remains report (one size of one product).

    `warehouses` keeps WB's entries as they come, service rows included
    ("В пути до получателей", "В пути возвраты на склад WB", "Всего находится на складах");
    the report builder decides what each one means.
    """

    nm_id: int
    vendor_code: str
    barcode: str
    tech_size: str
    brand: str
    subject: str
    warehouses: tuple[tuple[str, int], ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Order:
    """One unit ordered (`supplier/orders` row); `srid` is the order's unique id."""

    srid: str
    date: datetime  # Moscow local time, naive, as WB sends it
    last_change_date: datetime  # Moscow local time, naive
    nm_id: int
    barcode: str
    tech_size: str
    supplier_article: str
    warehouse_name: str
    warehouse_type: str  # "Склад WB" or "Склад продавца"
    is_cancel: bool
    cancel_date: datetime | None
    g_number: str = ""
    finished_price: float = 0.0
