"""positional_constructor builds the same frozen objects as the dataclass's own __init__."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from core.fast_dataclass import positional_constructor
from core.stock_report import StockRow, WarehouseFigures, WarehouseKind
from core.wb.models import Order


def test_rows_equal_those_of_the_dataclass_init() -> None:
    values = (7, None, "2040", "M", "Коледино", WarehouseKind.WB, 3, 2, 1, 3.5)
    made = positional_constructor(StockRow)(*values)
    assert made == StockRow(*values)
    assert hash(made) == hash(StockRow(*values))
    assert type(made) is StockRow
    assert repr(made) == repr(StockRow(*values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.stock = 5  # type: ignore[misc]
    figures = ("Тула", WarehouseKind.SELLER, 0, 4, 4, None)
    assert positional_constructor(WarehouseFigures)(*figures) == WarehouseFigures(*figures)


def test_every_field_is_set_including_defaulted_ones() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5)
    values = ("s1", moment, moment, 1, "b", "0", "a", "w", "Склад WB", True, moment, "g", 9.5)
    made = positional_constructor(Order)(*values)
    assert made == Order(*values)
    assert dataclasses.astuple(made) == values
    with pytest.raises(TypeError):
        positional_constructor(Order)(*values[:-1])  # no defaults: every field is required


def test_classes_it_cannot_copy_are_refused() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    for cls in (NoSlots, Checked):
        with pytest.raises(TypeError):
            positional_constructor(cls)
