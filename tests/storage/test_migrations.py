"""The stairway: every revision upgrades, downgrades and upgrades again, on either backend."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.db import create_engine
from storage.models import Base


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_every_revision_upgrades_downgrades_and_upgrades(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        revisions = migrate.revisions()
        assert revisions, "no migrations found"
        previous = "base"
        for revision in revisions:
            await migrate.upgrade(engine, revision)
            await migrate.downgrade(engine, previous)
            await migrate.upgrade(engine, revision)
            previous = revision
        assert set(Base.metadata.tables) <= await _tables(engine)
        await migrate.downgrade(engine, "base")
        assert not (set(Base.metadata.tables) & await _tables(engine))
    finally:
        await engine.dispose()


async def test_models_match_the_migrations(database_url: str) -> None:
    """Autogenerate finds nothing to add: the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:

            def diff(sync_conn: object) -> list[object]:
                context = MigrationContext.configure(sync_conn)  # type: ignore[arg-type]
                changes = compare_metadata(context, Base.metadata)
                return [c for c in changes if "apscheduler" not in str(c)]

            changes = await conn.run_sync(diff)
        assert changes == []
    finally:
        await engine.dispose()
