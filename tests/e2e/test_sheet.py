"""/sheet and the sheet written after each sync, against the Telegram, WB and Sheets fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core import snapshot_store
from core.exporters.layout import build_tables
from storage.models import SyncLog, Tenant
from tests.e2e.harness import Harness, running_bot, small_seller
from tests.fakes.sheets import FakeSheets, write_service_account_file
from tests.fakes.wb import make_token
from tests.fakes.wb_data import SellerData

SHEET_ID = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
SHEET_LINK = f"https://docs.google.com/spreadsheets/d/{SHEET_ID}/edit#gid=0"
OTHER_ID = "1ZzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzA"


@pytest.fixture
async def sheets() -> AsyncIterator[FakeSheets]:
    async with FakeSheets() as fake:
        yield fake


@pytest.fixture
def account(tmp_path: Path, sheets: FakeSheets) -> tuple[str, str]:
    """The service-account file (path, e-mail), its tokens issued by the fake."""
    path = tmp_path / "service-account.json"
    email = write_service_account_file(path, sheets.token_uri)
    return str(path), email


def _with_sheets(account: tuple[str, str], sheets: FakeSheets) -> dict[str, Any]:
    return {
        "google_service_account_file": account[0],
        "sheets_api_url": sheets.url,
        "sheets_retry_delay_seconds": 0.01,
    }


async def _tenant(h: Harness, chat_id: int = 1001) -> Tenant | None:
    async with h.app.sessions() as session:
        return await session.scalar(select(Tenant).where(Tenant.chat_id == chat_id))


async def _onboard(h: Harness, seller: SellerData) -> None:
    h.wb.remains_polls_until_done = 1
    key = make_token(token_type=3, seller_id=seller.seller_id)
    h.tg.user_says(f"/api_key {key}")
    await h.wait_text(1001, "Ключ сохранён")


async def _sync(h: Harness) -> str:
    mark = h.tg.mark()
    h.tg.user_says("/sync")
    return await h.wait_text(1001, "Синхронизация завершена", since=mark, timeout=60)


def _plain(rows: list[list[Any]]) -> list[list[Any]]:
    """Rows cut after their last value, whole floats as ints (a sheet keeps numbers, not types)."""
    out = []
    for row in rows:
        cells = [int(v) if isinstance(v, float) and v.is_integer() else v for v in row]
        while cells and cells[-1] is None:
            cells.pop()
        out.append(cells)
    return out


async def test_sheet_links_a_shared_sheet_and_names_the_service_account(
    database_url: str, tmp_path: Path, sheets: FakeSheets, account: tuple[str, str]
) -> None:
    sheets.add_spreadsheet(SHEET_ID, title="Остатки Nordic Line")
    async with running_bot(
        database_url, tmp_path, small_seller(), **_with_sheets(account, sheets)
    ) as h:
        await h.reply_to("/start")
        how = await h.reply_to("/sheet")
        assert "не подключена" in how and account[1] in how and "редактора" in how

        linked = await h.reply_to(f"/sheet {SHEET_LINK}")
        assert "«Остатки Nordic Line» подключена" in linked
        assert account[1] in linked and "редактора" in linked
        tenant = await _tenant(h)
        assert tenant is not None and tenant.spreadsheet_id == SHEET_ID
        assert sheets.reads == 1 and sheets.writes == 0  # linking only looks

        shown = await h.reply_to("/sheet")
        assert f"https://docs.google.com/spreadsheets/d/{SHEET_ID}" in shown
        assert "ещё ничего не записано" in shown and "/sheet off" in shown

        assert "Таблица отключена" in await h.reply_to("/sheet off")
        tenant = await _tenant(h)
        assert tenant is not None and tenant.spreadsheet_id is None
        assert "не подключена" in await h.reply_to("/sheet")
        assert "и так не подключена" in await h.reply_to("/sheet off")


async def test_sheet_problems_each_say_what_to_do_and_store_nothing(
    database_url: str, tmp_path: Path, sheets: FakeSheets, account: tuple[str, str]
) -> None:
    sheets.add_spreadsheet(SHEET_ID, shared=False)
    async with running_bot(
        database_url, tmp_path, small_seller(), **_with_sheets(account, sheets)
    ) as h:
        await h.reply_to("/start")

        bad = await h.reply_to("/sheet https://example.com/my-table")
        assert "не похоже на ссылку на Google Таблицу" in bad and "Ничего не сохранено" in bad

        not_shared = await h.reply_to(f"/sheet {SHEET_LINK}")
        assert "нет доступа" in not_shared and account[1] in not_shared
        assert "редактора" in not_shared and "Ничего не сохранено" in not_shared

        not_found = await h.reply_to(f"/sheet {OTHER_ID}")
        assert "не найдена" in not_found and "Ничего не сохранено" in not_found

        sheets.add_spreadsheet(OTHER_ID)
        sheets.fail_next(503, times=3)
        down = await h.reply_to(f"/sheet {OTHER_ID}")
        assert "не отвечают" in down and "Ничего не сохранено" in down

        english = await h.reply_to(f"/sheet {SHEET_LINK}", language_code="en")
        assert "I have no access" in english and account[1] in english

        tenant = await _tenant(h)
        assert tenant is not None and tenant.spreadsheet_id is None
        assert sheets.writes == 0


@pytest.mark.parametrize("configured", ["unset", "unreadable"])
async def test_sheet_without_a_service_account_says_it_is_not_set_up(
    database_url: str, tmp_path: Path, sheets: FakeSheets, configured: str
) -> None:
    sheets.add_spreadsheet(SHEET_ID)
    overrides: dict[str, Any] = {"sheets_api_url": sheets.url}
    if configured == "unreadable":
        overrides["google_service_account_file"] = str(tmp_path / "missing.json")
    async with running_bot(database_url, tmp_path, small_seller(), **overrides) as h:
        await h.reply_to("/start")
        text = await h.reply_to(f"/sheet {SHEET_LINK}")
        assert "не настроена" in text and "/export" in text and "Ничего не сохранено" in text
        assert "не настроена" in await h.reply_to("/sheet")
        tenant = await _tenant(h)
        assert tenant is not None and tenant.spreadsheet_id is None
        assert sheets.requests == []


async def test_sheet_needs_start_and_a_private_chat(
    database_url: str, tmp_path: Path, sheets: FakeSheets, account: tuple[str, str]
) -> None:
    sheets.add_spreadsheet(SHEET_ID)
    async with running_bot(
        database_url, tmp_path, small_seller(), **_with_sheets(account, sheets)
    ) as h:
        assert "/start" in await h.reply_to(f"/sheet {SHEET_LINK}")
        in_group = await h.reply_to(
            f"/sheet {SHEET_LINK}", chat_id=-100500, user_id=42, chat_type="group"
        )
        assert "личном чате" in in_group
        assert await _tenant(h) is None and await _tenant(h, -100500) is None
        assert sheets.requests == []


async def test_sync_writes_the_linked_sheet_at_a_constant_cost(
    database_url: str, tmp_path: Path, sheets: FakeSheets, account: tuple[str, str]
) -> None:
    seller = small_seller()
    sheets.add_spreadsheet(SHEET_ID)
    async with running_bot(database_url, tmp_path, seller, **_with_sheets(account, sheets)) as h:
        await _onboard(h, seller)
        await h.reply_to(f"/sheet {SHEET_LINK}")
        before = len(sheets.requests)

        summary = await _sync(h)

        assert "Google Таблица обновлена." in summary
        calls = [r for r in sheets.requests[before:] if r.kind != "token"]
        assert sum(r.kind == "read" for r in calls) <= 2
        writes = [r for r in calls if r.kind == "write"]
        assert len(writes) == 1 and writes[0].path.endswith(":batchUpdate")
        assert all(r.status == 200 for r in calls)

        tenant = await _tenant(h)
        assert tenant is not None
        async with h.app.sessions() as session:
            stored = await snapshot_store.load_report(session, tenant.id)
        assert stored is not None and stored.products
        summary_table, sizes_table = build_tables(stored, lang="ru", tz="Europe/Moscow")
        written_summary = sheets.cells(SHEET_ID, "Сводка")
        written_sizes = sheets.cells(SHEET_ID, "По размерам")
        # Row 1 is the data-age line, which depends on the moment of writing.
        assert _plain(written_summary)[2:] == _plain(summary_table.rows)[2:]
        assert _plain(written_sizes)[2:] == _plain(sizes_table.rows)[2:]
        written_articles = {row[2] for row in written_summary[summary_table.frozen_rows :]}
        assert written_articles == {product.vendor_code for product in stored.products}
        assert len(written_sizes) - sizes_table.frozen_rows == len(stored.rows)

        tenant = await _tenant(h)
        assert tenant is not None and tenant.sheet_written_at is not None
        assert tenant.sheet_error is None
        assert "Последняя запись:" in await h.reply_to("/sheet")


async def test_sheets_outage_never_fails_the_sync_and_the_next_sync_retries(
    database_url: str, tmp_path: Path, sheets: FakeSheets, account: tuple[str, str]
) -> None:
    seller = small_seller()
    sheets.add_spreadsheet(SHEET_ID)
    # The second sync reuses what WB's limits forbid re-reading at once instead of waiting.
    overrides = {**_with_sheets(account, sheets), "wb_max_wait_seconds": 0.5}
    async with running_bot(database_url, tmp_path, seller, **overrides) as h:
        await _onboard(h, seller)
        await h.reply_to(f"/sheet {SHEET_LINK}")
        sheets.fail_next(500, times=3, kind="write")

        summary = await _sync(h)

        assert "Google Таблица не обновлена: Google Таблицы не отвечают." in summary
        assert "Товаров:" in summary
        async with h.app.sessions() as session:
            [log] = (await session.execute(select(SyncLog))).scalars()
        assert log.status in ("completed", "partial") and log.error is None
        tenant = await _tenant(h)
        assert tenant is not None and tenant.sheet_error == "unavailable"
        assert tenant.sheet_written_at is None
        assert "не удалась: Google Таблицы не отвечают" in await h.reply_to("/sheet")

        again = await _sync(h)

        assert "Google Таблица обновлена." in again
        tenant = await _tenant(h)
        assert tenant is not None and tenant.sheet_error is None
        assert tenant.sheet_written_at is not None
        assert len(sheets.cells(SHEET_ID, "По размерам")) > 4


async def test_sheet_unshared_after_linking_is_named_in_the_summary(
    database_url: str, tmp_path: Path, sheets: FakeSheets, account: tuple[str, str]
) -> None:
    seller = small_seller()
    spreadsheet = sheets.add_spreadsheet(SHEET_ID)
    async with running_bot(database_url, tmp_path, seller, **_with_sheets(account, sheets)) as h:
        await _onboard(h, seller)
        await h.reply_to(f"/sheet {SHEET_LINK}", language_code="en")
        spreadsheet.shared = False

        mark = h.tg.mark()
        h.tg.user_says("/sync", language_code="en")
        summary = await h.wait_text(1001, "Sync finished", since=mark, timeout=60)

        assert "Google Sheet not updated: no write access" in summary
        status = await h.reply_to("/sheet", language_code="en")
        assert "The last write failed: no write access" in status
