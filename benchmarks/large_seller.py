"""Scenario 1: one large seller's sync, and the report's building cost against JSON decoding.

`large_sync` runs the real SyncService (real client, real database, a notifier that only
notes when each step starts) against the WB fake: wall time per step, peak RSS, WB calls by
method against the fewest paging allows, and the summary's totals against the ground truth.

`large_build` fetches the same responses once with the real client (recording the raw bodies),
then measures, in CPU seconds: decoding every body with orjson only; the client's decoding and
parsing into typed rows (replayed from the recorded bodies, no network); and building the
report the way the sync does: core.report.ReportBuilder places the stock, takes the window's
stored orders streamed from the database (core.snapshot_store.add_window_orders on a SQLite file,
whose engine runs in this process, so its CPU is counted) and makes the rows. The goal is
building <= 1.0x decoding; the two take turns, nine times, and the best of each is compared
(with five, runs of the same code gave 0.96-1.10x at 7 days; every turn's figures are in
the JSON).
Both run with the garbage collector tuned as the bot's process has it (core.runtime). The
same build with the order groups already in memory (no SQL), and build_report from Order rows
(counting them in Python), are shown too; the latter must give the same report.
"""

from __future__ import annotations

import collections
import cProfile
import gc
import io
import pstats
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import aiohttp
import orjson

from benchmarks.support import (
    Result,
    StepClock,
    add_tenant,
    control_get,
    database,
    make_settings,
    new_encryption_key,
    peak_rss_mb,
    workdir,
)
from core import snapshot_store
from core.clock import utcnow
from core.exporters.layout import build_tables
from core.notifier import Trigger
from core.report import OrderGroup, ReportBuilder, build_report, moscow_window
from core.runtime import tune_garbage_collector
from core.stock_report import DataPart, StockReport
from core.sync import SyncService, SyncStatus
from core.vault import KeyVault
from core.wb.client import WBClient, format_date_from
from core.wb.limits import Method, RateLimiter
from core.wb.models import Card, FbsStock, Order, RemainsRow, SellerWarehouse
from core.wb.token import TokenType
from storage import migrate
from storage.db import create_engine, session_factory
from tests.fakes.wb import make_token

RSS_GOAL_MB = 400.0
BUILD_RATIO_GOAL = 1.0


def _profile_text(profile: cProfile.Profile, limit: int = 35) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    stats.sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


async def large_sync(params: dict[str, Any]) -> Result:
    backend: str = params["backend"]
    window_days = int(params["window_days"])
    result = Result(f"large_sync_{window_days}d", backend)
    with workdir() as tmp, database(backend, tmp) as url:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        key = new_encryption_key()
        vault = KeyVault([key])
        seller_id: str = params["seller_id"]
        tenant_id = await add_tenant(sessions, vault, chat_id=5001, seller_id=seller_id)
        settings = make_settings(
            url,
            params["wb_url"],
            key,
            wb_orders_page_rows=int(params["page_rows"]),
            orders_window_days=window_days,
        )
        control: str = params["control"]
        async with aiohttp.ClientSession() as http:
            before = await control_get(http, control, "/calls")
            window_start, _ = moscow_window(utcnow(), window_days)
            notifier = StepClock()
            service = SyncService(
                sessions=sessions, vault=vault, notifier=notifier, settings=settings, http=http
            )
            tune_garbage_collector()  # as `python -m bot` does once it is set up
            rss_before = peak_rss_mb()
            profile = cProfile.Profile() if params.get("profile") else None
            cpu = time.process_time()
            started = time.perf_counter()
            if profile is not None:
                profile.enable()
            outcome = await service.run(tenant_id, Trigger.MANUAL)
            if profile is not None:
                profile.disable()
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu
            calls = await control_get(http, control, "/calls", since=str(before["next"]))
            minimum = await control_get(
                http,
                control,
                "/minimum",
                seller_id=seller_id,
                date_from=format_date_from(window_start),
            )
            if outcome is None or outcome.report is None:
                raise RuntimeError(f"the sync did not complete: {outcome!r}")
            report = outcome.report
            # The sync's own window (it starts a little after `window_start` above).
            truth = await control_get(
                http,
                control,
                "/truth",
                seller_id=seller_id,
                window_start=report.window_start.isoformat(),
                window_end=report.window_end.isoformat(),
            )
        await engine.dispose()

    if outcome.status is not SyncStatus.COMPLETED:
        raise RuntimeError(f"the sync did not complete: {outcome!r}")
    by_method: dict[str, int] = calls["by_method"]
    total_calls = sum(by_method.values())
    total_minimum = sum(minimum.values())
    result.add("sync wall time", round(wall, 2), "s")
    result.add("sync CPU time (all threads)", round(cpu, 2), "s")
    peak = peak_rss_mb()
    result.add(
        "peak RSS", round(peak, 1), "MB", goal=f"< {RSS_GOAL_MB:.0f} MB", ok=peak < RSS_GOAL_MB
    )
    result.add(
        "WB calls",
        total_calls,
        "calls",
        goal=f"= minimum ({total_minimum})",
        ok=by_method == minimum,
    )
    result.add("stock rows in the report", len(report.rows), "rows")
    checked = {
        "products": report.totals.products,
        "sizes": report.totals.sizes,
        "fbo_units": report.totals.fbo_units,
        "fbs_units": report.totals.fbs_units,
        "orders": report.totals.orders,
        "cancelled": report.totals.cancelled,
    }
    wrong = {k: (v, truth[k]) for k, v in checked.items() if truth[k] != v}
    result.add("totals equal the ground truth", "yes" if not wrong else f"no: {wrong}")
    result.details = {
        "phases_s": notifier.phases(),
        "rss_at_step_start_mb": {
            step: {"current": round(now, 1), "peak": round(peak, 1)}
            for step, now, peak in notifier.memory
        },
        "calls_by_method": by_method,
        "minimum_calls_by_method": minimum,
        "http_statuses": calls["statuses"],
        "rss_before_sync_mb": round(rss_before, 1),
        "orders_window_days": window_days,
        "orders_in_window": report.totals.orders,
    }
    if profile is not None:
        result.details["profile"] = _profile_text(profile)
    return result


class _RecordingClient(WBClient):
    """The real client, keeping every response body it receives."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bodies: list[tuple[Method, int, bytes]] = []

    async def _request(
        self,
        method: Method,
        host: Any,
        http_method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> tuple[int, bytes]:
        status, payload = await super()._request(
            method, host, http_method, path, params=params, body=body
        )
        self.bodies.append((method, status, payload))
        return status, payload


class _ReplayClient(WBClient):
    """The real client's decoding and parsing, fed recorded bodies instead of the network."""

    def __init__(self, bodies: list[tuple[Method, int, bytes]], *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._bodies = collections.deque(bodies)

    async def _request(
        self,
        method: Method,
        host: Any,
        http_method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> tuple[int, bytes]:
        recorded, status, payload = self._bodies.popleft()
        assert recorded is method, (recorded, method)
        return status, payload


class _Parts:
    def __init__(self) -> None:
        self.cards: list[Card] = []
        self.warehouses: list[SellerWarehouse] = []
        self.fbs: list[FbsStock] = []
        self.remains: list[RemainsRow] = []
        self.orders: list[Order] = []


async def _read_all(client: WBClient, window_start: datetime, page_rows: int) -> _Parts:
    """The calls a first sync makes, in its order (see core.sync.SyncService)."""
    parts = _Parts()
    parts.cards = await client.cards()
    chrt_ids = sorted({size.chrt_id for card in parts.cards for size in card.sizes})
    parts.warehouses = await client.seller_warehouses()
    for warehouse in parts.warehouses:
        parts.fbs.extend(await client.fbs_stocks(warehouse.id, chrt_ids))
    task_id = await client.create_remains_report()
    while await client.remains_status(task_id) != "done":
        pass
    parts.remains = await client.download_remains(task_id)
    cursor = window_start
    while True:
        page = await client.orders_page(cursor)
        parts.orders.extend(page)
        if len(page) < page_rows:
            break
        newest = max(order.last_change_date for order in page)
        if newest <= cursor:
            break
        cursor = newest
    return parts


def _cpu_of(fn: Callable[[], object]) -> float:
    gc.collect()
    started = time.process_time()
    fn()
    return time.process_time() - started


async def _cpu_of_async(fn: Callable[[], Awaitable[object]]) -> float:
    gc.collect()
    started = time.process_time()
    await fn()
    return time.process_time() - started


def _best_and_median(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return ordered[0], ordered[len(ordered) // 2]


def _best_cpu(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(best, median) CPU seconds of `fn` over `repeat` runs."""
    return _best_and_median([_cpu_of(fn) for _ in range(repeat)])


async def _best_cpu_async(fn: Callable[[], Awaitable[object]], repeat: int) -> tuple[float, float]:
    return _best_and_median([await _cpu_of_async(fn) for _ in range(repeat)])


async def large_build(params: dict[str, Any]) -> Result:
    window_days = int(params["window_days"])
    page_rows = int(params["page_rows"])
    repeat = int(params.get("repeat", 5))
    turns = int(params.get("turns", 9))  # decoding and building, alternated
    result = Result(f"large_build_{window_days}d", "-")
    token = make_token(token_type=3, seller_id=params["seller_id"])
    now = utcnow()
    window_start, _ = moscow_window(now, window_days)
    # The collector as the bot's process has it; what is made from here on is not frozen, as
    # a sync's data is not.
    tune_garbage_collector()

    def limiter() -> RateLimiter:
        return RateLimiter(TokenType.PERSONAL, enabled=False)

    async with aiohttp.ClientSession() as http:
        recording = _RecordingClient(http, token, limiter=limiter(), base_url=params["wb_url"])
        await _read_all(recording, window_start, page_rows)
    bodies = recording.bodies
    payload_bytes = sum(len(payload) for _, _, payload in bodies)

    def decode_only() -> None:
        for _, _, payload in bodies:
            orjson.loads(payload)

    decode_by_kind: dict[str, float] = collections.defaultdict(float)
    for method, _, payload in bodies:
        started = time.process_time()
        orjson.loads(payload)
        decode_by_kind[method.value] += time.process_time() - started

    parsed: list[_Parts] = []

    async def replay() -> None:
        client = _ReplayClient(bodies, http, token, limiter=limiter(), base_url=params["wb_url"])
        parsed[:] = [await _read_all(client, window_start, page_rows)]

    async with aiohttp.ClientSession() as http:
        parse_best, parse_median = await _best_cpu_async(replay, repeat)
    parts = parsed[0]
    # The sync builds from the stored orders placed inside the window (one row per srid).
    orders = list({o.srid: o for o in parts.orders if o.date >= window_start}.values())
    part_times = {part: now for part in DataPart}
    window = moscow_window(now, window_days)
    reports: list[StockReport] = []
    groups: list[OrderGroup] = []

    def builder() -> ReportBuilder:
        return ReportBuilder(
            cards=parts.cards,
            remains=parts.remains,
            seller_warehouses=parts.warehouses,
            fbs_stocks=parts.fbs,
            now_utc=now,
            window_days=window_days,
        )

    def finish(built: ReportBuilder) -> StockReport:
        return built.finish(low_stock_threshold=7, part_times=part_times)

    build_wall: list[float] = []
    with workdir() as tmp, database("sqlite", tmp) as url:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        tenant_id = await add_tenant(
            sessions, KeyVault([new_encryption_key()]), chat_id=5002, seller_id=None
        )
        for start in range(0, len(parts.orders), page_rows):  # stored as the sync stores them
            async with sessions() as session:
                page = parts.orders[start : start + page_rows]
                await snapshot_store.upsert_orders(session, tenant_id, page)
                await session.commit()

        async def build_streamed() -> None:
            """What the sync does (core.sync, _build), without its worker threads."""
            started = time.perf_counter()
            built = builder()
            async with sessions() as session:
                await snapshot_store.add_window_orders(session, tenant_id, built)
            reports[:] = [finish(built)]
            build_wall.append(time.perf_counter() - started)

        # Decoding and building take turns: this machine's speed drifts by tens of percent
        # over minutes, and a ratio of two figures taken minutes apart drifted with it.
        decode_times: list[float] = []
        streamed_times: list[float] = []
        for _ in range(turns):
            decode_times.append(_cpu_of(decode_only))
            # A sync holds no earlier report while it builds: the last turn's goes first.
            reports.clear()
            streamed_times.append(await _cpu_of_async(build_streamed))
        decode_best, decode_median = _best_and_median(decode_times)
        streamed_best, streamed_median = _best_and_median(streamed_times)
        pair_ratio = _best_and_median(
            [built / decoded for built, decoded in zip(streamed_times, decode_times, strict=True)]
        )[1]
        async with sessions() as session:
            async for partition in snapshot_store.order_groups(session, tenant_id, *window):
                groups.extend(partition)
        await engine.dispose()

    def build_in_memory() -> None:
        built = builder()
        built.add_orders(window, groups)
        finish(built)

    build_best, build_median = _best_cpu(build_in_memory, repeat)

    def build(source: list[Order]) -> StockReport:
        return build_report(
            cards=parts.cards,
            remains=parts.remains,
            seller_warehouses=parts.warehouses,
            fbs_stocks=parts.fbs,
            orders=source,
            now_utc=now,
            window_days=window_days,
            low_stock_threshold=7,
            part_times=part_times,
        )

    python_best, python_median = _best_cpu(lambda: build(orders), repeat)
    same = build(orders) == reports[0]
    # What an export adds on top (the XLSX file and the Sheet share this layout): since the
    # products' figures per warehouse are derived from the rows, their cost is here.
    export_best, _ = _best_cpu(lambda: build_tables(reports[0], now=now), 1)
    ratio = streamed_best / decode_best if decode_best else float("inf")
    result.add("decode JSON only (orjson)", round(decode_best, 3), "s CPU")
    result.add("client decode + parse to rows", round(parse_best, 3), "s CPU")
    result.add("build the report, orders in memory (no SQL)", round(build_best, 3), "s CPU")
    result.add(
        "build the report, orders streamed from SQLite (as the sync)",
        round(streamed_best, 3),
        "s CPU",
    )
    result.add(
        "building (streamed) / decode",
        round(ratio, 2),
        "x",
        goal=f"<= {BUILD_RATIO_GOAL:.1f}x",
        ok=ratio <= BUILD_RATIO_GOAL,
    )
    result.add("the same, median of the turns' ratios", round(pair_ratio, 2), "x")
    result.add("build_report from Order rows (Python counting)", round(python_best, 3), "s CPU")
    result.add("same report either way", "yes" if same else "NO")
    result.add("export layout of the report (both tabs)", round(export_best, 3), "s CPU")
    result.add("payloads", f"{len(bodies)} bodies, {payload_bytes / 2**20:.0f} MB")
    result.add("report rows", len(reports[0].rows), "rows")
    if params.get("profile"):
        profile = cProfile.Profile()
        profile.enable()
        build_in_memory()
        profile.disable()
        result.details["profile_build"] = _profile_text(profile)
        profile = cProfile.Profile()
        async with aiohttp.ClientSession() as http:
            profile.enable()
            await replay()
            profile.disable()
        result.details["profile_parse"] = _profile_text(profile)
    result.details.update(
        {
            "decode_median_s": round(decode_median, 3),
            "decode_turns_s": [round(t, 3) for t in decode_times],
            "build_streamed_turns_s": [round(t, 3) for t in streamed_times],
            "parse_median_s": round(parse_median, 3),
            "build_median_s": round(build_median, 3),
            "build_streamed_median_s": round(streamed_median, 3),
            "build_streamed_wall_s": round(min(build_wall), 3),
            "build_in_memory_over_decode": round(build_best / decode_best, 2),
            "build_from_orders_median_s": round(python_median, 3),
            "order_groups_streamed": len(groups),
            "decode_by_method_s": {k: round(v, 3) for k, v in decode_by_kind.items()},
            "orders_read": len(parts.orders),
            "orders_built": len(orders),
            "cards": len(parts.cards),
            "remains_rows": len(parts.remains),
            "fbs_rows": len(parts.fbs),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }
    )
    return result
