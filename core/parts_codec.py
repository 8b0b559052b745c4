"""Compact encoding of the parts a sync reads, so a stale part can be reused later."""

from __future__ import annotations

from typing import Any

import orjson

from core.wb.models import Card, CardSize, FbsStock, RemainsRow, SellerWarehouse


def encode_cards(cards: list[Card]) -> bytes:
    return orjson.dumps(
        [
            [
                c.nm_id,
                c.imt_id,
                c.vendor_code,
                c.brand,
                c.title,
                c.subject,
                [[s.chrt_id, s.tech_size, s.wb_size, list(s.barcodes)] for s in c.sizes],
            ]
            for c in cards
        ]
    )


def decode_cards(payload: bytes) -> list[Card]:
    return [
        Card(
            nm_id=c[0],
            imt_id=c[1],
            vendor_code=c[2],
            brand=c[3],
            title=c[4],
            subject=c[5],
            sizes=tuple(CardSize(s[0], s[1], s[2], tuple(s[3])) for s in c[6]),
        )
        for c in orjson.loads(payload)
    ]


def encode_fbs(warehouses: list[SellerWarehouse], stocks: list[FbsStock]) -> bytes:
    return orjson.dumps(
        {
            "warehouses": [[w.id, w.name, w.office_id, w.delivery_type] for w in warehouses],
            "stocks": [[s.warehouse_id, s.chrt_id, s.amount] for s in stocks],
        }
    )


def decode_fbs(payload: bytes) -> tuple[list[SellerWarehouse], list[FbsStock]]:
    data: dict[str, Any] = orjson.loads(payload)
    return (
        [SellerWarehouse(w[0], w[1], w[2], w[3]) for w in data["warehouses"]],
        [FbsStock(s[0], s[1], s[2]) for s in data["stocks"]],
    )


def encode_remains(rows: list[RemainsRow]) -> bytes:
    return orjson.dumps(
        [
            [
                r.nm_id,
                r.vendor_code,
                r.barcode,
                r.tech_size,
                r.brand,
                r.subject,
                [list(w) for w in r.warehouses],
            ]
            for r in rows
        ]
    )


def decode_remains(payload: bytes) -> list[RemainsRow]:
    return [
        RemainsRow(r[0], r[1], r[2], r[3], r[4], r[5], tuple((w[0], w[1]) for w in r[6]))
        for r in orjson.loads(payload)
    ]
