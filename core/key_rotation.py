"""Re-encrypting the stored WB keys under the newest of ENCRYPTION_KEYS, and auditing them.

Rotation, step by step: put the new key first in ENCRYPTION_KEYS and keep the old ones after
it (everything still decrypts; new keys are written under the new key), restart, run
`python -m bot rotate-keys`, and only then drop the old keys.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vault import KeyVault, VaultError
from storage.models import Tenant

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KeyAudit:
    """How the stored keys stand against the configured ENCRYPTION_KEYS."""

    total: int
    current: int  # encrypted under the newest key
    older: int  # readable, but under an older key
    unreadable: int  # no configured key decrypts them

    @property
    def ok(self) -> bool:
        return self.unreadable == 0


@dataclass(frozen=True, slots=True)
class RotationReport:
    total: int
    rotated: int
    already_current: int


def _audit(vault: KeyVault, tokens: list[bytes]) -> KeyAudit:
    current = older = unreadable = 0
    for token in tokens:
        if vault.is_current(token):
            current += 1
        elif vault.can_decrypt(token):
            older += 1
        else:
            unreadable += 1
    return KeyAudit(len(tokens), current, older, unreadable)


async def audit_keys(sessions: async_sessionmaker[AsyncSession], vault: KeyVault) -> KeyAudit:
    """Read every stored key's ciphertext and check it against the vault; changes nothing."""
    async with sessions() as session:
        tokens = list(
            await session.scalars(
                select(Tenant.wb_key_encrypted).where(Tenant.wb_key_encrypted.is_not(None))
            )
        )
    return _audit(vault, [token for token in tokens if token is not None])


async def rotate_keys(
    sessions: async_sessionmaker[AsyncSession], vault: KeyVault
) -> RotationReport:
    """Re-encrypt every stored key under the newest key, in one transaction.

    Refuses, changing nothing, when any stored key cannot be decrypted: a half-rotated store
    with keys nobody can read is worse than a clear error. A key replaced by its seller while
    this runs is left as the seller stored it.
    """
    async with sessions() as session, session.begin():
        rows = (
            await session.execute(
                select(Tenant.id, Tenant.wb_key_encrypted)
                .where(Tenant.wb_key_encrypted.is_not(None))
                .order_by(Tenant.id)
                .with_for_update()
            )
        ).all()
        tokens = [(tenant_id, token) for tenant_id, token in rows if token is not None]
        audit = _audit(vault, [token for _, token in tokens])
        if not audit.ok:
            raise VaultError(
                f"ENCRYPTION_KEYS cannot decrypt {audit.unreadable} of {audit.total} stored WB "
                "keys; nothing was changed. Add the keys they were encrypted with (after the "
                "newest) and run rotate-keys again"
            )
        rotated = 0
        for tenant_id, token in tokens:
            if vault.is_current(token):
                continue
            await session.execute(
                update(Tenant)
                .where(Tenant.id == tenant_id, Tenant.wb_key_encrypted == token)
                .values(wb_key_encrypted=vault.rotate(token))
            )
            rotated += 1
    report = RotationReport(audit.total, rotated, audit.current)
    log.info(
        "key rotation: %s of %s stored WB keys re-encrypted, %s were already current",
        report.rotated,
        report.total,
        report.already_current,
    )
    return report
