"""/sync end to end: the summary's numbers equal the WB fake's ground truth; /status."""

from __future__ import annotations

import gc
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.render import number
from core.clock import utcnow
from core.report import ReportBuilder, moscow_window
from core.wb.models import Card, FbsStock, RemainsRow
from storage.models import SyncLog
from tests.e2e.harness import Harness, running_bot, small_seller
from tests.fakes.wb import make_token
from tests.fakes.wb_data import SellerData


async def _onboard(h: Harness, seller: SellerData, token_type: int = 3) -> None:
    key = make_token(token_type=token_type, seller_id=seller.seller_id)
    h.tg.user_says(f"/api_key {key}")
    await h.wait_text(1001, "Ключ сохранён")


async def test_sync_summary_matches_wb_ground_truth(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 1
        await _onboard(h, seller)
        mark = h.tg.mark()
        h.tg.user_says("/sync")
        text = await h.wait_text(1001, "Синхронизация завершена", since=mark, timeout=60)
        start, end = moscow_window(utcnow(), 7)
        placed, cancelled = seller.truth_orders(start, end)
        to_buyers, returns = seller.truth_in_transit()
        assert f"Товаров: {number(seller.truth_products())} " in text
        assert f"(размеров: {number(seller.truth_sizes())})" in text
        assert f"На складах WB (FBO): {number(seller.truth_fbo_units())} шт." in text
        assert f"На ваших складах (FBS): {number(seller.truth_fbs_units())} шт." in text
        assert f"В пути к покупателям: {number(to_buyers)} шт." in text
        assert f"возвраты в пути: {number(returns)} шт." in text
        assert f"Заказов за 7 дн.: {number(placed)} (отменено: {number(cancelled)})" in text
        assert "Свежесть данных" in text and "только что" in text
        # One progress message was edited through the steps, not a message per step.
        sends = [c for c in h.tg.calls_to("sendMessage", since=mark)]
        edits = [c for c in h.tg.calls_to("editMessageText", since=mark)]
        assert len(sends) == 1 and len(edits) >= 4
        async with h.app.sessions() as session:
            [log] = (await session.execute(select(SyncLog))).scalars()
        assert log.status == "completed" and log.fbo_units == seller.truth_fbo_units()


async def test_low_stock_list_excludes_items_without_sales(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller(seed=11)
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 1
        await _onboard(h, seller)
        h.tg.user_says("/sync")
        text = await h.wait_text(1001, "Синхронизация завершена", timeout=60)
        never_sold = seller.cards[1]["vendorCode"]  # the generator's product without sales
        assert f"• {never_sold} —" not in text
        assert "Мало товара" in text or "Товаров с малым запасом нет" in text


async def test_second_sync_while_running_starts_nothing(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 2  # the first sync waits on the remains report
        await _onboard(h, seller)
        h.tg.user_says("/sync")
        await h.wait_text(1001, "Синхронизация\n")
        mark = h.tg.mark()
        reply = await h.reply_to("/sync")
        assert "уже идёт" in reply
        await h.wait_text(1001, "Синхронизация завершена", timeout=60)
        assert h.wb.calls("remains_create") == 1
        assert len(h.tg.calls_to("sendMessage", since=mark)) == 1


async def test_sync_without_key_says_what_to_do(database_url: str, tmp_path: Path) -> None:
    async with running_bot(database_url, tmp_path, small_seller()) as h:
        assert "/api_key" in await h.reply_to("/sync")
        await h.reply_to("/start")
        assert "/api_key" in await h.reply_to("/sync")
        assert h.wb.requests == []


async def test_status_lists_syncs_and_key_state(database_url: str, tmp_path: Path) -> None:
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 1
        assert "/api_key" in await h.reply_to("/status")
        await _onboard(h, seller)
        none_yet = await h.reply_to("/status")
        assert "Синхронизаций ещё не было" in none_yet and "персональный" in none_yet
        assert "Ещё не использовался" in none_yet
        h.tg.user_says("/sync")
        await h.wait_text(1001, "Синхронизация завершена", timeout=60)
        status = await h.reply_to("/status")
        assert "вручную, успешно" in status
        assert "Последнее успешное использование" in status
        assert "Контент" in status and "Статистика" in status


async def test_base_key_never_provokes_a_429_and_says_what_is_stale(
    database_url: str, tmp_path: Path
) -> None:
    """A Base key's remains report cannot finish within one sync: it says so, and no 429."""
    seller = small_seller()
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 2
        await _onboard(h, seller, token_type=1)
        h.tg.user_says("/sync")
        text = await h.wait_text(1001, "Синхронизация завершена", timeout=60)
        assert "часть данных из прошлого обновления" in text
        assert "склады WB: ещё не получены, обновится около" in text
        assert all(r.status != 429 for r in h.wb.requests)
        # A second sync right away still provokes no 429: it reuses what it has.
        mark = h.tg.mark()
        h.tg.user_says("/sync")
        await h.wait_text(1001, "Синхронизация завершена", since=mark, timeout=60)
        assert all(r.status != 429 for r in h.wb.requests)
        assert h.wb.calls("remains_create") == 1
        assert h.wb.calls("orders") == 1


async def test_personal_key_sync_of_a_realistic_catalogue_completes(
    database_url: str, tmp_path: Path
) -> None:
    """2,000 products (several card pages, FBS chunks of 1,000) with WB's limits on."""
    seller = small_seller(seed=3, products=2000, max_sizes=4, wb_warehouses=12, orders=20_000)
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 1
        await _onboard(h, seller)
        mark = h.tg.mark()
        h.tg.user_says("/sync")
        text = await h.wait_text(1001, "Синхронизация завершена", since=mark, timeout=120)
        assert f"На складах WB (FBO): {number(seller.truth_fbo_units())} шт." in text
        assert f"На ваших складах (FBS): {number(seller.truth_fbs_units())} шт." in text
        assert h.wb.calls("cards_list") >= 20
        stock_calls = [r for r in h.wb.requests if r.method == "fbs_stocks"]
        assert all(len(r.body["chrtIds"]) <= 1000 for r in stock_calls)
        assert len(stock_calls) >= 2 * 5  # two warehouses, every chrtId of ~5,000 sizes
        assert all(r.status != 429 for r in h.wb.requests)


async def test_sync_lets_go_of_the_parts_once_the_stock_is_placed(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cards, FBS levels and remains rows are gone while the orders go into the report.

    That is where a large seller's sync peaks (docs/performance.md, item 14).
    """
    seller = small_seller()
    nm_ids = {card["nmID"] for card in seller.cards}
    chrt_ids = {size["chrtID"] for card in seller.cards for size in card["sizes"]}
    alive: list[int] = []
    add_orders = ReportBuilder.add_warehouse_orders

    def counting(
        self: ReportBuilder,
        window: tuple[datetime, datetime],
        warehouse: str,
        seller_type: bool,
        is_cancel: bool,
        keys: Iterable[str],
    ) -> None:
        alive.append(
            sum(
                (isinstance(o, Card | RemainsRow) and o.nm_id in nm_ids)
                or (isinstance(o, FbsStock) and o.chrt_id in chrt_ids)
                for o in gc.get_objects()
            )
        )
        add_orders(self, window, warehouse, seller_type, is_cancel, keys)

    monkeypatch.setattr(ReportBuilder, "add_warehouse_orders", counting)
    async with running_bot(database_url, tmp_path, seller) as h:
        h.wb.remains_polls_until_done = 1
        await _onboard(h, seller)
        h.tg.user_says("/sync")
        text = await h.wait_text(1001, "Синхронизация завершена", timeout=60)
    assert f"На складах WB (FBO): {number(seller.truth_fbo_units())} шт." in text
    assert alive and set(alive) == {0}
