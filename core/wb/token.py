"""Decode a WB API key (a JWT) into its type, categories, read-only flag and expiry."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

import orjson


class TokenType(IntEnum):
    """The `acc` claim: which kind of key the seller made."""

    BASE = 1
    TEST = 2
    PERSONAL = 3
    SERVICE = 4


class Category(IntEnum):
    """A key's access category; the value is its bit position in the `s` claim."""

    CONTENT = 1
    ANALYTICS = 2
    PRICES = 3
    MARKETPLACE = 4
    STATISTICS = 5
    PROMOTION = 6
    FEEDBACKS = 7
    BUYERS_CHAT = 9
    SUPPLIES = 10
    RETURNS = 11
    DOCUMENTS = 12
    FINANCE = 13
    USERS = 16


READ_ONLY_BIT = 30

REQUIRED_CATEGORIES: frozenset[Category] = frozenset(
    {Category.CONTENT, Category.ANALYTICS, Category.MARKETPLACE, Category.STATISTICS}
)


class InvalidTokenError(ValueError):
    """The key is not a WB JWT we can read; the message never contains the key."""


@dataclass(frozen=True)
class TokenInfo:
    """What a key allows, learned from its payload before any call."""

    token_type: TokenType
    categories: frozenset[Category]
    read_only: bool
    expires_at: datetime
    seller_id: str
    sandbox: bool
    fingerprint: str


def categories_from_mask(mask: int) -> frozenset[Category]:
    """Categories whose bit is set in an `s` bitmask."""
    return frozenset(c for c in Category if mask & (1 << c.value))


def categories_to_mask(categories: frozenset[Category] | set[Category], read_only: bool) -> int:
    """The `s` bitmask for these categories (the inverse of `categories_from_mask`)."""
    mask = 0
    for category in categories:
        mask |= 1 << category.value
    if read_only:
        mask |= 1 << READ_ONLY_BIT
    return mask


def fingerprint(key: str) -> str:
    """A short, safe-to-show id of a key: the first 12 hex chars of its sha256."""
    return hashlib.sha256(key.strip().encode()).hexdigest()[:12]


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode_token(key: str) -> TokenInfo:
    """Read a key's payload (no signature check is possible on our side)."""
    key = key.strip()
    parts = key.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidTokenError("the key is not a JWT (expected three dot-separated parts)")
    try:
        payload: Any = orjson.loads(_b64url_decode(parts[1]))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise InvalidTokenError("the key's payload is not base64url-encoded JSON") from None
    if not isinstance(payload, dict):
        raise InvalidTokenError("the key's payload is not a JSON object")
    try:
        token_type = TokenType(int(payload["acc"]))
        mask = int(payload["s"])
        expires_at = datetime.fromtimestamp(int(payload["exp"]), tz=UTC)
    except KeyError as exc:
        raise InvalidTokenError(f"the key's payload lacks the {exc.args[0]!r} claim") from None
    except (TypeError, ValueError, OverflowError, OSError):
        raise InvalidTokenError("the key's payload has an invalid acc, s or exp claim") from None
    return TokenInfo(
        token_type=token_type,
        categories=categories_from_mask(mask),
        read_only=bool(mask & (1 << READ_ONLY_BIT)),
        expires_at=expires_at,
        seller_id=str(payload.get("sid", "")),
        sandbox=bool(payload.get("t", False)),
        fingerprint=fingerprint(key),
    )


def missing_categories(info: TokenInfo) -> frozenset[Category]:
    """Required categories the key lacks (empty when it is good for the tracker)."""
    return REQUIRED_CATEGORIES - info.categories


def is_expired(info: TokenInfo, now: datetime) -> bool:
    """True when the key no longer works at `now` (an aware datetime)."""
    return now >= info.expires_at
