"""Large WB arrays decoded a slice at a time: the same rows and the same errors as whole."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import orjson
import pytest

from core.foreground import Foreground
from core.wb import client as wb_client
from core.wb.errors import WBBadResponseError
from core.wb.models import Order, RemainsRow

# Tricky strings: separators as they appear between elements and between nested objects.
TRICKY = ['},{"srid":"', "},{", '"},{"srid":"x"}', "}, {", "\\", '"', "]", "Склад «Юг»"]


def raw_order(i: int) -> dict[str, Any]:
    return {
        "srid": f"srid-{i}",
        "date": f"2026-11-{1 + i % 28:02d}T10:{i % 60:02d}:00",
        "lastChangeDate": f"2026-11-{1 + i % 28:02d}T11:{i % 60:02d}:00",
        "nmId": 100 + i % 17,
        "barcode": f"20400{i % 31}",
        "techSize": TRICKY[i % len(TRICKY)] if i % 3 == 0 else "M",
        "supplierArticle": f"ART {TRICKY[i % len(TRICKY)]}",
        "warehouseName": "Коледино" if i % 2 else "Мой склад",
        "warehouseType": "Склад WB" if i % 2 else "Склад продавца",
        "isCancel": i % 9 == 0,
        "cancelDate": "2026-11-29T10:00:00" if i % 9 == 0 else "0001-01-01T00:00:00",
        "gNumber": f"g{i}",
        "finishedPrice": 10.5 + i,
    }


def raw_remains(i: int) -> dict[str, Any]:
    return {
        "brand": TRICKY[i % len(TRICKY)],
        "subjectName": "Платья",
        "vendorCode": f"ART-{i // 3}",
        "nmId": 100 + i // 3,
        "barcode": f"2040{i}",
        "techSize": ["S", "M", "L"][i % 3],
        "volume": 1.33,
        "warehouses": [
            {"warehouseName": f"Склад {j}", "quantity": (i + j) % 7} for j in range(i % 5)
        ],
    }


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wb_client, "DECODE_CHUNK_BYTES", 2_000)


def whole(payload: bytes, parse: Any) -> list[Any]:
    """The rows as a decode of the whole body gives them (slicing off)."""
    saved = wb_client.DECODE_CHUNK_BYTES
    wb_client.DECODE_CHUNK_BYTES = len(payload) + 1
    try:
        return list(parse(payload))
    finally:
        wb_client.DECODE_CHUNK_BYTES = saved


def slice_count(payload: bytes) -> int:
    slices = wb_client._element_slices(payload)
    return 0 if slices is None else len(list(slices))


@pytest.mark.usefixtures("small_slices")
def test_orders_sliced_equal_orders_decoded_whole() -> None:
    payload = orjson.dumps([raw_order(i) for i in range(600)])
    orders = wb_client._orders(payload)
    assert slice_count(payload) > 20
    assert orders == whole(payload, wb_client._orders)
    assert len(orders) == 600
    assert all(isinstance(o, Order) for o in orders)
    assert orders[0].tech_size == '},{"srid":"'
    assert orders[9].is_cancel and orders[9].cancel_date == datetime(2026, 11, 29, 10, 0)


@pytest.mark.usefixtures("small_slices")
def test_a_separator_inside_a_string_is_never_a_cut() -> None:
    # A string holds the separator as far as JSON lets it (its quotes are escaped).
    rows = [dict(raw_order(i), gNumber='},{"srid":"' * 40 + "},{srid:" * 40) for i in range(300)]
    payload = orjson.dumps(rows)
    assert payload.count(b"},{") > 40 * len(rows)
    assert slice_count(payload) > 20
    orders = wb_client._orders(payload)
    assert [o.g_number for o in orders] == [r["gNumber"] for r in rows]
    assert orders == whole(payload, wb_client._orders)


@pytest.mark.usefixtures("small_slices")
def test_a_separator_inside_a_nested_object_is_never_a_cut() -> None:
    # Nested objects repeating the elements' first key: `},{"srid":` one level down too.
    # Such cuts never decode, so slices merge, and after a few the rest is decoded whole.
    rows = [
        dict(raw_order(i), extra=[{"srid": f"inner-{i}-{k}"} for k in range(k_max)])
        for i, k_max in enumerate([0, 1, 2] * 100 + [30] * 100)
    ]
    payload = orjson.dumps(rows)
    assert payload.count(b'},{"srid":') > 30 * 100
    assert slice_count(payload) > 10
    orders = wb_client._orders(payload)
    assert [o.srid for o in orders] == [r["srid"] for r in rows]
    assert orders == whole(payload, wb_client._orders)


@pytest.mark.usefixtures("small_slices")
def test_remains_with_nested_objects_sliced_equal_decoded_whole() -> None:
    payload = orjson.dumps([raw_remains(i) for i in range(500)])
    assert slice_count(payload) > 10
    rows = wb_client._remains_rows(payload)
    assert rows == whole(payload, wb_client._remains_rows)
    assert all(isinstance(r, RemainsRow) for r in rows)
    assert rows[7].warehouses == (("Склад 0", 0), ("Склад 1", 1))


@pytest.mark.usefixtures("small_slices")
def test_whitespace_and_other_layouts_still_decode() -> None:
    data = [raw_order(i) for i in range(200)]
    for payload in (
        orjson.dumps(data, option=orjson.OPT_INDENT_2),
        b"  \n" + orjson.dumps(data) + b"\n",
        orjson.dumps([{"x": 1}, *data]),  # the first element's key is not every element's
    ):
        if payload.startswith(b'[{"x"'):
            with pytest.raises(WBBadResponseError, match="orders: unexpected shape"):
                wb_client._orders(payload)
        else:
            assert wb_client._orders(payload) == whole(orjson.dumps(data), wb_client._orders)


@pytest.mark.usefixtures("small_slices")
@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p[:-1],  # truncated: no closing bracket
        lambda p: p[: len(p) // 2],  # truncated in the middle
        lambda p: p.replace(b'"techSize":"M",', b'"techSize":"M,', 1),  # a string left open
        lambda p: p.replace(b'"nmId":110', b'"nmId":1 10', 1),  # a bad number
        lambda p: p.replace(b'"nmId":110', b'"nmId":110}', 1),  # a stray bracket
        lambda p: p + b"x",  # trailing garbage
        lambda p: p[:-1] + b",]",  # a trailing comma
    ],
)
def test_a_body_that_is_not_json_is_a_bad_response(damage: Any) -> None:
    for good, parse, what in (
        (orjson.dumps([raw_order(i) for i in range(600)]), wb_client._orders, "orders"),
        (
            orjson.dumps([raw_remains(i) for i in range(600)]),
            wb_client._remains_rows,
            "remains_download",
        ),
    ):
        payload = damage(good)
        assert payload != good
        with pytest.raises(WBBadResponseError, match=f"{what}: response is not valid JSON"):
            parse(payload)


@pytest.mark.usefixtures("small_slices")
def test_a_bad_row_is_a_shape_error_unless_the_body_is_not_json_either() -> None:
    rows = [raw_order(i) for i in range(600)]
    del rows[3]["srid"]
    payload = orjson.dumps(rows)
    with pytest.raises(WBBadResponseError, match="orders: unexpected shape"):
        wb_client._orders(payload)
    # A whole-body decode fails on the JSON before it looks at any row: so does slicing.
    with pytest.raises(WBBadResponseError, match="orders: response is not valid JSON"):
        wb_client._orders(payload[:-1])


@pytest.mark.usefixtures("small_slices")
def test_bodies_that_are_not_arrays_keep_their_errors() -> None:
    big = orjson.dumps({"data": [raw_order(i) for i in range(100)]})
    with pytest.raises(WBBadResponseError, match="orders: expected a JSON array"):
        wb_client._orders(big)
    assert wb_client._orders(b"[]") == []
    with pytest.raises(WBBadResponseError, match="orders: response is not valid JSON"):
        wb_client._orders(b"[" + b" " * 5_000)


def test_strings_repeated_across_rows_are_one_object() -> None:
    orders = wb_client._orders(orjson.dumps([raw_order(i) for i in range(40)]))
    assert orders[1].warehouse_name is orders[3].warehouse_name
    rows = wb_client._remains_rows(orjson.dumps([raw_remains(i) for i in range(40)]))
    assert rows[4].warehouses[0][0] is rows[9].warehouses[0][0]
    assert rows[1].warehouses[0] == rows[36].warehouses[0] == ("Склад 0", 1)
    assert rows[1].warehouses[0] is rows[36].warehouses[0]  # equal pairs are one tuple


@pytest.mark.usefixtures("small_slices")
def test_parsing_pauses_before_every_slice() -> None:
    """The thread parsing a large page stops between slices while a chat command is answered."""
    payload = orjson.dumps([raw_order(i) for i in range(600)])
    pauses: list[int] = []
    orders = wb_client._orders(payload, lambda: pauses.append(1))
    assert len(pauses) == slice_count(payload) > 20
    assert orders == whole(payload, wb_client._orders)
    remains = orjson.dumps([raw_remains(i) for i in range(500)])
    pauses.clear()
    wb_client._remains_rows(remains, lambda: pauses.append(1))
    assert len(pauses) == slice_count(remains)


@pytest.mark.usefixtures("small_slices")
async def test_a_large_body_is_parsed_in_a_thread_that_gives_way() -> None:
    foreground = Foreground(max_wait=5, max_hold=5)
    payload = orjson.dumps([raw_order(i) for i in range(3000)])
    assert len(payload) >= wb_client.OFF_LOOP_BYTES
    with foreground.command():
        parsing = asyncio.create_task(wb_client._off_loop(wb_client._orders, payload, foreground))
        await asyncio.sleep(0.3)
        assert not parsing.done()  # held at its first slice
    orders = await asyncio.wait_for(parsing, 10)
    assert len(orders) == 3000
    assert foreground.waits >= 1


async def test_a_small_body_is_parsed_on_the_loop_after_giving_way() -> None:
    foreground = Foreground(max_wait=5, max_hold=5)
    payload = orjson.dumps([raw_order(i) for i in range(10)])
    with foreground.command():
        parsing = asyncio.create_task(wb_client._off_loop(wb_client._orders, payload, foreground))
        await asyncio.sleep(0.2)
        assert not parsing.done()
    assert len(await asyncio.wait_for(parsing, 2)) == 10
