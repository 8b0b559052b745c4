"""core/_report_speedups.c: the same functions as core.report's _add_keyed_orders_python,
_add_size_rows_python, _place_remains_rows_python and _place_cards_python."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from core.stock_report import WarehouseKind
from core.wb.models import Card, RemainsRow

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
def place_remains(
    remains: Iterable[RemainsRow],
    by_key: dict[str, int],
    table: list[Any],
    slot: int,
    levels: tuple[int, ...],
    to_buyers_name: str,
    to_buyers: dict[int, int],
    returns_name: str,
    returns: dict[int, int],
    ignored_name: str,
    unmatched: Callable[[RemainsRow], int],
) -> None: ...
def place_cards(
    cards: Sequence[Card],
    products: dict[int, int],
    descriptions: list[str],
    table: list[Any],
    by_chrt: dict[int, int],
    by_key: dict[str, int],
    first_size: dict[int, int],
    card_sizes: dict[int, int],
) -> None: ...
