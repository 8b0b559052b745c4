"""core/_report_speedups.c against its Python reference in core.report: the same tables, rows,
sums and errors on random inputs, and clear errors (not a crash) on inputs it must refuse.

tests/unit/test_report_python_loops.py runs the whole report suite on the Python loops; the
report suite itself runs on the compiled ones.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import report
from core.stock_report import WarehouseKind
from core.wb.models import Card, CardSize, RemainsRow
from tests.unit.test_report import NOW, card, remains

RECORD = 6  # core.report._RECORD: nm_id, chrt_id, tech size, barcode, WB figures, seller's
NAMES = ("Коледино", "Казань", "Тула", "Электросталь", "Мой склад", "Склад WB 17", "A", "Ё")
CANCELLED_ORDER = 1 + (1 << 30)


def test_the_install_compiled_the_loops() -> None:
    """scripts/setup builds core/_report_speedups.c (setup.py); a machine without a C
    compiler still runs the report, slower, on the Python loops, and says so here."""
    assert report.SPEEDUPS, "core/_report_speedups.c was not compiled: run scripts/setup"
    assert report._add_keyed_orders is not report._add_keyed_orders_python
    assert report._add_size_rows is not report._add_size_rows_python
    assert report._place_remains_rows is not report._place_remains_rows_python


def _packed(stock: int, ordered: int, cancelled: int) -> int:
    return ordered + (cancelled << 30) + (stock << 60)


@st.composite
def _tables(draw: st.DrawFn) -> list[Any]:
    """A table of 0-12 size records, each slot of figures None or a dict of packed figures:
    stock past 64 bits and counts near their 30 bits included."""
    figures = st.none() | st.dictionaries(
        st.sampled_from(NAMES),
        st.builds(
            _packed,
            st.integers(0, 40) | st.integers(0, 2**70),
            st.integers(0, 3) | st.integers(0, 2**30 - 1),
            st.integers(0, 3) | st.integers(0, 2**30 - 1),
        ),
        max_size=5,
    )
    table: list[Any] = []
    for i in range(draw(st.integers(0, 12))):
        table += [1000 + i // 3, 50 + i, f"T{i % 4}", f"20{i:04d}", draw(figures), draw(figures)]
    return table


def _sizes(table: list[Any]) -> st.SearchStrategy[list[int]]:
    offsets = range(0, len(table), RECORD)
    return st.lists(st.sampled_from(offsets), unique=True) if offsets else st.just([])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_rows_and_sums_are_the_python_loops(data: st.DataObject) -> None:
    table = data.draw(_tables())
    sizes = data.draw(_sizes(table))
    slot = data.draw(st.sampled_from((4, 5)))
    kind = WarehouseKind.WB if slot == 4 else WarehouseKind.SELLER
    window_days = data.draw(st.integers(1, 90))
    in_c, in_python = copy.deepcopy(table), copy.deepcopy(table)
    values_c: list[Any] = ["earlier row"]
    values_python: list[Any] = ["earlier row"]
    sums_c = report._add_size_rows(values_c, in_c, sizes, slot, kind, 1000, window_days)
    sums_python = report._add_size_rows_python(
        values_python, in_python, sizes, slot, kind, 1000, window_days
    )
    assert sums_c == sums_python
    assert values_c == values_python
    # The same types too: a cover is a float or None, never an int where Python has a float.
    assert [type(v) for v in values_c] == [type(v) for v in values_python]
    assert in_c == in_python
    for size in sizes:
        assert in_c[size + slot] is None


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_orders_are_counted_as_the_python_loop_counts_them(data: st.DataObject) -> None:
    table = data.draw(_tables())
    by_key = {f"{table[at + 3]} {table[at]}": at for at in range(0, len(table), RECORD)}
    known = sorted(by_key) or ["nothing"]
    keys = data.draw(st.lists(st.sampled_from(known) | st.sampled_from(("x 1", "20000 9"))))
    slot = data.draw(st.sampled_from((4, 5)))
    name = data.draw(st.sampled_from(NAMES))
    one = data.draw(st.sampled_from((1, CANCELLED_ORDER)))
    in_c, in_python = copy.deepcopy(table), copy.deepcopy(table)
    unmatched_c = report._add_keyed_orders(in_c, by_key, keys, slot, name, one)
    unmatched_python = report._add_keyed_orders_python(in_python, by_key, keys, slot, name, one)
    assert unmatched_c == unmatched_python == [k for k in keys if k not in by_key]
    assert in_c == in_python


def test_a_cover_beyond_a_doubles_exact_integers_is_pythons_quotient() -> None:
    """Stock * days past 2**53 goes through Python's int / int, which rounds once."""
    stock = 2**60 + 1
    table: list[Any] = [1, 2, "S", "111", {"Тула": _packed(stock, 7, 2)}, None]
    values: list[Any] = []
    sums = report._add_size_rows(values, table, [0], 4, WarehouseKind.WB, 1, 30)
    assert values[-1] == stock * 30 / 5
    assert sums == (stock, 7, 2)


@pytest.mark.skipif(not report.SPEEDUPS, reason="core/_report_speedups.c is not compiled")
def test_refuses_what_is_not_the_builders_table_with_an_error() -> None:
    """Wrong offsets and wrong figures raise, as the Python loops do; nothing is crashed."""
    table: list[Any] = [1, 2, "S", "111", {"Тула": 1}, "not figures"]
    with pytest.raises(IndexError):
        report._add_size_rows([], table, [6], 4, WarehouseKind.WB, 1, 7)
    with pytest.raises(IndexError):
        report._add_keyed_orders(table, {"k": 10}, ["k"], 4, "Тула", 1)
    with pytest.raises(TypeError):
        report._add_size_rows([], table, [0], 5, WarehouseKind.SELLER, 1, 7)
    with pytest.raises(TypeError):
        report._add_keyed_orders(table, {"k": 0}, ["k"], 5, "Тула", 1)
    with pytest.raises(TypeError):
        report._add_size_rows([], table, 5, 4, WarehouseKind.WB, 1, 7)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        report._add_keyed_orders(table, {"k": 0}, None, 4, "Тула", 1)  # type: ignore[arg-type]


@pytest.mark.skipif(not report.SPEEDUPS, reason="core/_report_speedups.c is not compiled")
def test_input_emptied_while_it_is_read_ends_the_loop_without_a_crash() -> None:
    """Python code run from inside the loop (a key's __eq__) that empties the list being read:
    the C reads the list again, where a stale pointer would crash."""
    keys: list[str] = []

    class Meddling(str):
        def __hash__(self) -> int:
            return hash(str(self))

        def __eq__(self, other: object) -> bool:
            keys.clear()
            return str(self) == other

    keys += [Meddling("k"), "k", "k"]
    table: list[Any] = [1, 2, "S", "111", None, None]
    assert report._add_keyed_orders(table, {"k": 0}, keys, 4, "Тула", 1) == []
    assert table[4] == {"Тула": 1}


def test_no_references_are_leaked() -> None:
    """What the loops take and give back is counted right: shared objects' counts return to
    where they were once the results are dropped (a leak would keep every row alive)."""
    name, barcode = "Склад ссылок", "ref-barcode"
    before = sys.getrefcount(name), sys.getrefcount(barcode)
    for _ in range(100):
        table: list[Any] = [1, 2, "S", barcode, {name: _packed(5, 3, 1)}, None]
        values: list[Any] = []
        report._add_size_rows(values, table, [0], 4, WarehouseKind.WB, 1, 7)
        report._add_keyed_orders(table, {"k": 0}, ["k", "k", "missing"], 4, name, 1)
        del table, values
    assert (sys.getrefcount(name), sys.getrefcount(barcode)) == before


SERVICE = (report.IN_TRANSIT_TO_BUYERS, report.IN_TRANSIT_RETURNS, report.TOTAL_ON_WAREHOUSES)


@st.composite
def _remains(draw: st.DrawFn) -> list[RemainsRow]:
    """Rows of three products' barcodes (some on no card), with WB warehouses, the service
    entries, quantities of zero, below zero, around the shared levels and past 64 bits."""
    quantity = st.integers(-3, 5) | st.sampled_from((1023, 1024, 2**64, -(2**64)))
    entry = st.tuples(st.sampled_from(NAMES[:4] + SERVICE), quantity)
    rows = st.builds(
        RemainsRow,
        nm_id=st.sampled_from((1000, 1001, 1002)),
        vendor_code=st.just("V"),
        barcode=st.sampled_from(("200000", "200001", "200003", "999")),
        tech_size=st.sampled_from(("T0", "T1")),
        brand=st.just("B"),
        subject=st.just("S"),
        warehouses=st.lists(entry, max_size=6).map(tuple),
    )
    return draw(st.lists(rows, max_size=12))


def _place(
    place: Any, rows: list[RemainsRow], table: list[Any], by_key: dict[str, int]
) -> tuple[list[Any], dict[int, int], dict[int, int], list[RemainsRow]]:
    to_buyers: dict[int, int] = {}
    returns: dict[int, int] = {}
    asked: list[RemainsRow] = []

    def unmatched(row: RemainsRow) -> int:
        asked.append(row)
        table.extend((row.nm_id, None, row.tech_size, row.barcode, None, None))
        return len(table) - RECORD

    place(rows, by_key, table, 4, report._STOCK_LEVELS, *SERVICE[:1], to_buyers,
          SERVICE[1], returns, SERVICE[2], unmatched)  # fmt: skip
    return table, to_buyers, returns, asked


@settings(max_examples=300, deadline=None)
@given(_tables(), _remains())
def test_remains_are_placed_as_the_python_loop_places_them(
    table: list[Any], rows: list[RemainsRow]
) -> None:
    by_key = {f"{table[at + 3]} {table[at]}": at for at in range(0, len(table), RECORD)}
    in_c = _place(report._place_remains_rows, rows, copy.deepcopy(table), by_key)
    in_python = _place(report._place_remains_rows_python, rows, copy.deepcopy(table), by_key)
    assert in_c == in_python


@pytest.mark.skipif(not report.SPEEDUPS, reason="core/_report_speedups.c is not compiled")
def test_remains_that_are_not_rows_are_refused_with_an_error() -> None:
    row = RemainsRow(1000, "V", "200000", "T0", "B", "S", (("Тула", "5"),))
    with pytest.raises(TypeError):
        _place(report._place_remains_rows, [row], [], {})
    with pytest.raises(ValueError):
        _place(report._place_remains_rows, [replace(row, warehouses=(("Тула",),))], [], {})
    with pytest.raises(AttributeError):
        _place(report._place_remains_rows, ["not a row"], [], {})  # type: ignore[list-item]


@st.composite
def _cards(draw: st.DrawFn) -> list[Card]:
    """Cards of few products (one listed twice now and then), sizes listed twice with or
    without the same tech size, chrt_ids and barcodes shared between products, sizes with no
    barcode or several."""
    size = st.builds(
        CardSize,
        chrt_id=st.integers(1, 6),
        tech_size=st.sampled_from(("S", "M", "0")),
        wb_size=st.just(""),
        barcodes=st.lists(st.sampled_from(("111", "112", "113", "2")), max_size=3).map(tuple),
    )
    card = st.builds(
        Card,
        nm_id=st.integers(1, 4),
        imt_id=st.just(0),
        vendor_code=st.sampled_from(("A", "B")),
        brand=st.just("Brand"),
        title=st.just("Title"),
        subject=st.just("Subject"),
        sizes=st.lists(size, max_size=5).map(tuple),
    )
    return draw(st.lists(card, max_size=6))


def _catalogue(place: Any, cards: list[Card]) -> list[list[Any]]:
    parts: tuple[Any, ...] = ({}, [], [], {}, {}, {}, {})
    place(cards, *parts)
    return [list(part.items()) if isinstance(part, dict) else part for part in parts]


@settings(max_examples=300, deadline=None)
@given(_cards())
def test_cards_are_placed_as_the_python_loop_places_them(cards: list[Card]) -> None:
    assert _catalogue(report._place_cards, cards) == _catalogue(report._place_cards_python, cards)


@pytest.mark.skipif(not report.SPEEDUPS, reason="core/_report_speedups.c is not compiled")
def test_cards_that_are_not_cards_are_refused_with_an_error() -> None:
    good = Card(1, 0, "A", "B", "T", "S", (CardSize(5, "S", "", ("111",)),))
    with pytest.raises(AttributeError):
        _catalogue(report._place_cards, [good, "not a card"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        _catalogue(report._place_cards, [replace(good, sizes=(CardSize(5, "S", "", (1,)),))])
    with pytest.raises(TypeError):
        report._place_cards([good], {}, [], [], {}, {}, {}, None)  # type: ignore[arg-type]


def _small_sellers_report() -> report.StockReport:
    cards = [
        card(n, f"V{n % 3}", (n * 10, "S", f"{n}1"), (n * 10 + 1, "M", f"{n}2")) for n in range(7)
    ]
    rows = [
        remains(n % 7, "V", f"{n % 7}{n % 2 + 1}", "S", ("Тула", n), ("Казань", 1))
        for n in range(10)
    ]
    rows.append(remains(99, "V", "991", "XL", ("Тула", 4)))  # a product no card has
    builder = report.ReportBuilder(
        cards=cards, remains=rows, seller_warehouses=[], fbs_stocks=[], now_utc=NOW
    )
    keys = [report.order_size_key(f"{n % 7}1", n % 7) for n in range(20)] + ["nowhere 5"]
    builder.add_warehouse_orders(builder.window, "Тула", False, False, keys)
    return builder.finish()


def test_the_loops_get_a_large_sellers_input_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """A call into C holds the GIL until it returns: the cards, the remains rows and a
    warehouse's orders go to it in pieces, so a sync building in a worker thread lets the
    event loop's thread in between them, and the report is the one made in one piece."""
    whole = _small_sellers_report()
    pieces: dict[str, list[int]] = {"cards": [], "remains": [], "keys": []}

    def counted(name: str, function: Any, position: int) -> Any:
        def call(*args: Any) -> Any:
            pieces[name].append(len(args[position]))
            return function(*args)

        return call

    monkeypatch.setattr(report, "_place_cards", counted("cards", report._place_cards, 0))
    monkeypatch.setattr(
        report, "_place_remains_rows", counted("remains", report._place_remains_rows, 0)
    )
    monkeypatch.setattr(report, "_add_keyed_orders", counted("keys", report._add_keyed_orders, 2))
    monkeypatch.setattr(report, "_CARDS_PER_CALL", 3)
    monkeypatch.setattr(report, "_REMAINS_PER_CALL", 4)
    monkeypatch.setattr(report, "_KEYS_PER_CALL", 8)
    assert _small_sellers_report() == whole
    assert pieces == {"cards": [3, 3, 1], "remains": [4, 4, 3], "keys": [8, 8, 5]}
