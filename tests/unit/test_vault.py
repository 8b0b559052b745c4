"""WB keys at rest: MultiFernet, rotation, and the embedded default key file."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core.vault import KeyVault, VaultError, vault_from_settings


def test_encrypts_with_the_newest_and_decrypts_with_any() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = KeyVault([old]).encrypt("secret-key")
    both = KeyVault([new, old])
    assert both.decrypt(stored) == "secret-key"
    assert not both.is_current(stored)
    rotated = both.rotate(stored)
    assert both.is_current(rotated)
    assert KeyVault([new]).decrypt(rotated) == "secret-key"
    with pytest.raises(VaultError):
        KeyVault([new]).decrypt(stored)


def test_bad_key_material_is_refused_without_echoing_it() -> None:
    with pytest.raises(VaultError) as caught:
        KeyVault(["not-a-fernet-key"])
    assert "not-a-fernet-key" not in str(caught.value)


def test_default_key_file_is_created_owner_only_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / "data" / "encryption.key"
    with caplog.at_level(logging.WARNING, logger="core.vault"):
        vault = vault_from_settings(None, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "ENCRYPTION_KEYS is not set" in caplog.text
    assert key_file.read_text().strip() not in caplog.text
    stored = vault.encrypt("wb-key")
    # A restart reads the same file and can still decrypt.
    assert vault_from_settings(None, key_file).decrypt(stored) == "wb-key"


def test_configured_keys_win_over_the_file(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    vault = vault_from_settings(f" {key} , ", tmp_path / "encryption.key")
    assert vault.key_count == 1
    assert not (tmp_path / "encryption.key").exists()
