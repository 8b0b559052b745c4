"""Deterministic seller data for the fake WB API, with ground truth computed from it."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

MSK = timezone(timedelta(hours=3))

IN_TRANSIT_TO_BUYERS = "В пути до получателей"
IN_TRANSIT_RETURNS = "В пути возвраты на склад WB"
TOTAL_ON_WAREHOUSES = "Всего находится на складах"
WB_WAREHOUSE_TYPE = "Склад WB"
SELLER_WAREHOUSE_TYPE = "Склад продавца"
NO_DATE = "0001-01-01T00:00:00"

WB_WAREHOUSE_NAMES = (
    "Коледино",
    "Подольск 3",
    "Подольск 4",
    "Электросталь",
    "Казань",
    "Краснодар",
    "Тула",
    "Невинномысск",
    "Екатеринбург - Испытателей 14г",
    "Новосибирск",
    "Санкт-Петербург Уткина Заводь",
    "Рязань (Тюшевское)",
)
_SUBJECTS = ("Футболки", "Платья", "Джинсы", "Кроссовки", "Рюкзаки", "Фотоальбомы")
_BRANDS = ("Flax Store", "Nordic Line", "Уют", "EkkE")
_TECH_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
_REGIONS = ("Московская", "Санкт-Петербург", "Краснодарский край", "Татарстан")


def msk_naive(moment: datetime) -> datetime:
    """Moscow local time, naive (how WB's statistics API writes dates)."""
    return moment if moment.tzinfo is None else moment.astimezone(MSK).replace(tzinfo=None)


@dataclass
class SellerData:
    """Everything one fake seller has, in the shapes WB sends it."""

    seller_id: str
    name: str
    trade_mark: str
    tin: str
    cards: list[dict[str, Any]] = field(default_factory=list)
    seller_warehouses: list[dict[str, Any]] = field(default_factory=list)
    fbs_stock: dict[tuple[int, int], int] = field(default_factory=dict)
    wb_stock: dict[tuple[str, str], int] = field(default_factory=dict)
    in_transit_to_buyers: dict[str, int] = field(default_factory=dict)
    in_transit_returns: dict[str, int] = field(default_factory=dict)
    orders: list[dict[str, Any]] = field(default_factory=list)

    def seller_info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sid": self.seller_id,
            "tin": self.tin,
            "tradeMark": self.trade_mark,
        }

    def chrt_ids(self) -> list[int]:
        return [size["chrtID"] for card in self.cards for size in card["sizes"]]

    def active_warehouse_ids(self) -> set[int]:
        return {w["id"] for w in self.seller_warehouses if not w["isDeleting"]}

    def remains_rows(self) -> list[dict[str, Any]]:
        """The warehouse-remains report as WB builds it: non-zero entries plus service rows."""
        real: dict[str, list[dict[str, Any]]] = {}
        for (barcode, warehouse), qty in self.wb_stock.items():
            if qty:
                real.setdefault(barcode, []).append({"warehouseName": warehouse, "quantity": qty})
        rows: list[dict[str, Any]] = []
        for card in self.cards:
            for size in card["sizes"]:
                barcode = size["skus"][0]
                entries = list(real.get(barcode, ()))
                total = sum(e["quantity"] for e in entries)
                to_buyers = self.in_transit_to_buyers.get(barcode, 0)
                returns = self.in_transit_returns.get(barcode, 0)
                if to_buyers:
                    entries.append({"warehouseName": IN_TRANSIT_TO_BUYERS, "quantity": to_buyers})
                if returns:
                    entries.append({"warehouseName": IN_TRANSIT_RETURNS, "quantity": returns})
                if total:
                    entries.append({"warehouseName": TOTAL_ON_WAREHOUSES, "quantity": total})
                if not entries:
                    continue
                rows.append(
                    {
                        "brand": card["brand"],
                        "subjectName": card["subjectName"],
                        "vendorCode": card["vendorCode"],
                        "nmId": card["nmID"],
                        "barcode": barcode,
                        "techSize": size["techSize"],
                        "volume": 1.33,
                        "warehouses": entries,
                    }
                )
        return rows

    def truth_products(self) -> int:
        return len(self.cards)

    def truth_sizes(self) -> int:
        return sum(len(card["sizes"]) for card in self.cards)

    def truth_fbo_units(self) -> int:
        """Units on WB warehouses (real warehouses only, no in-transit)."""
        return sum(self.wb_stock.values())

    def truth_fbs_units(self) -> int:
        """Units on the seller's own warehouses that are not being deleted."""
        active = self.active_warehouse_ids()
        return sum(qty for (wid, _), qty in self.fbs_stock.items() if wid in active)

    def truth_in_transit(self) -> tuple[int, int]:
        """(to buyers, returns to WB) units."""
        return sum(self.in_transit_to_buyers.values()), sum(self.in_transit_returns.values())

    def truth_orders(self, window_start: datetime, window_end: datetime) -> tuple[int, int]:
        """(placed, cancelled) orders whose `date` is in [start, end), deduped by srid.

        Placed counts every order including later-cancelled ones (as WB's "Заказали" does).
        """
        start = msk_naive(window_start).isoformat(timespec="seconds")
        end = msk_naive(window_end).isoformat(timespec="seconds")
        seen: dict[str, bool] = {}
        for order in self.orders:
            if start <= order["date"] < end:
                seen[order["srid"]] = bool(order["isCancel"])
        return len(seen), sum(seen.values())


def generate_seller(
    seed: int,
    *,
    products: int,
    max_sizes: int = 4,
    wb_warehouses: int = 5,
    seller_warehouses: int = 2,
    orders: int,
    days: int = 30,
    now: datetime,
) -> SellerData:
    """A deterministic seller; O(products + orders), plain dicts, with the awkward cases in."""
    rng = random.Random(seed)
    now_msk = msk_naive(now).replace(microsecond=0)
    seller = SellerData(
        seller_id=str(uuid.UUID(int=rng.getrandbits(128))),
        name=f'ООО "Продавец {seed}"',
        trade_mark=f"Brand {seed}",
        tin=f"{7700000000 + seed % 100000000:010d}",
    )
    wb_names = [
        WB_WAREHOUSE_NAMES[i] if i < len(WB_WAREHOUSE_NAMES) else f"Склад WB {i + 1}"
        for i in range(max(1, wb_warehouses))
    ]
    # The last WB warehouse gets orders but never stock (when there is more than one).
    stocked_wb = wb_names[:-1] if len(wb_names) > 1 else wb_names

    for j in range(seller_warehouses):
        seller.seller_warehouses.append(
            {
                "name": f"Мой склад {j + 1}",
                "officeId": 300 + j,
                "id": 1_000_000 + seed % 1000 * 100 + j,
                "cargoType": 1,
                "deliveryType": 1,
                "isDeleting": False,
                "isProcessing": False,
            }
        )
    if seller_warehouses:
        seller.seller_warehouses.append(
            {
                "name": "Старый склад (удаляется)",
                "officeId": 399,
                "id": 1_000_000 + seed % 1000 * 100 + 99,
                "cargoType": 1,
                "deliveryType": 1,
                "isDeleting": True,
                "isProcessing": False,
            }
        )
    fbs_ids = [w["id"] for w in seller.seller_warehouses if not w["isDeleting"]]

    base_nm = 100_000_000 + (seed % 1000) * 1_000_000
    chrt = 300_000_000 + (seed % 1000) * 1_000_000
    barcode_base = 2_040_000_000_000 + (seed % 1000) * 10_000_000
    sizes_flat: list[tuple[dict[str, Any], dict[str, Any]]] = []
    base_updated = now_msk - timedelta(days=200)
    for i in range(products):
        n_sizes = rng.randint(1, max(1, max_sizes))
        sizes: list[dict[str, Any]] = []
        for k in range(n_sizes):
            chrt += 1
            tech = "0" if n_sizes == 1 else _TECH_SIZES[k % len(_TECH_SIZES)]
            sizes.append(
                {
                    "chrtID": chrt,
                    "techSize": tech,
                    "wbSize": "" if tech == "0" else str(40 + 2 * k),
                    "skus": [str(barcode_base + chrt % 10_000_000)],
                }
            )
        updated = base_updated + timedelta(seconds=rng.randrange(0, 150 * 86400))
        card: dict[str, Any] = {
            "nmID": base_nm + i * 3,
            "imtID": 500_000_000 + (seed % 1000) * 1_000_000 + i // 2,
            "nmUUID": str(uuid.UUID(int=rng.getrandbits(128))),
            "subjectID": 7000 + i % len(_SUBJECTS),
            "subjectName": _SUBJECTS[i % len(_SUBJECTS)],
            "vendorCode": f"ART-{seed}-{i:05d}",
            "brand": _BRANDS[i % len(_BRANDS)],
            "title": f"Товар {i}",
            "description": "",
            "needKiz": False,
            "sizes": sizes,
            "createdAt": (updated - timedelta(days=30)).isoformat() + ".000000Z",
            "updatedAt": updated.isoformat() + ".000000Z",
        }
        seller.cards.append(card)
        for size_index, size in enumerate(sizes):
            sizes_flat.append((card, size))
            barcode = size["skus"][0]
            # Product 0: FBS stock only, no FBO stock at all.
            has_fbo = i != 0 and rng.random() < 0.7
            if has_fbo:
                for name in rng.sample(stocked_wb, rng.randint(1, min(3, len(stocked_wb)))):
                    seller.wb_stock[(barcode, name)] = rng.randint(1, 40)
            if fbs_ids and (i == 0 or rng.random() < 0.3):
                seller.fbs_stock[(fbs_ids[size_index % len(fbs_ids)], size["chrtID"])] = (
                    rng.randint(1, 25)
                )
            if rng.random() < 0.1:
                seller.in_transit_to_buyers[barcode] = rng.randint(1, 3)
            if rng.random() < 0.05:
                seller.in_transit_returns[barcode] = rng.randint(1, 2)

    # Product 1 never sells.
    sellable = [pair for pair in sizes_flat if pair[0] is not seller.cards[min(1, products - 1)]]
    if not sellable:
        sellable = sizes_flat
    fbs_names = [w["name"] for w in seller.seller_warehouses if not w["isDeleting"]]
    window_days = min(7, days)
    g_number = ""
    rnd = rng.random
    n_sellable = len(sellable)
    days_s = days * 86400
    window_s = window_days * 86400
    for n in range(orders if sellable else 0):
        card, size = sellable[int(rnd() * n_sellable)]
        late_change = n % 50 == 7 and days > window_days
        if late_change:
            # Placed before the 7-day window, changed inside it.
            date = now_msk - timedelta(seconds=window_s + int(rnd() * (days_s - window_s)))
        else:
            date = now_msk - timedelta(seconds=1 + int(rnd() * (days_s - 1)))
        is_cancel = n % 11 == 3 or (late_change and n % 2 == 1)
        if late_change:
            change = now_msk - timedelta(seconds=60 + int(rnd() * (window_s - 120)))
        else:
            change = min(now_msk, date + timedelta(seconds=60 + int(rnd() * 21540)))
        if n % 4 != 1 or not g_number:
            g_number = str(10**18 + int(rnd() * 9 * 10**18))
        fbs = bool(fbs_names) and n % 5 == 2
        price = float(300 + int(rnd() * 4700))
        discount = int(rnd() * 60)
        with_disc = round(price * (100 - discount) / 100, 2)
        seller.orders.append(
            {
                "date": date.isoformat(timespec="seconds"),
                "lastChangeDate": change.isoformat(timespec="seconds"),
                "warehouseName": fbs_names[n % len(fbs_names)]
                if fbs
                else wb_names[n % len(wb_names)],
                "warehouseType": SELLER_WAREHOUSE_TYPE if fbs else WB_WAREHOUSE_TYPE,
                "regionName": _REGIONS[n % len(_REGIONS)],
                "supplierArticle": card["vendorCode"],
                "nmId": card["nmID"],
                "barcode": size["skus"][0],
                "subject": card["subjectName"],
                "brand": card["brand"],
                "techSize": size["techSize"],
                "totalPrice": price,
                "discountPercent": discount,
                "finishedPrice": with_disc,
                "priceWithDisc": with_disc,
                "isCancel": is_cancel,
                "cancelDate": change.isoformat(timespec="seconds") if is_cancel else NO_DATE,
                "gNumber": g_number,
                "srid": f"{seed}.r{n:08x}{int(rnd() * 0xFFFFFFFF):08x}.0.0",
            }
        )
    return seller
