"""The export layout: a stock report as two tables of cells, shared by the XLSX and Sheets writers.

Both writers render exactly these tables, so the file and the sheet can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal
from zoneinfo import ZoneInfo

from core.exporters.headers import ExportTexts, texts_for
from core.report import gc_paused, warehouse_figures
from core.stock_report import (
    DataPart,
    StockReport,
    StockRow,
    WarehouseFigures,
    WarehouseKind,
    row_values,
)

Cell = str | int | float | None
ColumnFormat = Literal["text", "id", "int", "decimal1"]

# Number patterns understood alike by Excel and Google Sheets.
NUMBER_PATTERNS: Final[dict[ColumnFormat, str]] = {
    "id": "0",
    "int": "#,##0",
    "decimal1": "0.0",
}

MIN_WIDTH: Final = 6
MAX_WIDTH: Final = 40
INFO_LINES: Final = 3

PART_ORDER: Final = (DataPart.CARDS, DataPart.REMAINS, DataPart.FBS_STOCK, DataPart.ORDERS)


@dataclass(frozen=True, slots=True)
class Table:
    """One tab: rows of cells (a row may be shorter than `width`), frozen header, widths, formats.

    Rows before `frozen_rows` are the header; `bold_rows` are its column-title rows.
    `column_formats` apply to the data rows (from `frozen_rows` on).
    """

    title: str
    rows: list[list[Cell]]
    frozen_rows: int
    frozen_columns: int
    bold_rows: tuple[int, ...]
    column_widths: list[int]
    column_formats: list[ColumnFormat]

    @property
    def width(self) -> int:
        return len(self.column_formats)


@dataclass(frozen=True, slots=True)
class WarehouseColumn:
    """A warehouse's column group in the summary tab."""

    kind: WarehouseKind
    name: str


def round_cover(days: float) -> float:
    """Days of cover to one decimal, halves away from zero (as Excel's ROUND does)."""
    return float(Decimal(repr(days)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def cover_cell(days: float | None, texts: ExportTexts) -> Cell:
    """Days of cover as a cell: a number, or the "no sales" text (infinite cover, never 0)."""
    return texts["no_sales"] if days is None else round_cover(days)


def format_age(age_seconds: float, texts: ExportTexts) -> str:
    """A data part's age in words: minutes, then hours, then days."""
    minutes_total = int(max(age_seconds, 0) // 60)
    if minutes_total < 1:
        return texts["age_under_minute"]
    hours_total, minutes = divmod(minutes_total, 60)
    if hours_total < 1:
        return texts["age_minutes"].format(minutes=minutes)
    days, hours = divmod(hours_total, 24)
    if days < 1:
        return texts["age_hours"].format(hours=hours, minutes=minutes)
    return texts["age_days"].format(days=days, hours=hours)


def part_name(part: DataPart, texts: ExportTexts) -> str:
    """A data part as the seller knows it."""
    names = {
        DataPart.CARDS: texts["part_cards"],
        DataPart.REMAINS: texts["part_remains"],
        DataPart.FBS_STOCK: texts["part_fbs_stock"],
        DataPart.ORDERS: texts["part_orders"],
    }
    return names[part]


def info_lines(report: StockReport, texts: ExportTexts, tz: str, now: datetime) -> list[list[Cell]]:
    """The lines above the column titles: data time and window, part ages, the formula."""
    local_time = report.generated_at.astimezone(ZoneInfo(tz))
    data_time = texts["data_time"].format(time=local_time.strftime(texts["time_format"]), tz=tz)
    window = texts["window"].format(
        start=report.window_start.strftime(texts["window_format"]),
        end=report.window_end.strftime(texts["window_format"]),
    )
    ages = []
    for part in PART_ORDER:
        fetched = report.part_times.get(part)
        age = (
            texts["age_never"]
            if fetched is None
            else format_age((now - fetched).total_seconds(), texts)
        )
        ages.append(f"{part_name(part, texts)} — {age}")
    formula = texts["formula"].format(n=report.window_days)
    return [[f"{data_time}; {window}"], [texts["ages"].format(parts=", ".join(ages))], [formula]]


def warehouse_columns(rows: Sequence[StockRow]) -> list[WarehouseColumn]:
    """Every warehouse any row has: WB warehouses by name, then the seller's by name."""
    seen = {(kind, warehouse) for _, _, _, _, warehouse, kind, _, _, _, _ in row_values(rows)}
    order = {WarehouseKind.WB: 0, WarehouseKind.SELLER: 1}
    ordered = sorted(seen, key=lambda key: (order[key[0]], key[1].casefold(), key[1]))
    return [WarehouseColumn(kind=kind, name=name) for kind, name in ordered]


def _kind_label(kind: WarehouseKind, texts: ExportTexts) -> str:
    return texts["kind_wb"] if kind is WarehouseKind.WB else texts["kind_seller"]


def _widths(
    rows: list[list[Cell]], first_row: int, width: int, formats: list[ColumnFormat]
) -> list[int]:
    """Column widths in characters from the longest title or value, clamped."""
    widths = [MIN_WIDTH] * width
    for row in rows[first_row:]:
        for index, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, float):
                length = len(f"{value:.1f}")
            elif isinstance(value, int) and formats[index] == "int":
                length = len(f"{value:,}")
            else:
                length = len(str(value))
            if length + 2 > widths[index]:
                widths[index] = length + 2
    return [min(w, MAX_WIDTH) for w in widths]


def summary_table(report: StockReport, texts: ExportTexts, tz: str, now: datetime) -> Table:
    """The "Сводка" tab: one row per product, then a (stock, orders, cover) group per warehouse."""
    n = report.window_days
    fixed_titles: list[Cell] = [
        texts["col_brand"],
        texts["col_subject"],
        texts["col_vendor_code"],
        texts["col_nm_id"],
        texts["col_fbo"],
        texts["col_fbs"],
        texts["col_total"],
        texts["col_to_buyers"],
        texts["col_returns"],
        texts["col_orders"].format(n=n),
        texts["col_days"],
    ]
    formats: list[ColumnFormat] = ["text", "text", "text", "id"]
    formats += ["int", "int", "int", "int", "int", "int", "decimal1"]
    warehouses = warehouse_columns(report.rows)
    group_row: list[Cell] = [None] * len(fixed_titles)
    title_row: list[Cell] = list(fixed_titles)
    for column in warehouses:
        group_row += [f"{column.name} ({_kind_label(column.kind, texts)})", None, None]
        title_row += [texts["wh_stock"], texts["wh_orders"], texts["wh_days"]]
        formats += ["int", "int", "decimal1"]

    rows = info_lines(report, texts, tz, now)
    header_start = len(rows)
    rows += [group_row, title_row]
    frozen = len(rows)
    for product, figures_of_product in warehouse_figures(report):
        row: list[Cell] = [
            product.brand,
            product.subject,
            product.vendor_code,
            product.nm_id,
            product.fbo_units,
            product.fbs_units,
            product.total_units,
            product.in_transit_to_buyers,
            product.in_transit_returns,
            product.orders,
            cover_cell(product.days_of_cover, texts),
        ]
        at: dict[tuple[WarehouseKind, str], WarehouseFigures] = {
            (figures.kind, figures.warehouse): figures for figures in figures_of_product
        }
        for column in warehouses:
            figures = at.get((column.kind, column.name))
            if figures is None:
                row += [None, None, None]
            else:
                row += [
                    figures.stock,
                    figures.orders,
                    cover_cell(figures.days_of_cover, texts),
                ]
        rows.append(row)

    widths = _widths(rows, header_start + 1, len(formats), formats)
    fixed = len(fixed_titles)
    for index in range(len(warehouses)):
        # The warehouse name overflows its group's three cells; keep it from being clipped.
        start = fixed + 3 * index
        name = group_row[start]
        missing = len(str(name)) + 1 - sum(widths[start : start + 3])
        if missing > 0:
            widths[start + 2] = min(widths[start + 2] + missing, MAX_WIDTH)
    return Table(
        title=texts["tab_summary"],
        rows=rows,
        frozen_rows=frozen,
        frozen_columns=4,
        bold_rows=(header_start, header_start + 1),
        column_widths=widths,
        column_formats=formats,
    )


def sizes_table(report: StockReport, texts: ExportTexts, tz: str, now: datetime) -> Table:
    """The "По размерам" tab: one row per product size at one warehouse."""
    titles: list[Cell] = [
        texts["col_vendor_code"],
        texts["col_nm_id"],
        texts["col_size"],
        texts["col_barcode"],
        texts["col_warehouse"],
        texts["col_kind"],
        texts["wh_stock"],
        texts["col_orders"].format(n=report.window_days),
        texts["col_days"],
    ]
    formats: list[ColumnFormat] = ["text", "id", "text", "text", "text", "text"]
    formats += ["int", "int", "decimal1"]
    vendor_codes = {product.nm_id: product.vendor_code for product in report.products}
    rows = info_lines(report, texts, tz, now)
    header_row = len(rows)
    rows.append(titles)
    for nm_id, _, barcode, size, warehouse, kind, stock, orders, _, cover in row_values(
        report.rows
    ):
        rows.append(
            [
                vendor_codes.get(nm_id, ""),
                nm_id,
                size,
                barcode,
                warehouse,
                _kind_label(kind, texts),
                stock,
                orders,
                cover_cell(cover, texts),
            ]
        )
    return Table(
        title=texts["tab_sizes"],
        rows=rows,
        frozen_rows=header_row + 1,
        frozen_columns=3,
        bold_rows=(header_row,),
        column_widths=_widths(rows, header_row, len(formats), formats),
        column_formats=formats,
    )


def build_tables(
    report: StockReport,
    *,
    lang: str = "ru",
    tz: str = "Europe/Moscow",
    now: datetime | None = None,
) -> list[Table]:
    """The summary and by-size tables of `report`, texts in `lang`, times in the seller's `tz`."""
    texts = texts_for(lang)
    moment = now if now is not None else datetime.now(UTC)
    # A list of cells per row, ~750,000 for a large seller, none in a cycle (see gc_paused).
    with gc_paused():
        return [summary_table(report, texts, tz, moment), sizes_table(report, texts, tz, moment)]
