"""Orders kept by srid and the stored snapshot, on both backends (bulk paths included)."""

from __future__ import annotations

from dataclasses import astuple, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql import visitors

from core import snapshot_store
from core.report import (
    OrderCounts,
    ReportBuilder,
    build_report,
    count_orders,
    moscow_window,
    order_size_key,
)
from core.stock_report import StockReport, StockRow, WarehouseKind
from core.wb.models import FbsStock, Order, RemainsRow, SellerWarehouse
from storage.models import ORDERS_WINDOW_INDEX, SnapshotRow, StoredOrder
from tests.storage.catalogue import three_size_cards
from tests.storage.tenants import add_tenant

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
PLACED = datetime(2026, 11, 18, 10, 0)
WAREHOUSE = SellerWarehouse(id=1, name="Мой склад", office_id=1, delivery_type=1)


def order(srid: str, changed: datetime, *, cancelled: bool = False, nm_id: int = 7) -> Order:
    return Order(
        srid,
        PLACED,
        changed,
        nm_id,
        f"b{nm_id}",
        "M",
        f"ART-{nm_id}",
        "Коледино",
        "Склад WB",
        cancelled,
        changed if cancelled else None,
        "g1",
        123.5,
    )


async def tenant(sessions: async_sessionmaker[AsyncSession]) -> int:
    return await tenant_with_chat(sessions, 1)


async def tenant_with_chat(sessions: async_sessionmaker[AsyncSession], chat_id: int) -> int:
    return await add_tenant(sessions, chat_id)


async def stored(sessions: async_sessionmaker[AsyncSession], tenant_id: int) -> list[Order]:
    async with sessions() as session:
        orders = await snapshot_store.load_orders(session, tenant_id, PLACED - timedelta(days=1))
    return sorted(orders, key=lambda o: o.srid)


async def test_a_later_change_replaces_an_order_and_an_earlier_one_does_not(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id = await tenant(sessions)
    first = PLACED + timedelta(minutes=5)
    async with sessions() as session, session.begin():
        await snapshot_store.upsert_orders(
            session, tenant_id, [order("a", first), order("b", first)]
        )
    assert await stored(sessions, tenant_id) == [order("a", first), order("b", first)]

    later = first + timedelta(hours=1)
    async with sessions() as session, session.begin():
        # Two pages in one transaction; a page repeating a row keeps its latest version.
        await snapshot_store.upsert_orders(
            session, tenant_id, [order("a", later, cancelled=True), order("a", first)]
        )
        await snapshot_store.upsert_orders(
            session, tenant_id, [order("b", first - timedelta(minutes=1), cancelled=True)]
        )
        await snapshot_store.upsert_orders(session, tenant_id, [order("c", later)])
    assert await stored(sessions, tenant_id) == [
        order("a", later, cancelled=True),
        order("b", first),  # the older change did not overwrite it
        order("c", later),
    ]


async def test_many_orders_in_one_page(sessions: async_sessionmaker[AsyncSession]) -> None:
    tenant_id = await tenant(sessions)
    changed = PLACED + timedelta(minutes=1)
    page = [order(f"s{i:05d}", changed, cancelled=i % 3 == 0) for i in range(5_000)]
    async with sessions() as session, session.begin():
        await snapshot_store.upsert_orders(session, tenant_id, page)
    assert await stored(sessions, tenant_id) == page
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StoredOrder)) == 5_000


async def test_a_saved_report_loads_back_unchanged(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id = await tenant(sessions)
    cards = three_size_cards(1_199)
    remains = [
        RemainsRow(
            c.nm_id, c.vendor_code, s.barcodes[0], s.tech_size, "Brand", "Subject", (("Тула", 3),)
        )
        for c in cards
        for s in c.sizes[:2]
    ]
    fbs = [FbsStock(1, c.sizes[2].chrt_id, 2) for c in cards[::2]]
    # Some rows have days of cover, most have none: the mix the bulk insert must survive.
    orders = [
        Order(
            f"o{c.nm_id}",
            PLACED,
            PLACED,
            c.nm_id,
            c.sizes[0].barcodes[0],
            "S",
            c.vendor_code,
            "Тула",
            "Склад WB",
            False,
            None,
        )
        for c in cards[::5]
    ]
    report = build_report(
        cards=cards,
        remains=remains,
        seller_warehouses=[WAREHOUSE],
        fbs_stocks=fbs,
        orders=orders,
        now_utc=NOW,
    )
    assert len(report.rows) > snapshot_store.BATCH  # more than one chunk
    covers = {row.days_of_cover is None for row in report.rows}
    assert covers == {True, False}
    for _ in range(2):  # the second save replaces the first
        async with sessions() as session, session.begin():
            await snapshot_store.save_report(session, tenant_id, report, date(2026, 11, 20))
    async with sessions() as session:
        loaded = await snapshot_store.load_report(session, tenant_id)
        count = await session.scalar(select(func.count()).select_from(SnapshotRow))
    assert count == len(report.rows)
    assert loaded == report
    assert loaded is not None
    # Equal is not enough: a kind read back as a plain "wb" would equal WarehouseKind.WB.
    assert {type(row.kind) for row in loaded.rows} == {WarehouseKind}
    assert {type(row) for row in loaded.rows} == {StockRow}
    # Read through the driver: a Decimal or an int for a float would still compare equal.
    assert {type(product.days_of_cover) for product in loaded.products} == {float, type(None)}
    tula = [row.warehouse for row in loaded.rows if row.warehouse == "Тула"]
    assert len(tula) > 1 and all(name is tula[0] for name in tula)  # one object, as when built


async def test_sql_order_counts_equal_those_counted_in_python(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """count_orders (GROUP BY on the stored orders) = core.report.count_orders on the rows."""
    tenant_id = await tenant(sessions)
    other_tenant = await tenant_with_chat(sessions, 2)
    start, end = moscow_window(NOW, 7)  # [2026-11-13 12:00, 2026-11-20 12:00) Moscow time
    warehouses = [("Коледино", "Склад WB"), ("Мой склад", "Склад продавца"), ("Тула", "")]
    dates = [
        start,  # the first moment of the window counts
        start - timedelta(microseconds=1),  # just before: does not
        start + timedelta(days=2, microseconds=250),
        end - timedelta(microseconds=1),
        end,  # the window's end is outside it
        end + timedelta(hours=1),
    ]
    orders: list[Order] = []
    for i in range(240):
        name, kind = warehouses[i % 3]
        nm_id = 7 + i % 4
        orders.append(
            Order(
                f"s{i:04d}",
                dates[i % len(dates)],
                dates[i % len(dates)] + timedelta(minutes=5),
                nm_id,
                f"b{nm_id}-{i % 2}",
                "M" if i % 5 else "L",
                f"ART-{nm_id}",
                name,
                kind,
                i % 7 == 0,
                None,
                "",
                0.0,
            )
        )

    # A later change of some orders: cancelled now; an earlier change of others (ignored).
    def changed(o: Order, by: timedelta) -> Order:
        return Order(o.srid, o.date, o.last_change_date + by, *astuple(o)[3:9], True, o.date)

    later = [changed(o, timedelta(hours=1)) for o in orders[::5]]
    earlier = [changed(o, -timedelta(hours=1)) for o in orders[1::5]]
    async with sessions() as session, session.begin():
        await snapshot_store.upsert_orders(session, tenant_id, orders)
        await snapshot_store.upsert_orders(session, tenant_id, later + earlier)
        await snapshot_store.upsert_orders(session, other_tenant, orders[:50])
    async with sessions() as session:
        counted = await snapshot_store.count_orders(session, tenant_id, start, end)
    expected = count_orders(orders + later + earlier, start, end)
    assert dict(counted.counts) == dict(expected.counts)
    assert sum(n for key, n in counted.counts.items() if key[-1]) > 0  # cancellations counted
    assert 0 < sum(counted.counts.values()) < len(orders)
    assert all(type(key[-1]) is bool for key in counted.counts)
    assert (counted.window_start, counted.window_end) == (start, end)

    def report(source: list[Order] | OrderCounts) -> StockReport:
        return build_report(
            cards=[],
            remains=[],
            seller_warehouses=[WAREHOUSE],
            fbs_stocks=[],
            orders=source,
            now_utc=NOW,
            window_days=7,
        )

    assert report(counted) == report(orders + later + earlier)

    # Streamed from the database straight into the report, a partition at a time.
    builder = ReportBuilder(
        cards=[], remains=[], seller_warehouses=[WAREHOUSE], fbs_stocks=[], now_utc=NOW
    )
    async with sessions() as session:
        async for groups in snapshot_store.order_groups(session, tenant_id, start, end):
            builder.add_orders((start, end), groups)
    assert builder.finish() == report(orders + later + earlier)


@pytest.mark.parametrize(
    ("per_query", "looked_for"),
    [(500, 5_000), (3, 100), (3, 4)],
    ids=["one query", "a query per 3 barcodes", "too many: the whole window"],
)
async def test_the_sync_reads_orders_by_warehouse_then_describes_the_unmatched_ones(
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    per_query: int,
    looked_for: int,
) -> None:
    """add_window_orders: every order as its size key, a warehouse at a time, first; then the
    full groups of the barcodes the cards lack (looked for a few per query, or the whole
    window read when there are many); the report equals the one counted from the Order rows.
    Barcodes with a space or the keys' separator in them count too."""
    monkeypatch.setattr(snapshot_store, "_BARCODES_PER_QUERY", per_query)
    monkeypatch.setattr(snapshot_store, "_BARCODES_LOOKED_FOR", looked_for)
    tenant_id = await tenant(sessions)
    start, end = moscow_window(NOW, 7)
    cards = three_size_cards(4)
    odd = ("b 1 S", "b1,M", "b,1 ,L")  # spaces and the keys' separator in them
    sizes = zip(cards[0].sizes, odd, strict=True)
    cards[0] = replace(cards[0], sizes=tuple(replace(size, barcodes=(b,)) for size, b in sizes))
    products = {
        **dict.fromkeys(odd, 1),  # a card's
        **{f"b{nm_id}-{size}": nm_id for nm_id in (2, 3) for size in ("S", "M", "L")},
        "b4-S": 3,  # product 4's barcode, ordered as product 3: not a card size of product 3
    }
    barcodes = [*products, *(f"new-{k}" for k in range(5))]  # no card has new-*
    orders = [
        Order(
            f"s{i:04d}",
            start + timedelta(hours=i),
            start + timedelta(hours=i, minutes=5),
            products.get(barcode, 2 + i % 8),  # new-*: product 2 has the tech size
            barcode,
            ("S", "M", "L", "XL")[i % 4],
            "ART-orphan",
            ("Коледино", "Мой склад", "Казань")[i % 3],
            "Склад продавца" if i % 5 == 0 else "Склад WB",
            i % 6 == 0,
            None,
            "",
            0.0,
        )
        for i, barcode in enumerate(barcodes * 7)
    ]
    async with sessions() as session, session.begin():
        await snapshot_store.upsert_orders(session, tenant_id, orders)

    def builder() -> ReportBuilder:
        return ReportBuilder(
            cards=cards, remains=[], seller_warehouses=[WAREHOUSE], fbs_stocks=[], now_utc=NOW
        )

    streamed = builder()
    async with sessions() as session:
        await snapshot_store.add_window_orders(session, tenant_id, streamed)
    assert streamed.unmatched_barcodes == {"b4-S", *(f"new-{k}" for k in range(5))}
    report = streamed.finish()
    expected = build_report(
        cards=cards,
        remains=[],
        seller_warehouses=[WAREHOUSE],
        fbs_stocks=[],
        orders=orders,
        now_utc=NOW,
    )
    assert report == expected
    assert report.totals.orders == len(orders)
    assert {p.nm_id for p in report.products} == {1, 2, 3, 4, 5, 6, 7, 8, 9}

    # Only the first read: the unmatched orders are missing.
    by_warehouse_only = builder()
    async with sessions() as session:
        read = [
            group async for group in snapshot_store.warehouse_orders(session, tenant_id, start, end)
        ]
    for group in read:
        by_warehouse_only.add_warehouse_orders((start, end), *group)
    assert by_warehouse_only.finish().totals.orders == 9 * 7
    # Each order once, as its key, with its warehouse and flags; the groups a comma split
    # wrongly read again a row at a time.
    assert sorted(
        (name, seller_type, is_cancel, key)
        for name, seller_type, is_cancel, keys in read
        for key in keys
    ) == sorted(
        (
            o.warehouse_name,
            o.warehouse_type == "Склад продавца",
            o.is_cancel,
            order_size_key(o.barcode, o.nm_id),
        )
        for o in orders
    )
    assert len({(name, seller_type, is_cancel) for name, seller_type, is_cancel, _ in read}) == len(
        read
    )


async def test_order_groups_come_in_small_partitions_inside_the_sessions_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Read through the driver: partitions small enough not to hold the event loop up, and in
    the session's own transaction (orders it has just written and not committed are seen);
    the session goes on working afterwards."""
    tenant_id = await tenant(sessions)
    start, end = moscow_window(NOW, 7)
    orders = [
        Order(
            f"p{i:05d}",
            start + timedelta(minutes=i),
            start + timedelta(minutes=i),
            1000 + i,  # a group per order on both backends
            f"b{i}",
            "M",
            f"ART-{i}",
            "Коледино",
            "Склад продавца" if i % 4 == 0 else "Склад WB",
            i % 3 == 0,
            None,
        )
        for i in range(5_000)
    ]
    async with sessions() as session:
        await snapshot_store.upsert_orders(session, tenant_id, orders)  # not committed
        partitions = [
            list(groups)
            async for groups in snapshot_store.order_groups(session, tenant_id, start, end)
        ]
        await snapshot_store.upsert_orders(session, tenant_id, [order("late", PLACED)])
        await session.commit()
    assert len(partitions) >= 3
    assert max(len(groups) for groups in partitions) <= snapshot_store._DRIVER_PARTITION
    groups = [tuple(group) for groups in partitions for group in groups]
    assert sorted(groups) == sorted(
        (
            o.nm_id,
            o.barcode,
            o.tech_size,
            o.supplier_article,
            o.warehouse_name,
            o.warehouse_type == "Склад продавца",  # the type as the report needs it
            o.is_cancel,
            1,
        )
        for o in orders
    )
    async with sessions() as session:  # both writes were committed
        stored = await session.scalar(
            select(func.count()).select_from(StoredOrder).where(StoredOrder.tenant_id == tenant_id)
        )
    assert stored == 5_001

    # A fresh session that only reads: the driver's own read-only transaction, then more work.
    async with sessions() as session:
        fresh = [
            g
            async for groups in snapshot_store.order_groups(session, tenant_id, start, end)
            for g in groups
        ]
        await snapshot_store.upsert_orders(session, tenant_id, [order("later", PLACED)])
        await session.commit()
    assert len(fresh) == 5_001  # "late" is placed inside the window too


async def test_the_windows_orders_are_read_from_the_index_alone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Every column the report reads of the orders is in ORDERS_WINDOW_INDEX: SQLite never
    looks a row up, and gives the warehouse groups in the index's order, without a sort (for a
    large seller's 30 days a sort took three times the read); PostgreSQL could do the same."""
    tenant_id = await tenant(sessions)
    start, end = moscow_window(NOW, 7)
    async with sessions() as session:
        connection = await session.connection()
        dialect = connection.dialect
        queries = {
            "by warehouse": snapshot_store.warehouse_orders_query(
                dialect.name, tenant_id, start, end
            ),
            "described": snapshot_store.window_orders_query(dialect.name, tenant_id, start, end),
            "of some barcodes": snapshot_store.window_orders_query(
                dialect.name, tenant_id, start, end, barcodes=["b1", "b2"]
            ),
        }
        if dialect.name == "sqlite":
            plans = {name: await _sqlite_plan(connection, query) for name, query in queries.items()}
            assert f"USING COVERING INDEX {ORDERS_WINDOW_INDEX}" in plans["by warehouse"], plans
            assert "TEMP B-TREE" not in plans["by warehouse"], plans
            for name in ("described", "of some barcodes"):
                assert "USING COVERING INDEX" in plans[name], plans
    (index,) = (i for i in StoredOrder.__table__.indexes if i.name == ORDERS_WINDOW_INDEX)
    indexed = {column.name for column in index.columns}
    # On both backends: no query names a column of the orders the index lacks.
    assert used_columns(queries["described"]) == indexed
    assert used_columns(queries["of some barcodes"]) == indexed
    assert used_columns(queries["by warehouse"]) == indexed - {"tech_size", "supplier_article"}


async def _sqlite_plan(connection: Any, query: Any) -> str:
    compiled = query.compile(dialect=connection.dialect)
    values = compiled.construct_params()
    parameters = [
        str(value) if isinstance(value, datetime) else value
        for value in (values[name] for name in compiled.positiontup or ())
    ]
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    cursor = await driver.execute("EXPLAIN QUERY PLAN " + compiled.string, parameters)
    return " ".join(str(row[-1]) for row in await cursor.fetchall())


def used_columns(query: Any) -> set[str]:
    return {
        element.name
        for element in visitors.iterate(query)
        if isinstance(element, Column) and element.table is StoredOrder.__table__
    }
