"""aiogram's per-request response types stay built (bot.response_types).

Under load the responsiveness benchmark counted 15 builds each of `Response[Message]` and
`Response[list[Update]]` in one run (the weak cache had lost them); with the strong cache,
one each. This checks the mechanism: parametrized models are held strongly, so a garbage
collection cannot evict them."""

from __future__ import annotations

import gc
import weakref
from typing import Generic, TypeVar

from aiogram.client.session.base import Response
from aiogram.types import Message
from pydantic import BaseModel
from pydantic._internal import _generics

import bot  # noqa: F401  (imports aiogram as the bot does)
from bot.response_types import keep_generic_models

T = TypeVar("T")


class Box(BaseModel, Generic[T]):
    value: T


def test_parametrized_models_are_held_strongly() -> None:
    assert keep_generic_models()  # applied by importing bot; idempotent
    cache = _generics._GENERIC_TYPES_CACHE
    strong = [m for m in getattr(cache, "maps", [])[1:] if isinstance(m, dict)]
    assert strong, "the generic cache is only weak"
    made = weakref.ref(Box[int])
    gc.collect()
    assert made() is not None and any(made() in m.values() for m in strong)
    assert Box[int] is made()


def test_the_response_type_of_a_request_is_built_once() -> None:
    response_type = Response[Message]
    assert any(response_type in m.values() for m in _generics._GENERIC_TYPES_CACHE.maps[1:])
