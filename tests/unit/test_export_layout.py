"""The export layout: what both the XLSX file and the Google Sheet show, cell by cell."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from core.exporters.headers import EN, RU
from core.exporters.layout import build_tables, round_cover
from core.stock_report import (
    DataPart,
    ProductSummary,
    ReportTotals,
    StockReport,
    StockRow,
    WarehouseKind,
)

WB = WarehouseKind.WB
SELLER = WarehouseKind.SELLER
NOW = datetime(2025, 3, 10, 9, 45, tzinfo=UTC)


def small_report() -> StockReport:
    products = (
        ProductSummary(
            nm_id=111,
            vendor_code="ART-1",
            brand="Nordic",
            subject="Футболки",
            title="Футболка",
            sizes=2,
            fbo_units=30,
            fbs_units=5,
            in_transit_to_buyers=2,
            in_transit_returns=1,
            orders=14,
            cancelled=1,
            days_of_cover=17.5,
        ),
        ProductSummary(
            nm_id=222,
            vendor_code="ART-2",
            brand="Nordic",
            subject="Платья",
            title="Платье",
            sizes=1,
            fbo_units=9,
            fbs_units=0,
            in_transit_to_buyers=0,
            in_transit_returns=0,
            orders=4,
            cancelled=0,
            days_of_cover=15.75,
        ),
        ProductSummary(
            nm_id=333,
            vendor_code="ART-3",
            brand="Уют",
            subject="Пледы",
            title="Плед",
            sizes=1,
            fbo_units=0,
            fbs_units=4,
            in_transit_to_buyers=0,
            in_transit_returns=0,
            orders=0,
            cancelled=0,
            days_of_cover=None,
        ),
    )
    # The summary's figures per warehouse are these rows summed per product.
    rows = (
        StockRow(111, 1, "2040000000011", "44", "Подольск 3", WB, 12, 9, 1, 9.333),
        StockRow(111, 2, "2040000000028", "46", "Коледино", WB, 10, 0, 0, None),
        StockRow(111, 2, "2040000000028", "46", "Подольск 3", WB, 8, 5, 0, 11.2),
        StockRow(111, 1, "2040000000011", "44", "Мой склад", SELLER, 5, 0, 0, None),
        StockRow(222, 4, "2040000000035", "0", "Электросталь", WB, 9, 4, 0, 15.75),
        StockRow(333, 3, "0012", "0", "Склад Апрелевка", SELLER, 4, 0, 0, None),
    )
    return StockReport(
        generated_at=datetime(2025, 3, 10, 9, 30, tzinfo=UTC),
        window_days=7,
        window_start=datetime(2025, 3, 3),
        window_end=datetime(2025, 3, 10),
        low_stock_threshold=7.0,
        products=products,
        rows=rows,
        totals=ReportTotals(3, 4, 39, 9, 2, 1, 18, 1),
        low_stock=(),
        part_times={
            DataPart.CARDS: datetime(2025, 3, 10, 9, 40, tzinfo=UTC),
            DataPart.REMAINS: datetime(2025, 3, 10, 8, 0, tzinfo=UTC),
            DataPart.FBS_STOCK: datetime(2025, 3, 10, 9, 45, tzinfo=UTC),
            DataPart.ORDERS: None,
        },
    )


def test_header_lines_give_local_data_time_part_ages_and_formula() -> None:
    summary, sizes = build_tables(small_report(), tz="Asia/Yekaterinburg", now=NOW)

    expected = [
        [
            "Данные на 10.03.2025 14:30 (Asia/Yekaterinburg); "
            "заказы с 03.03.2025 00:00 по 10.03.2025 00:00 (МСК)"
        ],
        [
            "Возраст данных: карточки — 5 мин, остатки WB — 1 ч 45 мин, "
            "остатки FBS — меньше минуты, заказы — нет данных"
        ],
        ["Дней запаса = остаток ÷ (заказы за 7 дн. ÷ 7); «нет продаж» — заказов не было"],
    ]
    assert summary.rows[:3] == expected
    assert sizes.rows[:3] == expected
    assert RU["formula"].startswith("Дней запаса = остаток ÷ (заказы за {n} дн. ÷ {n})")


def test_summary_groups_warehouses_wb_first_then_seller_each_sorted_by_name() -> None:
    summary = build_tables(small_report(), now=NOW)[0]

    group_row, title_row = summary.rows[3], summary.rows[4]
    assert group_row == [None] * 11 + [
        "Коледино (FBO)", None, None,
        "Подольск 3 (FBO)", None, None,
        "Электросталь (FBO)", None, None,
        "Мой склад (FBS)", None, None,
        "Склад Апрелевка (FBS)", None, None,
    ]  # fmt: skip
    assert title_row == [
        "Бренд", "Предмет", "Артикул продавца", "Артикул WB", "FBO, шт.", "FBS, шт.",
        "Всего, шт.", "В пути к клиентам", "В пути возвраты", "Заказы за 7 дн.", "Дней запаса",
    ] + ["Остаток", "Заказы", "Дней запаса"] * 5  # fmt: skip
    assert summary.frozen_rows == 5
    assert summary.bold_rows == (3, 4)
    assert summary.title == "Сводка"


def test_summary_rows_show_no_sales_as_text_and_round_cover_to_one_decimal() -> None:
    summary = build_tables(small_report(), now=NOW)[0]

    assert summary.rows[5:] == [
        ["Nordic", "Футболки", "ART-1", 111, 30, 5, 35, 2, 1, 14, 17.5,
         10, 0, "нет продаж", 20, 14, 10.8, None, None, None, 5, 0, "нет продаж",
         None, None, None],
        ["Nordic", "Платья", "ART-2", 222, 9, 0, 9, 0, 0, 4, 15.8,
         None, None, None, None, None, None, 9, 4, 15.8, None, None, None,
         None, None, None],
        ["Уют", "Пледы", "ART-3", 333, 0, 4, 4, 0, 0, 0, "нет продаж",
         None, None, None, None, None, None, None, None, None, None, None, None,
         4, 0, "нет продаж"],
    ]  # fmt: skip


def test_summary_formats_and_widths_cover_every_column() -> None:
    summary = build_tables(small_report(), now=NOW)[0]

    assert summary.column_formats[:11] == ["text", "text", "text", "id"] + ["int"] * 6 + [
        "decimal1"
    ]
    assert summary.column_formats[11:14] == ["int", "int", "decimal1"]
    assert len(summary.column_widths) == summary.width == 26
    assert all(6 <= width <= 40 for width in summary.column_widths)
    assert summary.column_widths[2] == len("Артикул продавца") + 2
    group = summary.column_widths[23:26]
    assert sum(group) > len("Склад Апрелевка (FBS)")


def test_sizes_tab_has_one_row_per_stock_row_with_article_and_kind() -> None:
    sizes = build_tables(small_report(), now=NOW)[1]

    assert sizes.title == "По размерам"
    assert sizes.frozen_rows == 4
    assert sizes.rows[3] == [
        "Артикул продавца", "Артикул WB", "Размер", "Баркод", "Склад", "FBO/FBS",
        "Остаток", "Заказы за 7 дн.", "Дней запаса",
    ]  # fmt: skip
    assert sizes.rows[4:] == [
        ["ART-1", 111, "44", "2040000000011", "Подольск 3", "FBO", 12, 9, 9.3],
        ["ART-1", 111, "46", "2040000000028", "Коледино", "FBO", 10, 0, "нет продаж"],
        ["ART-1", 111, "46", "2040000000028", "Подольск 3", "FBO", 8, 5, 11.2],
        ["ART-1", 111, "44", "2040000000011", "Мой склад", "FBS", 5, 0, "нет продаж"],
        ["ART-2", 222, "0", "2040000000035", "Электросталь", "FBO", 9, 4, 15.8],
        ["ART-3", 333, "0", "0012", "Склад Апрелевка", "FBS", 4, 0, "нет продаж"],
    ]
    assert sizes.column_formats == [
        *["text", "id", "text", "text", "text", "text"],
        *["int", "int", "decimal1"],
    ]


def test_english_texts_keep_russian_tab_titles_and_say_no_sales() -> None:
    summary, sizes = build_tables(small_report(), lang="en", now=NOW)

    assert (summary.title, sizes.title) == ("Сводка", "По размерам")
    assert summary.rows[7][10] == "no sales"
    assert summary.rows[4][9] == "Orders in 7 days"
    assert summary.rows[1] == [
        "Data age: cards — 5 min, WB stock — 1 h 45 min, FBS stock — under a minute, "
        "orders — never fetched"
    ]
    assert set(EN) == set(RU)


def test_cover_rounds_halves_up_not_to_even() -> None:
    assert round_cover(2.25) == 2.3
    assert round_cover(0.05) == 0.1
    assert round_cover(17.449) == 17.4
    assert round_cover(0.0) == 0.0


def test_age_in_days_for_old_data() -> None:
    report = small_report()
    old = dict(report.part_times)
    old[DataPart.ORDERS] = datetime(2025, 3, 8, 6, 0, tzinfo=UTC)
    aged = replace(report, part_times=old)

    line = build_tables(aged, now=NOW)[0].rows[1][0]

    assert isinstance(line, str)
    assert line.endswith("заказы — 2 дн. 3 ч")
