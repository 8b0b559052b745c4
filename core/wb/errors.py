"""Errors raised by the WB client; none of them ever carries the API key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson


class WBError(Exception):
    """A WB API call failed; fields come from WB's problem+json body when it has one."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str = "",
        detail: str = "",
        request_id: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.detail = detail
        self.request_id = request_id


class WBAuthError(WBError):
    """401: the key is malformed, expired, or lacks the category this host needs."""


class WBForbiddenError(WBError):
    """403: WB refuses this token type for the method (e.g. "base token is not allowed")."""


class WBRateLimitedError(WBError):
    """429 that could not be waited out within the allowed retries."""

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class WBUnavailableError(WBError):
    """5xx, timeouts or connection errors that outlasted the retries."""


class WBBadResponseError(WBError):
    """WB answered 2xx with a body we cannot read (malformed JSON or unexpected shape)."""


class RateLimitWait(Exception):
    """The next allowed call of `method` is further away than the caller will wait."""

    def __init__(self, method: str, wait_seconds: float, retry_at: datetime) -> None:
        super().__init__(
            f"{method}: next call allowed in {wait_seconds:.0f} s (at {retry_at.isoformat()})"
        )
        self.method = method
        self.wait_seconds = wait_seconds
        self.retry_at = retry_at


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return str(value)


def parse_error_body(body: bytes) -> tuple[str, str, str]:
    """(title, detail, request_id) from a problem+json or statistics {"errors": [...]} body."""
    if not body:
        return "", "", ""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "", body[:200].decode("utf-8", "replace"), ""
    if not isinstance(data, dict):
        return "", _text(data)[:200], ""
    title = _text(data.get("title") or data.get("message"))
    detail = _text(data.get("detail"))
    if not detail and "errors" in data:
        detail = _text(data["errors"])
    request_id = _text(data.get("requestId"))
    return title, detail, request_id


def error_for_status(status: int, body: bytes, *, what: str, token: str) -> WBError:
    """The WBError subclass for a non-2xx status, its message scrubbed of the token."""
    title, detail, request_id = parse_error_body(body)
    if token:
        title = title.replace(token, "***")
        detail = detail.replace(token, "***")
    message = f"{what}: HTTP {status}"
    if title or detail:
        message += f" ({'; '.join(p for p in (title, detail) if p)})"
    cls: type[WBError]
    if status == 401:
        cls = WBAuthError
    elif status == 403:
        cls = WBForbiddenError
    elif status >= 500:
        cls = WBUnavailableError
    else:
        cls = WBError
    return cls(message, status=status, title=title, detail=detail, request_id=request_id)
