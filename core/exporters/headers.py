"""Every text the Sheets and XLSX exports show, one dict per language (ru is the default)."""

from __future__ import annotations

from typing import Final, TypedDict


class ExportTexts(TypedDict):
    tab_summary: str
    tab_sizes: str
    data_time: str
    time_format: str
    window: str
    window_format: str
    ages: str
    part_cards: str
    part_fbs_stock: str
    part_remains: str
    part_orders: str
    age_never: str
    age_under_minute: str
    age_minutes: str
    age_hours: str
    age_days: str
    formula: str
    no_sales: str
    col_brand: str
    col_subject: str
    col_vendor_code: str
    col_nm_id: str
    col_fbo: str
    col_fbs: str
    col_total: str
    col_to_buyers: str
    col_returns: str
    col_orders: str
    col_days: str
    col_size: str
    col_barcode: str
    col_warehouse: str
    col_kind: str
    wh_stock: str
    wh_orders: str
    wh_days: str
    kind_wb: str
    kind_seller: str


RU: Final[ExportTexts] = {
    "tab_summary": "Сводка",
    "tab_sizes": "По размерам",
    "data_time": "Данные на {time} ({tz})",
    "time_format": "%d.%m.%Y %H:%M",
    "window": "заказы с {start} по {end} (МСК)",
    "window_format": "%d.%m.%Y %H:%M",
    "ages": "Возраст данных: {parts}",
    "part_cards": "карточки",
    "part_fbs_stock": "остатки FBS",
    "part_remains": "остатки WB",
    "part_orders": "заказы",
    "age_never": "нет данных",
    "age_under_minute": "меньше минуты",
    "age_minutes": "{minutes} мин",
    "age_hours": "{hours} ч {minutes} мин",
    "age_days": "{days} дн. {hours} ч",
    "formula": "Дней запаса = остаток ÷ (заказы за {n} дн. ÷ {n}); «нет продаж» — заказов не было",
    "no_sales": "нет продаж",
    "col_brand": "Бренд",
    "col_subject": "Предмет",
    "col_vendor_code": "Артикул продавца",
    "col_nm_id": "Артикул WB",
    "col_fbo": "FBO, шт.",
    "col_fbs": "FBS, шт.",
    "col_total": "Всего, шт.",
    "col_to_buyers": "В пути к клиентам",
    "col_returns": "В пути возвраты",
    "col_orders": "Заказы за {n} дн.",
    "col_days": "Дней запаса",
    "col_size": "Размер",
    "col_barcode": "Баркод",
    "col_warehouse": "Склад",
    "col_kind": "FBO/FBS",
    "wh_stock": "Остаток",
    "wh_orders": "Заказы",
    "wh_days": "Дней запаса",
    "kind_wb": "FBO",
    "kind_seller": "FBS",
}

EN: Final[ExportTexts] = {
    "tab_summary": "Сводка",
    "tab_sizes": "По размерам",
    "data_time": "Data as of {time} ({tz})",
    "time_format": "%Y-%m-%d %H:%M",
    "window": "orders from {start} to {end} (Moscow time)",
    "window_format": "%Y-%m-%d %H:%M",
    "ages": "Data age: {parts}",
    "part_cards": "cards",
    "part_fbs_stock": "FBS stock",
    "part_remains": "WB stock",
    "part_orders": "orders",
    "age_never": "never fetched",
    "age_under_minute": "under a minute",
    "age_minutes": "{minutes} min",
    "age_hours": "{hours} h {minutes} min",
    "age_days": "{days} d {hours} h",
    "formula": "Days of cover = stock ÷ (orders in {n} days ÷ {n}); “no sales”: no orders",
    "no_sales": "no sales",
    "col_brand": "Brand",
    "col_subject": "Subject",
    "col_vendor_code": "Seller article",
    "col_nm_id": "WB article (nmID)",
    "col_fbo": "FBO, units",
    "col_fbs": "FBS, units",
    "col_total": "Total, units",
    "col_to_buyers": "In transit to buyers",
    "col_returns": "In transit back",
    "col_orders": "Orders in {n} days",
    "col_days": "Days of cover",
    "col_size": "Size",
    "col_barcode": "Barcode",
    "col_warehouse": "Warehouse",
    "col_kind": "FBO/FBS",
    "wh_stock": "Stock",
    "wh_orders": "Orders",
    "wh_days": "Days of cover",
    "kind_wb": "FBO",
    "kind_seller": "FBS",
}

TEXTS: Final[dict[str, ExportTexts]] = {"ru": RU, "en": EN}


def texts_for(lang: str) -> ExportTexts:
    """The export texts in `lang`, falling back to Russian."""
    return TEXTS.get(lang, RU)
