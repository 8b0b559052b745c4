"""Checking a seller's WB key before it is stored, and storing it encrypted."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import aiohttp
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from core.settings import Settings
from core.vault import KeyVault
from core.wb.client import Host, WBClient
from core.wb.errors import RateLimitWait, WBAuthError, WBError, WBForbiddenError
from core.wb.limits import RateLimiter
from core.wb.token import (
    Category,
    InvalidTokenError,
    TokenInfo,
    categories_to_mask,
    decode_token,
    is_expired,
    missing_categories,
)
from storage.models import DataPartState, StoredOrder, Tenant

log = logging.getLogger(__name__)

# The hosts a sync reads, each pinged once before a key is accepted.
HOSTS_TO_PING: tuple[tuple[Category, Host], ...] = (
    (Category.CONTENT, Host.CONTENT),
    (Category.ANALYTICS, Host.ANALYTICS),
    (Category.MARKETPLACE, Host.MARKETPLACE),
    (Category.STATISTICS, Host.STATISTICS),
)


class KeyProblem(StrEnum):
    MALFORMED = "malformed"
    EXPIRED = "expired"
    MISSING_CATEGORIES = "missing_categories"
    REJECTED = "rejected"  # WB answered 401 to a ping
    WB_UNAVAILABLE = "wb_unavailable"


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """The verdict on a key; `info` is set whenever the payload could be read."""

    problem: KeyProblem | None
    info: TokenInfo | None = None
    missing: frozenset[Category] = frozenset()
    rejected_by: Category | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


async def check_key(key: str, http: aiohttp.ClientSession, settings: Settings) -> KeyCheck:
    """Decode the key, require the four categories and an unexpired key, ping each host once."""
    try:
        info = decode_token(key)
    except InvalidTokenError:
        return KeyCheck(KeyProblem.MALFORMED)
    if is_expired(info, utcnow()):
        return KeyCheck(KeyProblem.EXPIRED, info)
    missing = missing_categories(info)
    if missing:
        return KeyCheck(KeyProblem.MISSING_CATEGORIES, info, missing=missing)
    client = WBClient(
        http,
        key,
        limiter=RateLimiter(info.token_type),
        base_url=settings.wb_api_url,
        max_wait=0.0,
        retries=1,
        request_timeout=20.0,
    )
    for category, host in HOSTS_TO_PING:
        try:
            await client.ping(host)
        except (WBAuthError, WBForbiddenError):
            return KeyCheck(KeyProblem.REJECTED, info, rejected_by=category)
        except (WBError, RateLimitWait):
            log.warning("WB ping of %s failed during onboarding", host.value)
            return KeyCheck(KeyProblem.WB_UNAVAILABLE, info)
    return KeyCheck(None, info)


async def store_key(
    session: AsyncSession, tenant: Tenant, key: str, info: TokenInfo, vault: KeyVault
) -> bool:
    """Encrypt and store the key on the tenant; True when it replaced another key.

    A new key starts with fresh limiter state and a cleared rejection; cached parts of another
    seller account are dropped so no figures of the old account leak into the new one.
    """
    replaced = tenant.wb_key_encrypted is not None
    other_account = replaced and tenant.seller_id != info.seller_id
    tenant.wb_key_encrypted = vault.encrypt(key.strip())
    tenant.key_fingerprint = info.fingerprint
    tenant.token_type = int(info.token_type)
    tenant.token_categories = categories_to_mask(info.categories, info.read_only)
    tenant.key_read_only = info.read_only
    tenant.key_expires_at = info.expires_at
    tenant.key_added_at = utcnow()
    tenant.key_invalid_reason = None
    tenant.seller_id = info.seller_id
    tenant.limiter_state = None
    tenant.key_expiry_warned_days = None
    if other_account:
        await session.execute(delete(DataPartState).where(DataPartState.tenant_id == tenant.id))
        await session.execute(delete(StoredOrder).where(StoredOrder.tenant_id == tenant.id))
    return replaced


def expires_soon(expires_at: datetime | None, now: datetime, days: int) -> bool:
    return expires_at is not None and (expires_at - now).total_seconds() < days * 86400
