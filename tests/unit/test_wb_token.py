"""Decoding WB API keys."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from core.wb.token import (
    REQUIRED_CATEGORIES,
    Category,
    InvalidTokenError,
    TokenType,
    decode_token,
    is_expired,
    missing_categories,
)
from tests.fakes.wb import make_token

EXPIRES = datetime(2027, 5, 1, 10, 0, tzinfo=UTC)
SELLER = "e8923014-e233-47a8-898e-3cc86d67ea61"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_base_key_with_the_four_categories_decodes() -> None:
    key = make_token(token_type=1, seller_id=SELLER, expires_at=EXPIRES)
    info = decode_token(key)
    assert len(key) > 300
    assert info.token_type is TokenType.BASE
    assert info.categories == REQUIRED_CATEGORIES
    assert info.read_only is True
    assert info.expires_at == EXPIRES
    assert info.expires_at.tzinfo is not None
    assert info.seller_id == SELLER
    assert info.sandbox is False
    assert len(info.fingerprint) == 12
    assert info.fingerprint not in key
    assert missing_categories(info) == frozenset()


def test_personal_key_surrounded_by_whitespace_decodes() -> None:
    key = make_token(token_type=3, categories=(1, 2, 3, 4, 5, 7, 16), read_only=False)
    info = decode_token(f"  {key}\n")
    assert info.token_type is TokenType.PERSONAL
    assert Category.USERS in info.categories
    assert Category.PRICES in info.categories
    assert info.read_only is False
    assert info.fingerprint == decode_token(key).fingerprint


def test_sandbox_key_is_marked() -> None:
    info = decode_token(make_token(token_type=2, sandbox=True))
    assert info.token_type is TokenType.TEST
    assert info.sandbox is True


def test_missing_categories_named() -> None:
    info = decode_token(make_token(categories=(1, 5)))
    assert missing_categories(info) == {Category.ANALYTICS, Category.MARKETPLACE}


def test_bit_positions_follow_wb_table() -> None:
    # s = 2**1 + 2**4 + 2**30: Content, Marketplace, read-only.
    payload = {"acc": 1, "s": 2 + 16 + 2**30, "exp": 1_900_000_000, "sid": "x"}
    key = f"{_b64(b'{}')}.{_b64(orjson.dumps(payload))}.sig"
    info = decode_token(key)
    assert info.categories == {Category.CONTENT, Category.MARKETPLACE}
    assert info.read_only is True


def test_expired_key_is_expired() -> None:
    info = decode_token(make_token(expires_at=EXPIRES))
    assert not is_expired(info, EXPIRES - timedelta(seconds=1))
    assert is_expired(info, EXPIRES)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "not-a-jwt-at-all-but-quite-long-secret-1234567890",
        "aaa.bbb",
        "aaa.bbb.ccc.ddd",
        "aaa..ccc",
        f"{_b64(b'{}')}.!!!$$$.sig",
        f"{_b64(b'{}')}.{_b64(b'not json secret')}.sig",
        f"{_b64(b'{}')}.{_b64(b'[1, 2]')}.sig",
        f"{_b64(b'{}')}.{_b64(orjson.dumps({'s': 38, 'exp': 1, 'sid': 'x'}))}.sig",
        f"{_b64(b'{}')}.{_b64(orjson.dumps({'acc': 1, 'exp': 1}))}.sig",
        f"{_b64(b'{}')}.{_b64(orjson.dumps({'acc': 1, 's': 38}))}.sig",
        f"{_b64(b'{}')}.{_b64(orjson.dumps({'acc': 9, 's': 38, 'exp': 1}))}.sig",
        f"{_b64(b'{}')}.{_b64(orjson.dumps({'acc': 1, 's': 'x', 'exp': 1}))}.sig",
    ],
)
def test_garbage_key_rejected_without_echoing_it(key: str) -> None:
    with pytest.raises(InvalidTokenError) as caught:
        decode_token(key)
    text = str(caught.value) + repr(caught.value)
    assert key == "" or key not in text
    for part in key.split("."):
        if len(part) > 4:
            assert part not in text
