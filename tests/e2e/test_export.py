"""/export: the stored snapshot as an .xlsx document, with no WB call."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from core import snapshot_store
from core.exporters.layout import build_tables
from storage.models import Tenant
from tests.e2e.harness import Harness, running_bot, small_seller
from tests.fakes.telegram import SentDocument
from tests.fakes.wb import make_token
from tests.fakes.wb_data import SellerData


async def _onboard(h: Harness, seller: SellerData) -> None:
    h.wb.remains_polls_until_done = 1
    key = make_token(token_type=3, seller_id=seller.seller_id)
    h.tg.user_says(f"/api_key {key}")
    await h.wait_text(1001, "Ключ сохранён")


async def _export(h: Harness, **kwargs: Any) -> SentDocument:
    sent = len(h.tg.documents(1001))
    h.tg.user_says("/export", **kwargs)
    await h.tg.wait_until(lambda: len(h.tg.documents(1001)) > sent, timeout=20)
    return h.tg.documents(1001)[-1]


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


async def test_export_sends_the_stored_snapshot_as_xlsx_without_calling_wb(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        await _onboard(h, seller)
        h.tg.user_says("/sync")
        await h.wait_text(1001, "Синхронизация завершена", timeout=60)
        wb_calls = len(h.wb.requests)

        document = await _export(h)

        assert len(h.wb.requests) == wb_calls
        assert document.filename.startswith("stock_") and document.filename.endswith(".xlsx")
        assert document.caption is not None and "Остатки на" in document.caption
        async with h.app.sessions() as session:
            tenant = await session.scalar(select(Tenant).where(Tenant.chat_id == 1001))
            assert tenant is not None
            stored = await snapshot_store.load_report(session, tenant.id)
        assert stored is not None and stored.rows
        workbook = load_workbook(BytesIO(document.content))
        assert workbook.sheetnames == ["Сводка", "По размерам"]
        sizes = _values(workbook["По размерам"])
        header = 3  # after the data time, the data ages and the formula
        assert sizes[header][:5] == ["Артикул продавца", "Артикул WB", "Размер", "Баркод", "Склад"]
        data = sizes[header + 1 :]
        assert [(r[1], r[2], r[3], r[4], r[6], r[7]) for r in data] == [
            (row.nm_id, row.size, row.barcode, row.warehouse, row.stock, row.orders)
            for row in stored.rows
        ]
        summary_table, sizes_table = build_tables(stored, lang="ru", tz="Europe/Moscow")
        # Row 1 is the data-age line, which depends on the moment of building.
        assert sizes[2:] == _trimmed(sizes_table.rows)[2:]
        assert _values(workbook["Сводка"])[2:] == _trimmed(summary_table.rows)[2:]


async def test_export_before_any_sync_says_what_to_do(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        assert "/api_key" in await h.reply_to("/export")
        await h.reply_to("/start")
        assert "/api_key" in await h.reply_to("/export")
        await _onboard(h, seller)
        wb_calls = len(h.wb.requests)
        text = await h.reply_to("/export")
        assert "Отчёта ещё нет" in text and "/sync" in text
        english = await h.reply_to("/export", language_code="en")
        assert "No report yet" in english and "/sync" in english
        in_group = await h.reply_to("/export", chat_id=-100500, user_id=42, chat_type="group")
        assert "личном чате" in in_group
        assert h.tg.documents(1001) == [] and h.tg.calls_to("sendDocument") == []
        assert len(h.wb.requests) == wb_calls


async def test_export_in_english_has_an_english_caption(database_url: str, tmp_path: Path) -> None:
    seller = small_seller(seed=11)
    async with running_bot(database_url, tmp_path, seller) as h:
        await _onboard(h, seller)
        h.tg.user_says("/sync")
        await h.wait_text(1001, "Синхронизация завершена", timeout=60)

        document = await _export(h, language_code="en")

        assert document.caption is not None and document.caption.startswith("Stock as of")
        workbook = load_workbook(BytesIO(document.content))
        assert workbook["По размерам"]["B4"].value == "WB article (nmID)"
