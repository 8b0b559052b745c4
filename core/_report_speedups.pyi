"""core/_report_speedups.c: the same functions as core.report's _add_keyed_orders_python and
_add_size_rows_python."""

from collections.abc import Sequence
from typing import Any

from core.stock_report import WarehouseKind

def add_keyed_orders(
    table: list[Any], by_key: dict[str, int], keys: Sequence[str], slot: int, name: str, one: int
) -> list[str]: ...
def add_size_rows(
    values: list[Any],
    table: list[Any],
    sizes: Sequence[int],
    slot: int,
    kind: WarehouseKind,
    nm_id: int,
    window_days: int,
) -> tuple[int, int, int]: ...
