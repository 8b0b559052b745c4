"""Keep the response types aiogram makes per request alive between requests.

aiogram parses every Bot API answer with `Response[method.__returning__]`, a pydantic generic
model parametrized on each call. pydantic caches parametrized models in a weak-valued
dictionary, so once the garbage collector has freed `Response[Message]` the next request
builds it again: ~80 ms of schema building on the event loop, per request, whenever a
collection ran in between. Under 50 syncs that was a quarter of the loop's busy time
(docs/performance.md). pydantic itself chained the weak cache with a bounded strong one until
2.x; this puts that back. If pydantic's internals change, nothing is done.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def keep_generic_models() -> bool:
    """Make pydantic's cache of parametrized generic models hold the recent ones strongly."""
    try:
        from pydantic._internal import _generics

        cache = _generics._GENERIC_TYPES_CACHE
        if isinstance(cache, _generics.DeepChainMap):
            return True  # already chained (here or by pydantic)
        _generics._GENERIC_TYPES_CACHE = _generics.DeepChainMap(  # type: ignore[assignment]
            cache, _generics.LimitedDict()
        )
    except (ImportError, AttributeError, TypeError) as exc:
        log.warning("pydantic's generic cache is not as expected (%s); left as it is", exc)
        return False
    return True
