"""Import aiogram with its pydantic models built on first use instead of at import time.

aiogram 3 defines ~450 Telegram types and ~170 API methods as pydantic models. Its
`aiogram/types/__init__.py` ends by calling `model_rebuild()` on every type (to resolve the
forward references its modules import only under TYPE_CHECKING), which builds every type's
validator and serializer at import time; the methods are built as their classes are created.
Each of those validators embeds its own copy of every nested type's validator, so importing
aiogram costs ~110 MB of RSS and ~4 s of CPU, although the bot uses a few dozen of them
(aiogram issue #1513).

`import_aiogram()` imports aiogram with that loop turned into a cheap step: for each type it
adds the names its annotations need (the TYPE_CHECKING imports) to the globals of the module
that defines it, so pydantic can resolve them later in any context, and leaves the type
deferred (`defer_build=True` is already in aiogram's `TelegramObject` config). The methods get
`defer_build=True` too. A model's validator is then built by pydantic itself the first time it
is used: the first Update takes ~0.25 s, a method's first call a few milliseconds.
Measured: 166 → 58 MB and 5.8 → 1.3 s for `import aiogram` (pydantic 2.13, aiogram 3.31).

Must run before anything else imports aiogram (`bot/__init__.py` calls it); once aiogram is
imported it does nothing. If aiogram or pydantic change in a way this does not expect, it
falls back to the ordinary, eager import (see `_lazy_rebuild`).
"""

from __future__ import annotations

import re
import sys
import threading
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_lock = threading.Lock()


def _add_forward_names(cls: type, namespace: dict[str, Any]) -> None:
    """Give the modules defining `cls` (and its aiogram bases) the names their annotations use."""
    for klass in cls.__mro__:
        module = sys.modules.get(klass.__module__)
        if module is None or not klass.__module__.startswith("aiogram."):
            continue
        module_globals = vars(module)
        for annotation in vars(klass).get("__annotations__", {}).values():
            if not isinstance(annotation, str):
                continue
            for name in _IDENTIFIER.findall(annotation):
                if name not in module_globals and name in namespace:
                    module_globals[name] = namespace[name]


def import_aiogram() -> None:
    """Import aiogram with its models deferred (see the module's docstring); idempotent."""
    with _lock:
        if "aiogram" in sys.modules:
            return
        from pydantic import BaseModel

        original = BaseModel.__dict__["model_rebuild"]
        deferred_methods = False

        def _lazy_rebuild(
            cls: type[BaseModel],
            *,
            force: bool = False,
            raise_errors: bool = True,
            _parent_namespace_depth: int = 2,
            _types_namespace: dict[str, Any] | None = None,
        ) -> bool | None:
            nonlocal deferred_methods
            if (
                _types_namespace is None
                or force
                or not cls.__module__.startswith("aiogram.types.")
                or not cls.model_config.get("defer_build")
            ):
                result: bool | None = original.__func__(
                    cls,
                    force=force,
                    raise_errors=raise_errors,
                    _parent_namespace_depth=_parent_namespace_depth + 1,
                    _types_namespace=_types_namespace,
                )
                return result
            if not deferred_methods:
                # Runs once the types are defined, before aiogram.methods defines its classes:
                # they (TelegramMethod) inherit this config.
                from aiogram.client.context_controller import BotContextController

                BotContextController.model_config["defer_build"] = True
                deferred_methods = True
            _add_forward_names(cls, _types_namespace)
            return None

        BaseModel.model_rebuild = classmethod(_lazy_rebuild)  # type: ignore[assignment,method-assign]
        try:
            import aiogram  # noqa: F401
        finally:
            BaseModel.model_rebuild = original  # type: ignore[method-assign]
