"""`python -m benchmarks --size full|tiny --out bench-results/results.json`

Runs the scenarios (each in a fresh process), prints a table and writes the figures as JSON.
Figures only: nothing here fails on a slow machine; the exit status is non-zero only when a
scenario could not run at all.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from benchmarks.sizes import SIZES, Size
from benchmarks.support import (
    BACKENDS,
    database,
    new_encryption_key,
    postgres_available,
    wb_server,
    workdir,
)

GROUPS = ("large", "responsiveness", "scale")
SCENARIO_TIMEOUT = 900.0


def run_scenario(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run one scenario in a fresh process; its result, or a result naming its error."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        started = time.monotonic()
        try:
            completed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.scenario",
                    name,
                    orjson.dumps(params).decode(),
                    out.name,
                ],
                timeout=SCENARIO_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return _error(name, params, f"timed out after {SCENARIO_TIMEOUT:.0f} s")
        if completed.returncode != 0:
            return _error(name, params, f"exit status {completed.returncode}")
        result: dict[str, Any] = orjson.loads(Path(out.name).read_bytes())
        result["elapsed_s"] = round(time.monotonic() - started, 1)
        return result


def _error(name: str, params: dict[str, Any], error: str) -> dict[str, Any]:
    return {
        "scenario": name,
        "backend": params.get("backend", "-"),
        "metrics": {},
        "details": {},
        "error": error,
    }


def large(
    size: Size, backends: list[str], now: datetime, profile: bool
) -> Iterator[dict[str, Any]]:
    shape = size.large_seller.as_dict()
    print(f"== large seller: generating {shape} in the WB fake's process", flush=True)
    with wb_server([1], shape, now, size.orders_page_rows) as wb:
        seller_id = wb.sellers[0]["seller_id"]
        common = {
            "wb_url": wb.url,
            "control": wb.control,
            "seller_id": seller_id,
            "page_rows": size.orders_page_rows,
            "profile": profile,
        }
        # The CPU figures first: after a large sync on PostgreSQL the server's own work
        # (writing out and dropping its half a million rows) went on into the next scenario
        # and slowed a memory-bound build by a third (docs/performance.md, issue 7, part 12).
        for window in size.large_windows:
            print(f"== large seller: report building against decoding, {window}-day window")
            yield run_scenario("large_build", {**common, "window_days": window})
        for window in size.large_windows:
            for backend in backends:
                print(f"== large seller sync, {window}-day window, {backend}", flush=True)
                yield run_scenario(
                    "large_sync", {**common, "backend": backend, "window_days": window}
                )


def responsiveness(
    size: Size, backends: list[str], now: datetime, profile: bool
) -> Iterator[dict[str, Any]]:
    seeds = list(range(100, 100 + size.sellers))
    shape = size.small_seller.as_dict()
    print(f"== responsiveness: generating {size.sellers} sellers {shape}", flush=True)
    with wb_server(seeds, shape, now, size.orders_page_rows) as wb:
        for backend in backends:
            print(f"== responsiveness: {size.sellers} syncs at once, {backend}", flush=True)
            yield run_scenario(
                "responsiveness",
                {
                    "backend": backend,
                    "wb_url": wb.url,
                    "control": wb.control,
                    "seller_ids": [s["seller_id"] for s in wb.sellers],
                    "page_rows": size.orders_page_rows,
                    "status_chats": size.status_chats,
                    "status_interval": size.status_interval,
                    "idle_seconds": min(5.0, size.idle_seconds * 5),
                },
            )


def scale(
    size: Size, backends: list[str], now: datetime, profile: bool
) -> Iterator[dict[str, Any]]:
    for backend in backends:
        with workdir() as tmp, database(backend, tmp) as url:
            key = new_encryption_key()
            common = {"backend": backend, "database_url": url, "encryption_key": key}
            print(f"== scale: {size.tenants} tenants with schedules, {backend}", flush=True)
            yield run_scenario("scale_prepare", {**common, "tenants": size.tenants})
            for label in ("first_start", "restart"):
                print(f"== scale: {label}, {backend}", flush=True)
                yield run_scenario(
                    "scale_start",
                    {**common, "label": label, "idle_seconds": size.idle_seconds},
                )


def _value(metric: dict[str, Any]) -> str:
    value = metric["value"]
    unit = metric.get("unit") or ""
    text = f"{value} {unit}".strip() if value is not None else "-"
    return text


def table(results: list[dict[str, Any]]) -> str:
    rows = [("scenario", "backend", "metric", "value", "goal", "")]
    for result in results:
        if result.get("error"):
            rows.append((result["scenario"], result["backend"], "ERROR", result["error"], "", ""))
            continue
        for name, metric in result["metrics"].items():
            ok = metric.get("ok")
            mark = "" if ok is None else ("ok" if ok else "ABOVE GOAL")
            rows.append(
                (result["scenario"], result["backend"], name, _value(metric), metric["goal"], mark)
            )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append(
            "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        )
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--out", type=Path, default=Path("bench-results/results.json"))
    parser.add_argument(
        "--only", default=",".join(GROUPS), help=f"comma-separated: {', '.join(GROUPS)}"
    )
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated: sqlite, postgres"
    )
    parser.add_argument(
        "--profile", action="store_true", help="add cProfile listings to the JSON details"
    )
    args = parser.parse_args()
    size = SIZES[args.size]
    groups = [g.strip() for g in args.only.split(",") if g.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [g for g in groups if g not in GROUPS] + [b for b in backends if b not in BACKENDS]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")
    if "postgres" in backends and not postgres_available():
        print("PostgreSQL is not answering: running on SQLite only", file=sys.stderr)
        backends = [b for b in backends if b != "postgres"]
    now = datetime.now(UTC)
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    runners = {"large": large, "responsiveness": responsiveness, "scale": scale}
    for group in groups:
        for result in runners[group](size, backends, now, args.profile):
            results.append(result)
            if result.get("error"):
                print(f"!! {result['scenario']} ({result['backend']}): {result['error']}")
    report = {
        "size": size.name,
        "started_at": now.isoformat(),
        "elapsed_s": round(time.monotonic() - started, 1),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
        },
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print()
    print(table(results))
    print(f"\nfigures written to {args.out}")
    return 1 if any(r.get("error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
