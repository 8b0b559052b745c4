"""positional_constructor builds the same frozen objects as the dataclass's own __init__."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from core.fast_dataclass import positional_constructor
from core.wb.models import CardSize, Order, RemainsRow


def test_rows_equal_those_of_the_dataclass_init() -> None:
    values = (7, "ART-7", "2040", "M", "Brand", "Платья", (("Коледино", 3), ("Тула", 0)))
    made = positional_constructor(RemainsRow)(*values)
    assert made == RemainsRow(*values)
    assert hash(made) == hash(RemainsRow(*values))
    assert type(made) is RemainsRow
    assert repr(made) == repr(RemainsRow(*values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.nm_id = 5  # type: ignore[misc]
    size = (301, "M", "46", ("2040", "2041"))
    assert positional_constructor(CardSize)(*size) == CardSize(*size)


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
