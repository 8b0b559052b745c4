"""The /export file: the same two tabs as the sheet, read back with openpyxl."""

from __future__ import annotations

import time
from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from core.exporters.layout import build_tables
from core.exporters.xlsx import build_xlsx, build_xlsx_in_thread
from tests.fakes.sheets import generated_report
from tests.unit.test_export_layout import small_report


def _open(data: bytes) -> Any:
    return load_workbook(BytesIO(data))


def _values(sheet: Any) -> list[list[Any]]:
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    for row in rows:
        while row and row[-1] is None:
            row.pop()
    return rows


def _trimmed(rows: list[list[Any]]) -> list[list[Any]]:
    out = [list(row) for row in rows]
    for row in out:
        while row and row[-1] is None:
            row.pop()
    return out


def test_file_has_both_tabs_with_the_layout_values() -> None:
    report = small_report()
    workbook = _open(build_xlsx(report, lang="ru", tz="Europe/Moscow"))
    summary, sizes = build_tables(report, lang="ru", tz="Europe/Moscow")

    assert workbook.sheetnames == ["Сводка", "По размерам"]
    # The age line depends on "now"; everything else is the layout, cell for cell.
    assert _values(workbook["Сводка"])[2:] == _trimmed(summary.rows)[2:]
    assert _values(workbook["По размерам"])[2:] == _trimmed(sizes.rows)[2:]
    assert workbook["Сводка"]["K8"].value == "нет продаж"
    assert workbook["По размерам"]["D10"].value == "0012"


def test_header_is_bold_and_frozen_with_first_columns() -> None:
    workbook = _open(build_xlsx(small_report(), lang="ru", tz="Europe/Moscow"))
    summary, sizes = workbook["Сводка"], workbook["По размерам"]

    assert summary.freeze_panes == "E6"
    assert sizes.freeze_panes == "D5"
    assert summary["A5"].font.b and summary["L4"].font.b
    assert sizes["A4"].font.b
    assert not summary["A6"].font.b


def test_number_formats_and_widths_follow_the_layout() -> None:
    report = small_report()
    workbook = _open(build_xlsx(report, lang="ru", tz="Europe/Moscow"))
    summary = workbook["Сводка"]
    layout = build_tables(report)[0]

    assert summary["D6"].number_format == "0"  # nmID without thousands separators
    assert summary["E6"].number_format == "#,##0"
    assert summary["K6"].number_format == "0.0"
    assert summary["K6"].value == 17.5
    assert summary["Q6"].number_format == "0.0"
    assert summary.column_dimensions["C"].width == layout.column_widths[2]
    assert summary.column_dimensions["Z"].width == layout.column_widths[25]


async def test_english_file_says_no_sales() -> None:
    workbook = _open(await build_xlsx_in_thread(small_report(), lang="en", tz="Europe/Moscow"))

    assert workbook["Сводка"]["K8"].value == "no sales"
    assert workbook["Сводка"]["A5"].value == "Brand"


@pytest.mark.slow
def test_thousand_products_build_time_is_reported() -> None:
    report = generated_report(products=1_000, warehouses=60)

    started = time.perf_counter()
    data = build_xlsx(report, lang="ru", tz="Europe/Moscow")
    elapsed = time.perf_counter() - started

    print(
        f"\nxlsx: 1,000 products, 60 warehouses, {len(report.rows)} size rows: "
        f"{elapsed:.2f} s, {len(data) / 1e6:.2f} MB"
    )
    workbook = load_workbook(BytesIO(data), read_only=True)
    assert sum(1 for _ in workbook["Сводка"].iter_rows(values_only=True)) == 1_000 + 5
    assert sum(1 for _ in workbook["По размерам"].iter_rows()) == len(report.rows) + 4
    assert elapsed < 60
