"""Cards for storage tests that need many report rows."""

from __future__ import annotations

from core.wb.models import Card, CardSize


def three_size_cards(count: int) -> list[Card]:
    """Products 1..count, each with sizes S, M and L and one barcode per size."""
    return [
        Card(
            nm_id,
            nm_id,
            f"ART-{nm_id}",
            "Brand",
            "Title",
            "Subject",
            tuple(
                CardSize(nm_id * 10 + k, size, size, (f"b{nm_id}-{size}",))
                for k, size in enumerate(("S", "M", "L"))
            ),
        )
        for nm_id in range(1, count + 1)
    ]
