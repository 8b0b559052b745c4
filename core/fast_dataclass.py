"""Faster construction of frozen, slotted dataclasses, for the paths that make millions.

A frozen dataclass's generated __init__ sets each field by name through object.__setattr__.
`positional_constructor(cls)` returns a function taking every field positionally that sets
the slots through their descriptors instead: the same object (nothing else runs in those
__init__s), in about half the time. Used where a large seller's sync makes a row per order or
per size and warehouse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")


def positional_constructor(cls: type[_T]) -> Callable[..., _T]:
    """`make(*every_field_in_order)` -> a `cls` equal to `cls(*every_field_in_order)`."""
    if not dataclasses.is_dataclass(cls) or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a slotted dataclass")
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or not all(
        f.init and not f.name.startswith("_") for f in fields
    ):
        raise TypeError(f"{cls.__name__}.__init__ does more than set its fields")
    names = [f.name for f in fields]
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    namespace.update({f"_set_{name}": cls.__dict__[name].__set__ for name in names})
    source = (
        f"def make({', '.join(names)}):\n    _obj = _new(_cls)\n"
        + "".join(f"    _set_{name}(_obj, {name})\n" for name in names)
        + "    return _obj\n"
    )
    exec(source, namespace)
    make: Callable[..., _T] = namespace["make"]
    make.__qualname__ = f"positional_constructor({cls.__name__})"
    return make
