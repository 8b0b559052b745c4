"""The Google Sheets export against a local fake of Sheets API v4 and Google's token endpoint."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from core.exporters import sheets
from core.exporters.layout import Table, build_tables
from core.exporters.sheets import (
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
from tests.fakes.sheets import FakeSheets, generated_report, write_service_account_file
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

    assert fake.reads <= 2
    assert fake.writes == 1
    assert result.requests == fake.reads + fake.writes
    assert result.payload_bytes == fake.requests[-1].body_bytes
    summary, sizes = build_tables(report, lang="ru", tz="Europe/Moscow")
    written = fake.cells(SHEET_ID, "Сводка")
    assert _without_age_line(written) == _without_age_line(_trimmed(summary))
    assert _without_age_line(fake.cells(SHEET_ID, "По размерам")) == _without_age_line(
        _trimmed(sizes)
    )
    assert written[7][10] == "нет продаж"


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
        r.get("updateCells", {}).get("start", {}).get("sheetId") == new_id for r in body["requests"]
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


async def test_past_the_size_limit_rows_go_in_further_batches_and_all_arrive(
    fake: FakeSheets, exporter: SheetsExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sheets, "MAX_BATCH_BYTES", 40_000)
    fake.add_spreadsheet(SHEET_ID)
    report = generated_report(products=60, warehouses=12, warehouses_per_product=3, sizes=2)

    result = await exporter.write_report(SHEET_ID, report)

    assert fake.writes > 1
    assert all(r.body_bytes <= 40_000 for r in fake.requests if r.kind == "write")
    assert result.requests == 1 + fake.writes
    summary, sizes = build_tables(report)
    assert _without_age_line(fake.cells(SHEET_ID, "По размерам")) == _without_age_line(
        _trimmed(sizes)
    )
    assert _without_age_line(fake.cells(SHEET_ID, "Сводка")) == _without_age_line(_trimmed(summary))


async def test_thousand_products_cost_the_same_requests_and_stay_under_two_megabytes(
    fake: FakeSheets, exporter: SheetsExporter
) -> None:
    fake.add_spreadsheet(SHEET_ID)
    # 1,000 products over 60 warehouses, each product at one warehouse in one size: the
    # lightest seller of that size; the wide summary alone costs ~1 MB at 60 warehouses.
    report = generated_report(products=1_000, warehouses=60, warehouses_per_product=1, sizes=1)

    result = await exporter.write_report(SHEET_ID, report)

    print(
        f"\nsheets: 1,000 products x 60 warehouses (1 warehouse, 1 size each): "
        f"{result.payload_bytes:,} bytes in {fake.writes} batchUpdate"
    )
    assert (fake.reads, fake.writes) == (1, 1)
    assert result.payload_bytes < 2 * 1024 * 1024
    assert len(fake.cells(SHEET_ID, "Сводка")) == 1_000 + 5


@pytest.mark.slow
def test_dense_thousand_product_payload_is_measured_and_split_only_past_the_limit() -> None:
    for per_product, sizes in ((2, 1), (3, 1), (8, 3)):
        report = generated_report(
            products=1_000, warehouses=60, warehouses_per_product=per_product, sizes=sizes
        )
        bodies = plan_batches(build_tables(report), {})
        total = sum(len(body) for body in bodies)
        print(
            f"\nsheets: 1,000 products x 60 warehouses ({per_product} warehouses, {sizes} sizes"
            f" each, {len(report.rows):,} size rows): {total:,} bytes in {len(bodies)} batch(es)"
        )
        assert all(len(body) <= MAX_BATCH_BYTES for body in bodies)
        assert len(bodies) == (1 if total <= MAX_BATCH_BYTES else 2)
        requests = [r for body in bodies for r in orjson.loads(body)["requests"]]
        written = sum(len(r["updateCells"].get("rows", [])) for r in requests if "updateCells" in r)
        assert written == 1_005 + len(report.rows) + 4


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
