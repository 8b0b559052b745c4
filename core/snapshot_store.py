"""Saving and loading the latest stock report and the orders kept between syncs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Sequence,
)
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Select,
    String,
    Table,
    bindparam,
    column,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import Compiled
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

from core.fast_dataclass import positional_constructor
from core.report import (
    SELLER_WAREHOUSE_TYPE,
    OrderCounts,
    OrderGroup,
    OrderKey,
    ReportBuilder,
    gc_paused,
    order_size_key,
)
from core.stock_report import (
    DataPart,
    LowStockItem,
    ProductSummary,
    ReportTotals,
    StockReport,
    StockRows,
    WarehouseKind,
    row_values,
)
from core.wb.models import Order
from storage.models import DailyTotal, SnapshotMeta, SnapshotProduct, SnapshotRow, StoredOrder

# Rows per INSERT statement: well under SQLite's and asyncpg's parameter limits.
BATCH = 2000
_LOAD_PARTITION = 10_000
# Rows per fetch when reading through the driver (see _driver_rows): small, for the loop.
_DRIVER_PARTITION = 2_000
# Up to _BARCODES_LOOKED_FOR barcodes, order_groups looks for them, so many per query (each
# query walks the window's index entries); more, and it reads the whole window.
_BARCODES_PER_QUERY = 500
_BARCODES_LOOKED_FOR = 5_000
# Rows a PostgreSQL COPY encodes before the event loop runs again (see _copy): with it, the
# loop's longest stall while a large seller's snapshot is written was 12-18 ms.
_COPY_SLICE = 1_000
_INCOMING_ORDERS = "orders_incoming"  # a temporary table: PostgreSQL's upsert goes through it
_make_order = positional_constructor(Order)

# Bulk writes go to the Table, not the ORM class: the ORM's bulk INSERT starts a new
# statement whenever the set of None values changes from one row to the next (days of cover,
# cancel dates), which turned 100,000 rows into ~67,000 statements; Core sends one
# executemany per chunk.
_ROWS = cast(Table, SnapshotRow.__table__)
_PRODUCTS = cast(Table, SnapshotProduct.__table__)
_ORDERS = cast(Table, StoredOrder.__table__)
_DAILY = cast(Table, DailyTotal.__table__)


def _upsert(session: AsyncSession, target: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(target)
    return sqlite.insert(target)


async def save_report(
    session: AsyncSession, tenant_id: int, report: StockReport, day: date
) -> None:
    """Replace the tenant's snapshot and record today's totals; the caller commits once."""
    await session.execute(delete(SnapshotRow).where(SnapshotRow.tenant_id == tenant_id))
    await session.execute(delete(SnapshotProduct).where(SnapshotProduct.tenant_id == tenant_id))
    await session.execute(delete(SnapshotMeta).where(SnapshotMeta.tenant_id == tenant_id))
    session.add(
        SnapshotMeta(
            tenant_id=tenant_id,
            generated_at=report.generated_at,
            window_days=report.window_days,
            window_start=report.window_start,
            window_end=report.window_end,
            low_stock_threshold=report.low_stock_threshold,
            totals=_totals_dict(report.totals),
            part_times={
                str(part): (when.isoformat() if when else None)
                for part, when in report.part_times.items()
            },
            low_stock={
                "items": [
                    [i.nm_id, i.vendor_code, i.stock, i.orders, i.days_of_cover]
                    for i in report.low_stock
                ]
            },
        )
    )
    # Generators, sent in chunks: a million rows never sit in memory as dicts all at once.
    products = (
        {
            "tenant_id": tenant_id,
            "nm_id": p.nm_id,
            "vendor_code": p.vendor_code,
            "brand": p.brand,
            "subject": p.subject,
            "title": p.title,
            "sizes": p.sizes,
            "fbo_units": p.fbo_units,
            "fbs_units": p.fbs_units,
            "in_transit_to_buyers": p.in_transit_to_buyers,
            "in_transit_returns": p.in_transit_returns,
            "orders": p.orders,
            "cancelled": p.cancelled,
            "days_of_cover": p.days_of_cover,
            "position": position,
        }
        for position, p in enumerate(report.products)
    )
    rows = (
        {
            "tenant_id": tenant_id,
            "position": position,
            "nm_id": nm_id,
            "chrt_id": chrt_id,
            "barcode": barcode,
            "size": size,
            "warehouse": warehouse,
            "kind": str(kind),
            "stock": stock,
            "orders": orders,
            "cancelled": cancelled,
            "days_of_cover": cover,
        }
        for position, (
            nm_id,
            chrt_id,
            barcode,
            size,
            warehouse,
            kind,
            stock,
            orders,
            cancelled,
            cover,
        ) in enumerate(row_values(report.rows))
    )
    await _insert_all(session, _PRODUCTS, products)
    await _insert_all(session, _ROWS, rows)
    totals = (
        {
            "tenant_id": tenant_id,
            "day": day,
            "nm_id": p.nm_id,
            "fbo_units": p.fbo_units,
            "fbs_units": p.fbs_units,
            "orders": p.orders,
        }
        for p in report.products
    )
    stmt = _upsert(session, _DAILY)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "day", "nm_id"],
        set_={
            "fbo_units": stmt.excluded.fbo_units,
            "fbs_units": stmt.excluded.fbs_units,
            "orders": stmt.excluded.orders,
        },
    )
    if session.get_bind().dialect.name != "postgresql":
        await _sqlite_executemany(session, stmt, totals)
        return
    for chunk in _batches(totals):
        await session.execute(stmt, chunk)


async def load_report(session: AsyncSession, tenant_id: int) -> StockReport | None:
    """The latest stored report, exactly as it was saved (no WB call)."""
    meta = await session.get(SnapshotMeta, tenant_id)
    if meta is None:
        return None
    stock_rows = await _load_rows(session, tenant_id)
    summaries = await _load_products(session, tenant_id)
    totals = ReportTotals(**meta.totals)
    return StockReport(
        generated_at=meta.generated_at,
        window_days=meta.window_days,
        window_start=meta.window_start,
        window_end=meta.window_end,
        low_stock_threshold=meta.low_stock_threshold,
        products=summaries,
        rows=stock_rows,
        totals=totals,
        low_stock=tuple(
            LowStockItem(nm_id=i[0], vendor_code=i[1], stock=i[2], orders=i[3], days_of_cover=i[4])
            for i in meta.low_stock["items"]
        ),
        part_times={
            DataPart(part): (datetime.fromisoformat(when) if when else None)
            for part, when in meta.part_times.items()
        },
    )


async def _load_products(session: AsyncSession, tenant_id: int) -> tuple[ProductSummary, ...]:
    """The stored products in their order, through the driver (a large seller has 20,000: as
    ORM objects they held the event loop ~0.5 s)."""
    query = (
        select(
            SnapshotProduct.nm_id,
            SnapshotProduct.vendor_code,
            SnapshotProduct.brand,
            SnapshotProduct.subject,
            SnapshotProduct.title,
            SnapshotProduct.sizes,
            SnapshotProduct.fbo_units,
            SnapshotProduct.fbs_units,
            SnapshotProduct.in_transit_to_buyers,
            SnapshotProduct.in_transit_returns,
            SnapshotProduct.orders,
            SnapshotProduct.cancelled,
            SnapshotProduct.days_of_cover,
        )
        .where(SnapshotProduct.tenant_id == tenant_id)
        .order_by(SnapshotProduct.position)
    )
    products: list[ProductSummary] = []
    async for partition in _driver_rows(await session.connection(), query):
        with gc_paused():  # never across an await
            products.extend(ProductSummary(*row) for row in partition)  # fields in this order
    return tuple(products)


async def _load_rows(session: AsyncSession, tenant_id: int) -> StockRows:
    """The stored rows in their order, read through the driver (see _driver_rows).

    As ORM objects a large seller's 540,000 rows took 13 s of the event loop and ~1 GB.
    """
    query = (
        select(
            SnapshotRow.nm_id,
            SnapshotRow.chrt_id,
            SnapshotRow.barcode,
            SnapshotRow.size,
            SnapshotRow.warehouse,
            SnapshotRow.kind,
            SnapshotRow.stock,
            SnapshotRow.orders,
            SnapshotRow.cancelled,
            SnapshotRow.days_of_cover,
        )
        .where(SnapshotRow.tenant_id == tenant_id)
        .order_by(SnapshotRow.position)
    )
    kinds = {kind.value: kind for kind in WarehouseKind}
    shared: dict[str, str] = {}  # one object per size and warehouse name, as when built
    share = shared.setdefault
    values: list[Any] = []  # row after row, as a built report keeps them (StockRows)
    add_row = values.extend
    async for partition in _driver_rows(await session.connection(), query):
        for nm_id, chrt_id, barcode, size, warehouse, kind, *figures in partition:
            add_row(
                (
                    nm_id,
                    chrt_id,
                    barcode,
                    share(size, size),
                    share(warehouse, warehouse),
                    kinds[kind],
                    *figures,
                )
            )
    return StockRows(values)


def _totals_dict(totals: ReportTotals) -> dict[str, int]:
    return {
        "products": totals.products,
        "sizes": totals.sizes,
        "fbo_units": totals.fbo_units,
        "fbs_units": totals.fbs_units,
        "in_transit_to_buyers": totals.in_transit_to_buyers,
        "in_transit_returns": totals.in_transit_returns,
        "orders": totals.orders,
        "cancelled": totals.cancelled,
    }


async def _insert_all(session: AsyncSession, target: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert every row (all with the same keys) in the session's transaction.

    PostgreSQL gets one COPY: an INSERT per row costs the server several times more, which was
    most of a large seller's snapshot write. Elsewhere, executemany in chunks.
    """
    if session.get_bind().dialect.name != "postgresql":
        await _sqlite_executemany(session, insert(target), rows)
        return
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return
    await _copy(session, target.name, list(first), itertools.chain((first,), iterator))


async def _copy(
    session: AsyncSession, table_name: str, columns: list[str], rows: Iterable[dict[str, Any]]
) -> None:
    """PostgreSQL COPY on the session's connection, inside its (already begun) transaction.

    asyncpg encodes the rows of a COPY on the event loop and lets it run only when the
    socket's buffer is full: one COPY of a large seller's 548,000 snapshot rows held every
    chat up for 0.6-1.3 s at a time. The rows now come from an async generator that lets the
    loop run every `_COPY_SLICE` rows; still one command, so the server goes on writing
    while the next rows are encoded (commands of 2,000 rows cost 1-2 s more wall time).
    Cancelled between slices, asyncpg aborts the COPY and the transaction rolls back.
    """
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table_name, columns=columns, records=_sliced(rows))


async def _sliced(rows: Iterable[dict[str, Any]]) -> AsyncIterator[tuple[Any, ...]]:
    """The rows as COPY records, letting the event loop run after every `_COPY_SLICE`."""
    for count, row in enumerate(rows, 1):
        yield tuple(row.values())
        if count % _COPY_SLICE == 0:
            await asyncio.sleep(0)


async def _sqlite_executemany(
    session: AsyncSession, stmt: Any, rows: Iterable[dict[str, Any]]
) -> None:
    """SQLite: one executemany of `stmt` over `rows` (all with the same keys), run by the
    driver's own thread, in the session's transaction.

    Through `session.execute` SQLAlchemy prepares each row's parameters on the event loop
    (~10 µs a row): with a few syncs writing, every chat command waited behind those chunks.
    Here the driver's thread takes the rows from a generator (the same bind processing, e.g.
    datetimes to SQLAlchemy's text format) and lets the loop have the GIL whenever SQLite
    works. Errors are SQLAlchemy's, as from `session.execute`.
    """
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return
    connection = await session.connection()
    dialect = connection.dialect
    compiled = stmt.compile(dialect=dialect, column_keys=list(first))
    plan = _bind_plan(compiled, dialect)

    def parameters() -> Iterator[tuple[Any, ...]]:
        for row in itertools.chain((first,), iterator):
            yield tuple(
                row[name] if process is None else process(row[name]) for name, process in plan
            )

    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    try:
        cursor = await driver.executemany(compiled.string, parameters())
        await cursor.close()
    except sqlite3.Error as exc:
        raise DBAPIError.instance(compiled.string, None, exc, sqlite3.Error) from None


def _bind_plan(compiled: Compiled, dialect: Dialect) -> list[tuple[str, Any]]:
    """Each positional parameter's name and the dialect's bind processor for it (or None)."""
    assert isinstance(compiled, SQLCompiler)
    return [
        (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in compiled.positiontup or ()
    ]


def _batches(items: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, BATCH)):
        yield batch


async def upsert_orders(session: AsyncSession, tenant_id: int, orders: Sequence[Order]) -> None:
    """Store orders by srid; a row with a later lastChangeDate replaces the stored one."""
    latest: dict[str, Order] = {}
    for order in orders:
        kept = latest.get(order.srid)
        if kept is None or order.last_change_date >= kept.last_change_date:
            latest[order.srid] = order
    values = (
        {
            "tenant_id": tenant_id,
            "srid": o.srid,
            "date": o.date,
            "last_change_date": o.last_change_date,
            "nm_id": o.nm_id,
            "barcode": o.barcode,
            "tech_size": o.tech_size,
            "supplier_article": o.supplier_article,
            "warehouse_name": o.warehouse_name,
            "warehouse_type": o.warehouse_type,
            "is_cancel": o.is_cancel,
            "cancel_date": o.cancel_date,
            "g_number": o.g_number,
            "finished_price": o.finished_price,
        }
        for o in latest.values()
    )
    if session.get_bind().dialect.name == "postgresql":
        await _upsert_orders_by_copy(session, values)
        return
    await _sqlite_executemany(session, _on_conflict_keep_latest(sqlite.insert(_ORDERS)), values)


def _on_conflict_keep_latest(stmt: Any) -> Any:
    return stmt.on_conflict_do_update(
        index_elements=["tenant_id", "srid"],
        set_={
            column.name: getattr(stmt.excluded, column.name)
            for column in _ORDERS.columns
            if column.name not in ("tenant_id", "srid")
        },
        where=_ORDERS.c.last_change_date <= stmt.excluded.last_change_date,
    )


async def _upsert_orders_by_copy(session: AsyncSession, values: Iterable[dict[str, Any]]) -> None:
    """PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT.

    An upsert per row costs the server several times more (80,000 rows per WB page).
    """
    iterator = iter(values)
    first = next(iterator, None)
    if first is None:
        return
    columns = list(first)
    await session.execute(
        text(
            f"CREATE TEMP TABLE IF NOT EXISTS {_INCOMING_ORDERS} "
            f"(LIKE {_ORDERS.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
    )
    await _copy(session, _INCOMING_ORDERS, columns, itertools.chain((first,), iterator))
    incoming = table(_INCOMING_ORDERS, *(column(name) for name in columns))
    await session.execute(
        _on_conflict_keep_latest(postgresql.insert(_ORDERS).from_select(columns, select(incoming)))
    )
    await session.execute(text(f"TRUNCATE {_INCOMING_ORDERS}"))


async def load_orders(session: AsyncSession, tenant_id: int, since: datetime) -> list[Order]:
    """Orders placed at or after `since` (Moscow local time, naive)."""
    result = await session.stream(
        select(
            StoredOrder.srid,
            StoredOrder.date,
            StoredOrder.last_change_date,
            StoredOrder.nm_id,
            StoredOrder.barcode,
            StoredOrder.tech_size,
            StoredOrder.supplier_article,
            StoredOrder.warehouse_name,
            StoredOrder.warehouse_type,
            StoredOrder.is_cancel,
            StoredOrder.cancel_date,
            StoredOrder.g_number,
            StoredOrder.finished_price,
        ).where(StoredOrder.tenant_id == tenant_id, StoredOrder.date >= since)
    )
    # A large seller keeps hundreds of thousands of these in memory while the report is
    # built: rows are read in partitions, and values that repeat from order to order
    # (barcode, size, article, warehouse) share one string object instead of one per row.
    shared: dict[str, str] = {}
    share = shared.setdefault
    orders: list[Order] = []
    async for partition in result.partitions(_LOAD_PARTITION):
        orders.extend(
            _make_order(
                srid,
                date,
                changed,
                nm_id,
                share(barcode, barcode),
                share(tech_size, tech_size),
                share(article, article),
                share(warehouse, warehouse),
                share(warehouse_type, warehouse_type),
                is_cancel,
                cancel_date,
                g_number,
                price,
            )
            for (
                srid,
                date,
                changed,
                nm_id,
                barcode,
                tech_size,
                article,
                warehouse,
                warehouse_type,
                is_cancel,
                cancel_date,
                g_number,
                price,
            ) in partition
        )
    return orders


async def order_groups(
    session: AsyncSession,
    tenant_id: int,
    window_start: datetime,
    window_end: datetime,
    *,
    barcodes: Collection[str] | None = None,
) -> AsyncIterator[list[OrderGroup]]:
    """The stored orders placed in [window_start, window_end), in groups, a partition at a time;
    only those of `barcodes` when given.

    What core.report.count_orders computes from Order rows, from the database: the table
    already holds one row per srid (its latest change, see upsert_orders), so the window's
    rows give the same counts without making an object per order. PostgreSQL groups them
    (GROUP BY; a group per OrderKey); SQLite runs in this process, where sorting for a GROUP
    BY cost twice as much as taking the selected rows as they come (a large seller has nearly
    one group per order: 111,913 groups of 114,235 orders), so there each row is a group of
    one. Either way core.report.ReportBuilder takes them as they are.
    """
    if barcodes is not None and not barcodes:
        return
    connection = await session.connection()
    dialect = connection.dialect.name
    if barcodes is None or len(barcodes) > _BARCODES_LOOKED_FOR:
        queries = [window_orders_query(dialect, tenant_id, window_start, window_end)]
    else:
        ordered = sorted(barcodes)
        queries = [
            window_orders_query(
                dialect,
                tenant_id,
                window_start,
                window_end,
                barcodes=ordered[i : i + _BARCODES_PER_QUERY],
            )
            for i in range(0, len(ordered), _BARCODES_PER_QUERY)
        ]
    for query in queries:
        async for partition in _driver_rows(connection, query):
            yield cast(list[OrderGroup], partition)


async def _call_now(function: Callable[..., None], *args: Any) -> None:
    function(*args)


async def add_window_orders(
    session: AsyncSession,
    tenant_id: int,
    builder: ReportBuilder,
    run: Callable[..., Awaitable[None]] = _call_now,
) -> None:
    """Stream the tenant's stored orders of the builder's window into it, a warehouse at a
    time, each added by `await run(method, *arguments)` (the sync gives asyncio.to_thread).

    First every order by its size key (warehouse_orders); then, only when some barcode is not
    a card's, the full groups of those barcodes (usually none).
    """
    window = builder.window
    async for name, seller_type, is_cancel, keys in warehouse_orders(session, tenant_id, *window):
        await run(builder.add_warehouse_orders, window, name, seller_type, is_cancel, keys)
    unmatched = builder.unmatched_barcodes
    async for described in order_groups(session, tenant_id, *window, barcodes=unmatched):
        await run(builder.add_unmatched_orders, window, described)


# The window's orders at one warehouse, of one type (whether it is the seller's) and
# cancellation: each order as its core.report.order_size_key.
WarehouseOrders = tuple[str, bool, bool, list[str]]
_KEYS_SEPARATOR = ","  # SQLite's default for group_concat: naming it costs 12 % of the read
# Groups per fetch: each holds its orders' keys as one string (~1 MB for a large seller's
# busiest warehouse over 30 days).
_WAREHOUSES_PER_FETCH = 8


async def warehouse_orders(
    session: AsyncSession, tenant_id: int, window_start: datetime, window_end: datetime
) -> AsyncIterator[WarehouseOrders]:
    """The stored orders placed in [window_start, window_end), a warehouse, type and
    cancellation at a time, in any order; every order once (the table keeps one row per srid).

    The database joins each group's order_size_keys into one string, which is split here: a
    large seller has nearly one order per (size, warehouse) in a window, so grouping by them
    saves nothing, and reading a row per order made a tuple and three objects for each (0.43 s
    of SQLite's CPU for 30 days, 500,000 orders, against 0.18 s for the joined groups; the
    report's adding took 0.78 s instead of 0.54 s). The index storage.models.ORDERS_WINDOW_INDEX
    gives the groups in order, without a sort and without looking a row up.
    """
    connection = await session.connection()
    query = warehouse_orders_query(connection.dialect.name, tenant_id, window_start, window_end)
    separated: list[tuple[str, str, bool]] = []  # groups whose keys the separator cannot split
    async for partition in _driver_rows(connection, query, _WAREHOUSES_PER_FETCH):
        for name, warehouse_type, is_cancel, count, joined_keys in partition:
            keys = joined_keys.split(_KEYS_SEPARATOR)
            if len(keys) == count:
                yield _warehouse_group(name, warehouse_type, is_cancel, keys)
            else:  # a barcode with the separator in it
                separated.append((name, warehouse_type, is_cancel))
    for name, warehouse_type, is_cancel in separated:  # once the cursor above is closed
        orders = select(StoredOrder.barcode, StoredOrder.nm_id).where(
            *_in_window(tenant_id, window_start, window_end),
            StoredOrder.warehouse_name == name,
            StoredOrder.warehouse_type == warehouse_type,
            StoredOrder.is_cancel == is_cancel,
        )
        keys = [
            order_size_key(barcode, nm_id)
            async for rows in _driver_rows(connection, orders)
            for barcode, nm_id in rows
        ]
        yield _warehouse_group(name, warehouse_type, is_cancel, keys)


def _warehouse_group(
    name: str, warehouse_type: str, is_cancel: bool, keys: list[str]
) -> WarehouseOrders:
    """A group as the report takes it: the type as whether it is the seller's, the flag as a
    bool (SQLite gives 0 or 1)."""
    return name, warehouse_type == SELLER_WAREHOUSE_TYPE, bool(is_cancel), keys


def warehouse_orders_query(
    dialect: str, tenant_id: int, window_start: datetime, window_end: datetime
) -> Select[Any]:
    """warehouse_orders' query: per group, its warehouse name and type, cancellation, how many
    orders and their size keys joined by _KEYS_SEPARATOR."""
    key = StoredOrder.barcode + " " + sql_cast(StoredOrder.nm_id, String)  # order_size_key
    joined = (
        func.string_agg(key, literal_column(f"'{_KEYS_SEPARATOR}'"))
        if dialect == "postgresql"
        else func.group_concat(key)
    )
    group = (StoredOrder.warehouse_name, StoredOrder.warehouse_type, StoredOrder.is_cancel)
    return (
        select(*group, func.count(), joined)
        .where(*_in_window(tenant_id, window_start, window_end))
        .group_by(*group)
    )


def _in_window(
    tenant_id: int, window_start: datetime, window_end: datetime
) -> tuple[ColumnElement[bool], ...]:
    return (
        StoredOrder.tenant_id == tenant_id,
        StoredOrder.date >= window_start,
        StoredOrder.date < window_end,
    )


def window_orders_query(
    dialect: str,
    tenant_id: int,
    window_start: datetime,
    window_end: datetime,
    *,
    barcodes: Sequence[str] | None = None,
) -> Select[Any]:
    """order_groups' query: grouped on PostgreSQL, a row per order (n = 1) on SQLite (where
    sorting for the GROUP BY cost more than the rows). Every column it reads is in the index
    storage.models.ORDERS_WINDOW_INDEX: the rows themselves are never looked up.
    """
    key: tuple[Any, ...] = (
        StoredOrder.nm_id,
        StoredOrder.barcode,
        StoredOrder.tech_size,
        StoredOrder.supplier_article,
        StoredOrder.warehouse_name,
        # A flag, not the type's text: a string object per order was ~10 % of the read.
        (StoredOrder.warehouse_type == SELLER_WAREHOUSE_TYPE).label("seller_type"),
        StoredOrder.is_cancel,
    )
    query = (
        select(*key, func.count()).group_by(*key)
        if dialect == "postgresql"
        else select(*key, literal(1))
    )
    query = query.where(*_in_window(tenant_id, window_start, window_end))
    if barcodes is not None:
        # A parameter per barcode, not one "expanding" parameter, which only SQLAlchemy's own
        # execution fills in (_driver_rows runs the compiled statement itself).
        query = query.where(
            StoredOrder.barcode.in_(
                [bindparam(f"barcode_in_{i}", barcode) for i, barcode in enumerate(barcodes)]
            )
        )
    return query


async def _driver_rows(
    connection: AsyncConnection, query: ClauseElement, partition: int = _DRIVER_PARTITION
) -> AsyncIterator[list[Any]]:
    """The query's rows as the driver's own (tuples, asyncpg records), `partition` at a time,
    in the connection's transaction.

    For the ~460,000 rows of a large seller's 30-day window SQLAlchemy's result rows cost
    about as much CPU as SQLite itself, and on PostgreSQL they were made on the event loop
    (~60 ms per 10,000 rows, every chat command waiting). The columns must need no result
    processing (integers, floats and text; a Boolean comes as 0 or 1 on SQLite).
    """
    compiled = query.compile(dialect=connection.dialect)
    values = compiled.construct_params() or {}
    parameters = tuple(
        values[name] if process is None else process(values[name])
        for name, process in _bind_plan(compiled, connection.dialect)
    )
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if connection.dialect.name == "postgresql":
        rows = _postgres_cursor(driver, compiled.string, parameters, partition)
    else:
        rows = _sqlite_cursor(driver, compiled.string, parameters, partition)
    async for fetched in rows:
        yield fetched


async def _sqlite_cursor(
    driver: Any, statement: str, parameters: tuple[Any, ...], partition: int
) -> AsyncIterator[list[Any]]:
    """aiosqlite: the rows are fetched and made in its thread; the loop gets each list."""
    try:
        cursor = await driver.execute(statement, parameters)
        try:
            while rows := await cursor.fetchmany(partition):
                yield rows
        finally:
            await cursor.close()
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from None


async def _postgres_cursor(
    driver: Any, statement: str, parameters: tuple[Any, ...], partition: int
) -> AsyncIterator[list[Any]]:
    """asyncpg: a server-side cursor, in the session's transaction or a read-only one of its
    own when the session has none yet."""
    import asyncpg  # only with PostgreSQL: SQLite deployments never load it

    try:
        async with contextlib.AsyncExitStack() as stack:
            if not driver.is_in_transaction():  # a cursor lives in a transaction
                await stack.enter_async_context(driver.transaction(readonly=True))
            cursor = await driver.cursor(statement, *parameters)
            while rows := await cursor.fetch(partition):
                yield rows
    except asyncpg.PostgresError as exc:
        raise DBAPIError.instance(statement, None, exc, asyncpg.PostgresError) from None


async def count_orders(
    session: AsyncSession, tenant_id: int, window_start: datetime, window_end: datetime
) -> OrderCounts:
    """The window's stored orders counted per OrderKey (order_groups, as one mapping).

    The sync streams the groups into the report instead (core.sync); this is what tests and
    the benchmark hold against core.report.count_orders.
    """
    counts: dict[OrderKey, int] = {}
    get = counts.get
    shared: dict[str, str] = {}  # one object per distinct string, as in load_orders
    share = shared.setdefault
    async for partition in order_groups(session, tenant_id, window_start, window_end):
        with gc_paused():  # a tuple per group (see gc_paused); never across an await
            for (
                nm_id,
                barcode,
                tech_size,
                article,
                warehouse,
                seller_type,
                cancel,
                n,
            ) in partition:
                order_key: OrderKey = (
                    nm_id,
                    share(barcode, barcode),
                    share(tech_size, tech_size),
                    share(article, article),
                    share(warehouse, warehouse),
                    bool(seller_type),
                    bool(cancel),
                )
                counts[order_key] = get(order_key, 0) + n
    return OrderCounts(window_start, window_end, counts)


async def prune_orders(session: AsyncSession, tenant_id: int, before: datetime) -> None:
    """Orders placed before `before` (outside every window we show) are dropped."""
    await session.execute(
        delete(StoredOrder).where(StoredOrder.tenant_id == tenant_id, StoredOrder.date < before)
    )


async def orders_cursor(session: AsyncSession, tenant_id: int) -> datetime | None:
    """The latest lastChangeDate stored: the next incremental read starts there."""
    value = await session.scalar(
        select(func.max(StoredOrder.last_change_date)).where(StoredOrder.tenant_id == tenant_id)
    )
    return value
