"""Alerts fire on transitions only; the first sync sets the baseline."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.alerts import update_alerts
from core.report import build_report
from core.wb.models import Card, CardSize, FbsStock, Order, SellerWarehouse
from storage.models import Tenant

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
WAREHOUSE = SellerWarehouse(id=1, name="Мой склад", office_id=1, delivery_type=1)


def _card(nm_id: int) -> Card:
    size = CardSize(chrt_id=nm_id * 10, tech_size="0", wb_size="", barcodes=(f"b{nm_id}",))
    return Card(nm_id, nm_id, f"ART-{nm_id}", "Brand", "Title", "Subject", (size,))


def _orders(nm_id: int, count: int) -> list[Order]:
    placed = datetime(2026, 11, 19, 10, 0)
    return [
        Order(
            f"s{nm_id}-{i}",
            placed,
            placed,
            nm_id,
            f"b{nm_id}",
            "0",
            f"ART-{nm_id}",
            "Мой склад",
            "Склад продавца",
            False,
            None,
        )
        for i in range(count)
    ]


def _report(stock: dict[int, int], orders_per_week: dict[int, int]):  # type: ignore[no-untyped-def]
    cards = [_card(nm_id) for nm_id in stock]
    fbs = [FbsStock(1, nm_id * 10, units) for nm_id, units in stock.items()]
    orders = [o for nm_id, n in orders_per_week.items() for o in _orders(nm_id, n)]
    return build_report(
        cards=cards,
        remains=[],
        seller_warehouses=[WAREHOUSE],
        fbs_stocks=fbs,
        orders=orders,
        now_utc=NOW,
        window_days=7,
        low_stock_threshold=7,
    )


async def test_baseline_then_newly_low_then_recovered(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        tenant = Tenant(chat_id=1, user_id=1)
        session.add(tenant)
        await session.commit()
        tenant_id = tenant.id
    # 7 orders a week = 1 a day: 3 units last 3 days (low), 30 units 30 days (fine).
    first = await update_alerts(sessions, tenant_id, _report({1: 3, 2: 30}, {1: 7, 2: 7}), NOW)
    assert first.baseline and not first.any  # the first sync only sets the baseline
    same = await update_alerts(sessions, tenant_id, _report({1: 3, 2: 30}, {1: 7, 2: 7}), NOW)
    assert not same.any  # still low: no repeated alert
    second = await update_alerts(sessions, tenant_id, _report({1: 3, 2: 5}, {1: 7, 2: 7}), NOW)
    assert [i.vendor_code for i in second.newly_low] == ["ART-2"] and second.recovered == ()
    third = await update_alerts(sessions, tenant_id, _report({1: 50, 2: 5}, {1: 7, 2: 7}), NOW)
    assert third.newly_low == () and third.recovered == ("ART-1",)


async def test_sold_out_after_sales_is_low_and_no_sales_never_is(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        tenant = Tenant(chat_id=2, user_id=2)
        session.add(tenant)
        await session.commit()
        tenant_id = tenant.id
    await update_alerts(sessions, tenant_id, _report({1: 100, 2: 0}, {1: 7}), NOW)
    changes = await update_alerts(sessions, tenant_id, _report({1: 0, 2: 0}, {1: 7}), NOW)
    # Product 1 sold out after sales: low. Product 2 never sold: never low.
    assert [i.nm_id for i in changes.newly_low] == [1]
    assert changes.newly_low[0].days_of_cover == 0.0
