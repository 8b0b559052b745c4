"""Start-up tuning of the garbage collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from core.runtime import GC_THRESHOLDS, tune_garbage_collector


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_gc")
def test_start_up_objects_are_frozen_and_collections_made_rarer() -> None:
    gc.unfreeze()
    long_lived = [object() for _ in range(1000)]
    tune_garbage_collector()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert GC_THRESHOLDS[0] > 700  # CPython's default young threshold
    assert gc.get_freeze_count() >= len(long_lived)
    # Cyclic garbage made later is still collected.
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
