"""StockRows: a built report's rows kept as one flat list of values, read as StockRow."""

from __future__ import annotations

import pytest

from core.stock_report import StockRow, StockRows, WarehouseKind, row_values

ROWS = (
    StockRow(1, 11, "111", "S", "Коледино", WarehouseKind.WB, 3, 2, 1, 21.0),
    StockRow(1, 11, "111", "S", "Мой склад", WarehouseKind.SELLER, 4, 0, 0, None),
    StockRow(2, None, "999", "XXL", "Казань", WarehouseKind.WB, 0, 1, 0, 0.0),
)


def flat(rows: tuple[StockRow, ...]) -> StockRows:
    return StockRows([value for row in rows for value in row])


def test_rows_read_back_as_the_stock_rows_they_were() -> None:
    rows = flat(ROWS)
    assert len(rows) == 3
    assert list(rows) == list(ROWS)
    assert all(type(row) is StockRow for row in rows)
    assert [row.warehouse for row in rows] == ["Коледино", "Мой склад", "Казань"]
    assert rows[0] == ROWS[0] and rows[-1] == ROWS[-1] and rows[1].kind is WarehouseKind.SELLER
    assert rows[1:] == ROWS[1:] and rows[::-1] == ROWS[::-1] and rows[5:] == ()
    assert rows.index(ROWS[2]) == 2 and ROWS[1] in rows
    with pytest.raises(IndexError):
        rows[3]
    with pytest.raises(IndexError):
        rows[-4]


def test_rows_equal_a_tuple_of_the_same_rows_and_hash_alike() -> None:
    rows = flat(ROWS)
    assert rows == ROWS and rows == flat(ROWS)
    assert ROWS == rows  # noqa: SIM300 (the tuple's side: the comparison is reflected)
    assert rows != ROWS[:2] and rows != flat(ROWS[::-1]) and rows != "rows"
    assert hash(rows) == hash(ROWS)
    assert flat(()) == () and len(flat(())) == 0


def test_values_are_plain_tuples_of_the_same_fields() -> None:
    assert [tuple(row) for row in ROWS] == list(row_values(flat(ROWS)))
    assert all(type(values) is tuple for values in flat(ROWS).values())
    assert list(row_values(ROWS)) == list(ROWS)  # any other sequence of rows


def test_values_that_are_not_whole_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="not whole rows"):
        StockRows([*ROWS[0], 1])
