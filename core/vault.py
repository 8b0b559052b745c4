"""Encryption of sellers' WB keys at rest: MultiFernet, newest key first, rotatable."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)


class VaultError(Exception):
    """The configured keys are unusable, or cannot decrypt what is stored."""


class KeyVault:
    """Encrypts and decrypts secrets; the first key encrypts, every key decrypts."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise VaultError("no encryption keys configured")
        try:
            self._fernets = [Fernet(key.strip().encode()) for key in keys]
        except (ValueError, TypeError) as exc:
            # The message names the position only: a key must never reach a log.
            raise VaultError("ENCRYPTION_KEYS holds a value that is not a Fernet key") from exc
        self._multi = MultiFernet(self._fernets)

    @property
    def key_count(self) -> int:
        return len(self._fernets)

    def encrypt(self, secret: str) -> bytes:
        return self._multi.encrypt(secret.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._multi.decrypt(token).decode()
        except InvalidToken as exc:
            raise VaultError("stored data cannot be decrypted with ENCRYPTION_KEYS") from exc

    def can_decrypt(self, token: bytes) -> bool:
        try:
            self._multi.decrypt(token)
        except InvalidToken:
            return False
        return True

    def is_current(self, token: bytes) -> bool:
        """True when `token` is already encrypted under the newest key."""
        try:
            self._fernets[0].decrypt(token)
        except InvalidToken:
            return False
        return True

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt under the newest key (older keys must still decrypt it)."""
        try:
            return self._multi.rotate(token)
        except InvalidToken as exc:
            raise VaultError("stored data cannot be decrypted with ENCRYPTION_KEYS") from exc


def parse_keys(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def load_or_create_key_file(path: Path) -> str:
    """The embedded default: one Fernet key in a file readable by the owner only."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    log.warning(
        "ENCRYPTION_KEYS is not set: created an encryption key file at %s (mode 0600). "
        "Back it up; without it stored WB keys cannot be read. Set ENCRYPTION_KEYS in production.",
        path,
    )
    return key


def vault_from_settings(encryption_keys: str | None, key_file: Path) -> KeyVault:
    if encryption_keys and parse_keys(encryption_keys):
        return KeyVault(parse_keys(encryption_keys))
    if key_file.exists():
        log.warning("ENCRYPTION_KEYS is not set: using the key file at %s", key_file)
    return KeyVault([load_or_create_key_file(key_file)])
