"""The Google Sheets export against a local fake of Sheets API v4 and Google's token endpoint."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from core.exporters import sheets
from core.exporters.layout import Table, build_tables
from core.exporters.sheets import (
    DECIMAL_SEPARATORS,
    MAX_BATCH_BYTES,
    SheetNotFound,
    SheetNotShared,
    SheetsExporter,
    SheetsNotConfigured,
    SheetsUnavailable,
    parse_spreadsheet_id,
    plan_batches,
    service_account_email,
)
from core.stock_report import StockReport
from tests.fakes.sheets import (
    FakeSheets,
    generated_report,
    parse_pasted,
    write_service_account_file,
)
from tests.unit.test_export_layout import small_report

SHEET_ID = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSheets]:
    async with FakeSheets() as server:
        yield server


@pytest.fixture
def service_account(tmp_path: Path, fake: FakeSheets) -> str:
    path = tmp_path / "service-account.json"
    write_service_account_file(path, fake.token_uri)
    return str(path)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def exporter(service_account: str, fake: FakeSheets, sleeps: list[float]) -> SheetsExporter:
    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    return SheetsExporter(service_account, fake.url, sleep=sleep)


def _trimmed(table: Table) -> list[list[Any]]:
    rows = [list(row) for row in table.rows]
    for row in rows:
        while row and row[-1] is None:
            row.pop()
    return rows


def _without_age_line(rows: list[list[Any]]) -> list[list[Any]]:
    # The data-age line depends on the moment of writing; every other cell is fixed.
    return rows[:1] + rows[2:]


def _assert_written(written: list[list[Any]], table: Table) -> None:
    """The tab shows the table's cells: equal values, text as text and numbers as numbers."""
    expected = _without_age_line(_trimmed(table))
    actual = _without_age_line(written)
    assert actual == expected
    for got_row, want_row in zip(actual, expected, strict=True):
        for got, want in zip(got_row, want_row, strict=True):
            assert isinstance(got, str) == isinstance(want, str), (got, want)


def _offline(bodies: list[bytes], locale: str) -> FakeSheets:
    """The fake with `bodies` applied in process (no HTTP), for the large cases."""
    fake = FakeSheets()
    fake.add_spreadsheet(SHEET_ID, locale=locale)
    for body in bodies:
        fake.apply_batch(SHEET_ID, body)
    return fake


def _kinds(body: dict[str, Any]) -> list[str]:
    kinds = []
    for request in body["requests"]:
        (kind, inner), *_ = request.items()
        values = kind == "updateCells" and "rows" in inner
        kinds.append("decimals" if values else "clear" if kind == "updateCells" else kind)
    return kinds


def _tricky_report() -> StockReport:
    """Texts Sheets would take for numbers, dates, formulas or separators if typed bare."""
    report = small_report()
    first, second, third = report.products
    products = (
        first._replace(vendor_code="0012", brand="=SUM(A1:A3)"),
        second._replace(vendor_code="17.5", brand="'quoted", subject="TRUE"),
        third._replace(vendor_code="-5", brand='"Уют" | плед', subject="tab\there\nand line"),
    )
    rows = (
        report.rows[0]._replace(size="44-46"),
        report.rows[1]._replace(size="2,5"),
        report.rows[2]._replace(size=""),
        *report.rows[3:],
    )
    return replace(report, products=products, rows=rows)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"https://docs.google.com/spreadsheets/d/{SHEET_ID}/edit#gid=0", SHEET_ID),
        (f"  https://docs.google.com/spreadsheets/u/1/d/{SHEET_ID}/edit?usp=sharing ", SHEET_ID),
        (f"docs.google.com/spreadsheets/d/{SHEET_ID}", SHEET_ID),
        (SHEET_ID, SHEET_ID),
        ("https://docs.google.com/spreadsheets/d/e/2PACX-1vQ/pubhtml", None),
        ("https://example.com/not-a-sheet", None),
        ("hello", None),
        ("", None),
        (f"{SHEET_ID}; DROP TABLE", None),
    ],
)
def test_spreadsheet_id_from_url_or_bare_id(text: str, expected: str | None) -> None:
    assert parse_spreadsheet_id(text) == expected


def test_service_account_email_read_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sa.json"
    email = write_service_account_file(path, "http://127.0.0.1:1/token")

    assert service_account_email(str(path)) == email
    with pytest.raises(SheetsNotConfigured):
        service_account_email(str(tmp_path / "missing.json"))


async def test_check_access_returns_the_spreadsheet_title(
    fake: FakeSheets, exporter: SheetsExporter
) -> None:
    fake.add_spreadsheet(SHEET_ID, title="Остатки Nordic Line")

    assert await exporter.check_access(SHEET_ID) == "Остатки Nordic Line"
    assert fake.reads == 1
    assert fake.count("token") == 1


async def test_check_access_on_a_sheet_not_shared_says_so(
    fake: FakeSheets, exporter: SheetsExporter
) -> None:
    fake.add_spreadsheet(SHEET_ID, shared=False)

    with pytest.raises(SheetNotShared, match="does not have permission"):
        await exporter.check_access(SHEET_ID)
    assert fake.reads == 1  # 403 is the seller's to fix: no retry


async def test_check_access_on_an_unknown_sheet_says_not_found(
    fake: FakeSheets, exporter: SheetsExporter
) -> None:
    with pytest.raises(SheetNotFound, match="not found"):
        await exporter.check_access(SHEET_ID)
    assert fake.reads == 1


@pytest.mark.parametrize("path", ["", "/nonexistent/service-account.json"])
async def test_check_access_without_a_service_account_is_not_configured(
    fake: FakeSheets, path: str
) -> None:
    fake.add_spreadsheet(SHEET_ID)

    with pytest.raises(SheetsNotConfigured):
        await SheetsExporter(path, fake.url).check_access(SHEET_ID)
    assert fake.requests == []


async def test_write_report_costs_one_read_and_one_batch_update(
    fake: FakeSheets, exporter: SheetsExporter
) -> None:
    fake.add_spreadsheet(SHEET_ID, tabs=("Сводка", "По размерам"))
    report = small_report()

    result = await exporter.write_report(SHEET_ID, report, lang="ru", tz="Europe/Moscow")

    assert (fake.reads, fake.writes) == (1, 1)
    assert result.requests == fake.reads + fake.writes
    assert result.payload_bytes == fake.requests[-1].body_bytes
    summary, sizes = build_tables(report, lang="ru", tz="Europe/Moscow")
    written = fake.cells(SHEET_ID, "Сводка")
    _assert_written(written, summary)
    _assert_written(fake.cells(SHEET_ID, "По размерам"), sizes)
    assert written[7][10] == "нет продаж"
    assert written[5][2:5] == ["ART-1", 111, 30]
    assert written[5][10] == 17.5
    assert isinstance(written[5][10], float)
    assert fake.cells(SHEET_ID, "По размерам")[9][2:4] == ["0", "0012"]


@pytest.mark.parametrize("locale", ["ru_RU", "en_US", "pt_BR"])
async def test_text_stays_text_and_numbers_stay_numbers_in_any_locale(
    fake: FakeSheets, exporter: SheetsExporter, locale: str
) -> None:
    fake.add_spreadsheet(SHEET_ID, tabs=("Сводка", "По размерам"), locale=locale)
    report = _tricky_report()

    await exporter.write_report(SHEET_ID, report)

    summary, sizes = build_tables(report)
    written, by_size = fake.cells(SHEET_ID, "Сводка"), fake.cells(SHEET_ID, "По размерам")
    assert written[5][:3] == ["=SUM(A1:A3)", "Футболки", "0012"]
    assert written[6][:3] == ["'quoted", "TRUE", "17.5"]
    assert written[7][:3] == ['"Уют" | плед', "tab here and line", "-5"]
    assert [row[2] for row in by_size[4:10]] == ["44-46", "2,5", "", "44", "0", "0"]
    assert (written[5][10], written[6][10], by_size[4][8]) == (17.5, 15.8, 9.3)
    # Tabs and newlines inside a text become spaces; nothing else differs from the layout.
    summary.rows[7][1] = "tab here and line"
    _assert_written(written, summary)
    _assert_written(by_size, sizes)
    body = fake.batch_bodies[0]
    pasted = [r["pasteData"] for r in body["requests"] if "pasteData" in r]
    assert [p["type"] for p in pasted] == ["PASTE_VALUES", "PASTE_VALUES"]
    assert pasted[0]["delimiter"] == "~"  # a brand holds "|"
    assert pasted[1]["delimiter"] == "|"
    separator = DECIMAL_SEPARATORS.get(locale)
    decimals = "decimals" in _kinds(body)
    assert decimals == (separator is None)  # fractions typed only where the separator is known
    if separator is not None:
        assert f"|9{separator}3" in pasted[1]["data"]


async def test_fake_takes_a_decimal_point_in_a_russian_sheet_for_text(
    fake: FakeSheets, exporter: SheetsExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bug the locale guards against: "17.5" typed into a ru_RU sheet is not a number.
    monkeypatch.setitem(DECIMAL_SEPARATORS, "ru_RU", ".")
    fake.add_spreadsheet(SHEET_ID, tabs=("Сводка", "По размерам"))

    await exporter.write_report(SHEET_ID, small_report())

    assert fake.cells(SHEET_ID, "Сводка")[5][10] == "17.5"
    assert fake.cells(SHEET_ID, "По размерам")[4][8] == "9.3"


@pytest.mark.parametrize(
    ("text", "locale", "value"),
    [
        ("17,5", "ru_RU", {"numberValue": 17.5}),
        ("17.5", "ru_RU", {"stringValue": "17.5"}),
        ("17.5", "en_US", {"numberValue": 17.5}),
        ("17,5", "en_US", {"stringValue": "17,5"}),
        ("17.5", "pt_BR", {"stringValue": "17.5"}),
        ("0012", "ru_RU", {"numberValue": 12}),
        ("-5", "pt_BR", {"numberValue": -5}),
        ("'0012", "ru_RU", {"stringValue": "0012"}),
        ("''x", "ru_RU", {"stringValue": "'x"}),
        ("'", "ru_RU", {"stringValue": ""}),
        ("44-46", "ru_RU", {"stringValue": "44-46"}),
        ("=SUM(A1)", "ru_RU", {"formulaValue": "=SUM(A1)"}),
        ("true", "en_US", {"boolValue": True}),
        ("", "ru_RU", None),
    ],
)
def test_fake_parses_pasted_cells_as_typed_input(
    text: str, locale: str, value: dict[str, Any] | None
) -> None:
    assert parse_pasted(text, locale) == value


async def test_batch_update_resizes_clears_and_formats_before_pasting_values(
    fake: FakeSheets, exporter: SheetsExporter
) -> None:
    fake.add_spreadsheet(SHEET_ID, tabs=("Сводка", "По размерам"), locale="pt_BR")

    await exporter.write_report(SHEET_ID, small_report())

    kinds = _kinds(fake.batch_bodies[0])
    first_value = kinds.index("pasteData")
    assert set(kinds[:first_value]) == {
        "updateSheetProperties",
        "clear",
        "repeatCell",
        "updateDimensionProperties",
    }
    assert set(kinds[first_value:]) == {"pasteData", "decimals"}
    assert kinds.index("decimals") > first_value  # an empty pasted cell would clear a decimal
    tab = fake.tab(SHEET_ID, "По размерам")
    assert tab.cells[(4, 8)] == {
        "userEnteredValue": {"numberValue": 9.3},
        "userEnteredFormat": {"numberFormat": {"type": "NUMBER", "pattern": "0.0"}},
    }
    assert tab.cells[(4, 1)]["userEnteredFormat"]["numberFormat"]["pattern"] == "0"


async def test_written_tab_is_frozen_bold_formatted_and_sized(
    fake: FakeSheets, exporter: SheetsExporter
) -> None:
    fake.add_spreadsheet(SHEET_ID, tabs=("Сводка", "По размерам"))

    await exporter.write_report(SHEET_ID, small_report(), lang="ru", tz="Europe/Moscow")

    tab = fake.tab(SHEET_ID, "Сводка")
    assert (tab.frozen_rows, tab.frozen_columns) == (5, 4)
    assert (tab.row_count, tab.column_count) == (8, 26)
    assert fake.cell_format(SHEET_ID, "Сводка", 4, 0) == {"textFormat": {"bold": True}}
    assert fake.cell_format(SHEET_ID, "Сводка", 5, 3)["numberFormat"]["pattern"] == "0"
    assert fake.cell_format(SHEET_ID, "Сводка", 5, 10)["numberFormat"]["pattern"] == "0.0"
    assert fake.cell_format(SHEET_ID, "Сводка", 5, 4)["numberFormat"]["pattern"] == "#,##0"
    assert sorted(tab.column_pixels) == list(range(26))


async def test_rewrite_clears_what_the_previous_sync_left(
    fake: FakeSheets, exporter: SheetsExporter
) -> None:
    fake.add_spreadsheet(SHEET_ID, tabs=("Сводка", "По размерам"))
    await exporter.write_report(SHEET_ID, generated_report(products=30, warehouses=12))

    await exporter.write_report(SHEET_ID, small_report())

    assert len(fake.cells(SHEET_ID, "Сводка")) == 8
    assert max(len(row) for row in fake.cells(SHEET_ID, "Сводка")) == 26
    assert fake.writes == 2


async def test_missing_tabs_are_created_in_the_same_batch_update(
    fake: FakeSheets, exporter: SheetsExporter
) -> None:
    fake.add_spreadsheet(SHEET_ID, tabs=("Лист1", "Сводка"))

    await exporter.write_report(SHEET_ID, small_report())

    assert (fake.reads, fake.writes) == (1, 1)
    body = fake.batch_bodies[0]
    added = [r["addSheet"]["properties"] for r in body["requests"] if "addSheet" in r]
    assert [p["title"] for p in added] == ["По размерам"]
    new_id = added[0]["sheetId"]
    assert any(
        r.get("pasteData", {}).get("coordinate", {}).get("sheetId") == new_id
        for r in body["requests"]
    )
    assert [tab.title for tab in fake.spreadsheets[SHEET_ID].tabs] == [
        "Лист1",
        "Сводка",
        "По размерам",
    ]
    assert fake.cells(SHEET_ID, "По размерам")[4][0] == "ART-1"


async def test_quota_429_is_retried_with_backoff_then_succeeds(
    fake: FakeSheets, exporter: SheetsExporter, sleeps: list[float]
) -> None:
    fake.add_spreadsheet(SHEET_ID, tabs=("Сводка", "По размерам"))
    fake.fail_next(429, times=1)

    result = await exporter.write_report(SHEET_ID, small_report())

    assert sleeps == [2.0]
    assert (fake.reads, fake.writes) == (2, 1)
    assert result.requests == 3
    assert fake.cells(SHEET_ID, "Сводка")[5][2] == "ART-1"


async def test_google_500_three_times_is_unavailable(
    fake: FakeSheets, exporter: SheetsExporter, sleeps: list[float]
) -> None:
    fake.add_spreadsheet(SHEET_ID)
    fake.fail_next(500, times=3)

    with pytest.raises(SheetsUnavailable, match="500"):
        await exporter.write_report(SHEET_ID, small_report())
    assert sleeps == [2.0, 4.0]
    assert fake.reads == 3
    assert fake.writes == 0


async def test_failed_batch_update_is_retried_without_reading_again(
    fake: FakeSheets, exporter: SheetsExporter, sleeps: list[float]
) -> None:
    fake.add_spreadsheet(SHEET_ID, tabs=("Сводка", "По размерам"))
    fake.fail_next(503, times=1, kind="write")

    result = await exporter.write_report(SHEET_ID, small_report())

    assert (fake.reads, fake.writes, result.requests) == (1, 2, 3)
    assert sleeps == [2.0]
    assert fake.cells(SHEET_ID, "Сводка")[5][2] == "ART-1"


async def test_view_only_sharing_fails_the_write_as_not_shared(
    fake: FakeSheets, exporter: SheetsExporter, sleeps: list[float]
) -> None:
    fake.add_spreadsheet(SHEET_ID, tabs=("Сводка", "По размерам"))
    fake.fail_next(403, kind="write")

    with pytest.raises(SheetNotShared):
        await exporter.write_report(SHEET_ID, small_report())
    assert (fake.writes, sleeps) == (1, [])


@pytest.mark.parametrize("locale", ["ru_RU", "pt_BR"])
async def test_past_the_size_limit_rows_go_in_further_batches_and_all_arrive(
    fake: FakeSheets, exporter: SheetsExporter, monkeypatch: pytest.MonkeyPatch, locale: str
) -> None:
    monkeypatch.setattr(sheets, "MAX_BATCH_BYTES", 40_000)
    fake.add_spreadsheet(SHEET_ID, locale=locale)
    report = generated_report(products=60, warehouses=12, warehouses_per_product=3, sizes=2)

    result = await exporter.write_report(SHEET_ID, report)

    assert fake.writes > 1
    assert all(r.body_bytes <= 40_000 for r in fake.requests if r.kind == "write")
    assert result.requests == 1 + fake.writes
    summary, sizes = build_tables(report)
    _assert_written(fake.cells(SHEET_ID, "По размерам"), sizes)
    _assert_written(fake.cells(SHEET_ID, "Сводка"), summary)


async def test_thousand_products_cost_the_same_requests_and_stay_under_two_megabytes(
    fake: FakeSheets, exporter: SheetsExporter
) -> None:
    fake.add_spreadsheet(SHEET_ID)  # ru_RU, as most sellers' sheets
    # A realistic large seller: 1,000 products spread over 60 WB warehouses and 5 of the seller's,
    # each stocked at 4 of them in 3 sizes (12,000 by-size rows).
    report = generated_report(
        products=1_000, warehouses=65, seller_warehouses=5, warehouses_per_product=4, sizes=3
    )

    result = await exporter.write_report(SHEET_ID, report)

    print(
        f"\nsheets (ru_RU): 1,000 products x 65 warehouses (4 x 3 sizes each, "
        f"{len(report.rows):,} size rows): {result.payload_bytes:,} bytes in {fake.writes} "
        f"batchUpdate"
    )
    assert (fake.reads, fake.writes) == (1, 1)
    assert result.payload_bytes < 1_500_000
    summary, sizes = build_tables(report)
    _assert_written(fake.cells(SHEET_ID, "Сводка"), summary)
    _assert_written(fake.cells(SHEET_ID, "По размерам"), sizes)


@pytest.mark.slow
def test_payload_is_measured_and_split_only_past_nine_mebibytes() -> None:
    limits = {("ru_RU", 3): 1_250_000, ("pt_BR", 3): 1_750_000, ("ru_RU", 4): 1_500_000}
    cases = [  # products, stocked warehouses per product, sizes
        (1_000, 3, 3),
        (1_000, 4, 3),
        (1_000, 8, 3),
        (5_000, 8, 3),
    ]
    for products, per_product, sizes in cases:
        report = generated_report(
            products=products,
            warehouses=65,
            seller_warehouses=5,
            warehouses_per_product=per_product,
            sizes=sizes,
        )
        tables = build_tables(report)
        for locale in ("ru_RU", "pt_BR"):
            bodies = plan_batches(tables, {}, locale=locale)
            total = sum(len(body) for body in bodies)
            print(
                f"\nsheets ({locale}): {products:,} products x 65 warehouses ({per_product} x "
                f"{sizes} sizes each, {len(report.rows):,} size rows): {total:,} bytes in "
                f"{len(bodies)} batchUpdate(s)"
            )
            assert all(len(body) <= MAX_BATCH_BYTES for body in bodies)
            assert len(bodies) == -(-total // MAX_BATCH_BYTES)
            if products == 1_000:
                assert len(bodies) == 1
                assert total < limits.get((locale, per_product), MAX_BATCH_BYTES)
            if per_product == 8 and products == 1_000 and locale == "pt_BR":
                # The ru_RU path is checked cell by cell over HTTP above; this is the other one.
                fake = _offline(bodies, locale)
                _assert_written(fake.cells(SHEET_ID, "Сводка"), tables[0])
                _assert_written(fake.cells(SHEET_ID, "По размерам"), tables[1])
            if products > 1_000:
                requests = [r for body in bodies for r in orjson.loads(body)["requests"]]
                lines = sum(
                    r["pasteData"]["data"].count("\n") + 1 for r in requests if "pasteData" in r
                )
                assert len(bodies) >= 2
                assert lines == products + 5 + len(report.rows) + 4


async def test_fake_serves_values_get_for_readers_other_than_the_exporter(
    fake: FakeSheets, exporter: SheetsExporter
) -> None:
    fake.add_spreadsheet(SHEET_ID, tabs=("Сводка", "По размерам"))
    await exporter.write_report(SHEET_ID, small_report())
    claims = base64.urlsafe_b64encode(orjson.dumps({"iss": "reader@test"})).decode()

    async with aiohttp.ClientSession() as session:
        grant = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}
        async with session.post(fake.token_uri, data={**grant, "assertion": f"e.{claims}.s"}) as r:
            token = (await r.json())["access_token"]
        url = f"{fake.url}/v4/spreadsheets/{SHEET_ID}/values/Сводка!A1:Z"
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(url, headers=headers) as response:
            values = (await response.json())["values"]

    assert values[5][:4] == ["Nordic", "Футболки", "ART-1", "111"]
