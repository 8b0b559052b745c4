"""Importable job functions for the scheduler tests; each run is recorded in CALLS."""

from __future__ import annotations

CALLS: list[tuple[str, tuple[object, ...]]] = []

SYNC_REF = "tests.unit.scheduler_jobs_for_tests:run_scheduled_sync"
RETRY_REF = "tests.unit.scheduler_jobs_for_tests:retry_sync"
MAINTENANCE_REF = "tests.unit.scheduler_jobs_for_tests:maintenance"


async def run_scheduled_sync(tenant_id: int) -> None:
    """Stands in for core.jobs:run_scheduled_sync."""
    CALLS.append(("sync", (tenant_id,)))


async def retry_sync(tenant_id: int) -> None:
    """Stands in for core.jobs:retry_sync."""
    CALLS.append(("retry", (tenant_id,)))


async def maintenance() -> None:
    """Stands in for the maintenance jobs."""
    CALLS.append(("maintenance", ()))
