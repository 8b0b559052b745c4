"""Every row of every table we own, for before/after comparisons."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Base


async def dump_rows(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """All rows per table (ordered), or only `tenant_id`'s rows and its tenants row."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            query = select(table)
            if tenant_id is not None:
                if table.name == "tenants":
                    query = query.where(table.c.id == tenant_id)
                elif "tenant_id" in table.c:
                    query = query.where(table.c.tenant_id == tenant_id)
                else:
                    continue
            result = await session.execute(query.order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(row) for row in result]
    return rows
