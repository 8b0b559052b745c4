"""One scenario in a fresh process: `python -m benchmarks.scenario NAME PARAMS_JSON OUT_PATH`.

A process per scenario makes its peak RSS (ru_maxrss) its own.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import orjson

from benchmarks.support import Result

# Imported on demand, so a scenario pays (and measures) only its own imports.
SCENARIOS = {
    "large_sync": "benchmarks.large_seller:large_sync",
    "large_build": "benchmarks.large_seller:large_build",
    "responsiveness": "benchmarks.responsiveness:responsiveness",
    "scale_prepare": "benchmarks.scale:prepare",
    "scale_start": "benchmarks.scale:start",
}


def main() -> None:
    name, params, out = sys.argv[1], orjson.loads(sys.argv[2]), Path(sys.argv[3])
    # Warnings only: per-request INFO lines would be the loudest thing in a benchmark's output.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    module, function = SCENARIOS[name].split(":")
    scenario: Callable[[dict[str, Any]], Coroutine[Any, Any, Result]] = getattr(
        importlib.import_module(module), function
    )
    result = asyncio.run(scenario(params))
    out.write_bytes(orjson.dumps(result.as_dict()))


if __name__ == "__main__":
    main()
