"""Encryption keys: rotation under the newest key, and a start-up that cannot read the data."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.key_rotation import audit_keys, rotate_keys
from core.notifier import Trigger
from core.vault import KeyVault, VaultError
from storage import migrate
from storage.db import create_engine, session_factory
from storage.models import Tenant
from tests.e2e.db_dump import dump_rows
from tests.e2e.direct import direct_app
from tests.e2e.harness import small_seller
from tests.fakes.wb import make_token

REPO = Path(__file__).resolve().parents[2]
OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


async def _seed(sessions: async_sessionmaker[AsyncSession], keys: dict[int, str]) -> None:
    """Tenants in chats 1.., each with a WB key encrypted under the Fernet key given."""
    async with sessions() as session:
        for chat_id, fernet_key in keys.items():
            session.add(
                Tenant(
                    chat_id=chat_id,
                    user_id=chat_id,
                    wb_key_encrypted=KeyVault([fernet_key]).encrypt(_wb_key(chat_id)),
                )
            )
        await session.commit()


def _wb_key(chat_id: int) -> str:
    return make_token(
        seller_id=f"00000000-0000-0000-0000-{chat_id:012d}",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )


async def _plain_keys(sessions: async_sessionmaker[AsyncSession], vault: KeyVault) -> list[str]:
    async with sessions() as session:
        tokens = await session.scalars(select(Tenant.wb_key_encrypted).order_by(Tenant.chat_id))
        return [vault.decrypt(token) for token in tokens if token is not None]


async def test_rotation_reencrypts_every_key_under_the_newest(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _seed(sessions, {1: OLD, 2: OLD, 3: OLD, 4: NEW})
    vault = KeyVault([NEW, OLD])
    audit = await audit_keys(sessions, vault)
    assert (audit.total, audit.current, audit.older, audit.unreadable) == (4, 1, 3, 0)
    report = await rotate_keys(sessions, vault)
    assert (report.total, report.rotated, report.already_current) == (4, 3, 1)
    # The old key can go now: the newest alone reads every key, unchanged.
    assert await _plain_keys(sessions, KeyVault([NEW])) == [_wb_key(i) for i in (1, 2, 3, 4)]
    again = await rotate_keys(sessions, vault)
    assert (again.rotated, again.already_current) == (0, 4)


async def test_rotation_with_an_unreadable_key_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _seed(sessions, {1: OLD, 2: OTHER})
    before = await dump_rows(sessions)
    with pytest.raises(VaultError, match="cannot decrypt 1 of 2 stored WB keys; nothing was"):
        await rotate_keys(sessions, KeyVault([NEW, OLD]))
    assert await dump_rows(sessions) == before


async def test_older_keys_decrypt_until_rotated_then_the_newest_alone_suffices(
    database_url: str, tmp_path: Path
) -> None:
    seller = small_seller()
    async with direct_app(database_url, tmp_path, seller, encryption_keys=OLD) as d:
        tenant = await d.onboard(seller, chat_id=1001)
    # A new key goes first; the old one stays so the stored key still reads.
    async with direct_app(
        database_url, tmp_path, seller, encryption_keys=f"{NEW},{OLD}", wb_rate_limits=False
    ) as d:
        d.wb.remains_polls_until_done = 1
        d.wb.limits_enabled = False
        result = await d.app.syncs.run(tenant.id, Trigger.MANUAL)
        assert result is not None and result.status in ("completed", "partial")
        report = await rotate_keys(d.app.sessions, d.app.vault)
        assert (report.total, report.rotated) == (1, 1)
    async with direct_app(
        database_url, tmp_path, seller, encryption_keys=NEW, wb_rate_limits=False
    ) as d:
        d.wb.remains_polls_until_done = 1
        d.wb.limits_enabled = False
        result = await d.app.syncs.run(tenant.id, Trigger.MANUAL)
        assert result is not None and result.status in ("completed", "partial")


async def test_startup_with_keys_that_cannot_decrypt_fails_fast_and_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    await _seed(sessions, {1: OLD, 2: NEW})
    before = await dump_rows(sessions)
    seller = small_seller()
    with pytest.raises(VaultError) as failure:
        async with direct_app(database_url, tmp_path, seller, encryption_keys=NEW):
            pass
    message = str(failure.value)
    assert "cannot decrypt 1 of 2 stored WB keys" in message and "rotate-keys" in message
    assert NEW not in message and OLD not in message
    assert await dump_rows(sessions) == before
    assert not (tmp_path / "encryption.key").exists()
    await engine.dispose()


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    full_env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "LOG_LEVEL": "INFO",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_rotate_keys_command_reports_counts(database_url: str, tmp_path: Path) -> None:
    async def seed() -> None:
        engine = create_engine(database_url)
        await migrate.upgrade(engine)
        await _seed(session_factory(engine), {1: OLD, 2: OLD, 3: NEW})
        await engine.dispose()

    async def read(keys: list[str]) -> list[str]:
        engine = create_engine(database_url)
        try:
            return await _plain_keys(session_factory(engine), KeyVault(keys))
        finally:
            await engine.dispose()

    asyncio.run(seed())
    env = {"DATABASE_URL": database_url, "ENCRYPTION_KEYS": f"{NEW},{OLD}"}
    done = _cli(["rotate-keys"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Re-encrypted 2 of 3 stored WB keys under the newest key (1 already were)" in done.stdout
    assert asyncio.run(read([NEW])) == [_wb_key(i) for i in (1, 2, 3)]

    refused = _cli(["rotate-keys"], {**env, "ENCRYPTION_KEYS": OTHER}, tmp_path)
    assert refused.returncode == 3
    assert "cannot decrypt 3 of 3 stored WB keys; nothing was changed" in refused.stderr
    assert OTHER not in refused.stderr + refused.stdout
    assert asyncio.run(read([NEW])) == [_wb_key(i) for i in (1, 2, 3)]

    unset = _cli(["rotate-keys"], {"DATABASE_URL": database_url}, tmp_path)
    assert unset.returncode == 2 and "ENCRYPTION_KEYS is not set" in unset.stderr


def test_bot_refuses_to_start_with_keys_that_cannot_decrypt(
    database_url: str, tmp_path: Path
) -> None:
    async def seed() -> dict[str, list[tuple[object, ...]]]:
        engine = create_engine(database_url)
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        await _seed(sessions, {1: OLD})
        rows = await dump_rows(sessions)
        await engine.dispose()
        return rows

    async def rows_now() -> dict[str, list[tuple[object, ...]]]:
        engine = create_engine(database_url)
        try:
            return await dump_rows(session_factory(engine))
        finally:
            await engine.dispose()

    before = asyncio.run(seed())
    env = {
        "DATABASE_URL": database_url,
        "ENCRYPTION_KEYS": NEW,
        "BOT_TOKEN": "123456:never-used",
        "TELEGRAM_API_URL": "http://127.0.0.1:9",  # nothing listens: it must not get that far
    }
    done = _cli([], env, tmp_path)
    assert done.returncode == 3
    assert "ENCRYPTION_KEYS cannot decrypt 1 of 1 stored WB keys" in done.stderr
    assert "Traceback" not in done.stderr and NEW not in done.stderr
    assert asyncio.run(rows_now()) == before
