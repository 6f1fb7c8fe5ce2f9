"""Deep copies that share a stateful object's collaborators (private helper).

A deep copy of a client or verifier is a new object with its own configuration; what it was given
to talk to the world (a ``requests.Session``, a replay guard, a clock, a sequence) is shared, because
copying those would either fail (locks, sockets) or, worse, open a hole: a verifier copied with its
own replay guard would accept a request the original already accepted.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _state_names(obj: object) -> list[str]:
    names: list[str] = []
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name not in ("__dict__", "__weakref__") and name not in names:
                names.append(name)
    return names


def deepcopy_sharing(obj: T, memo: dict[int, Any], *shared: object) -> T:
    """Deep-copy ``obj`` attribute by attribute, keeping each object in ``shared`` as it is.

    Meant to be called from ``__deepcopy__``; works for classes with ``__slots__``, a ``__dict__``
    or both, frozen or not.
    """
    for value in shared:
        if value is not None:
            memo[id(value)] = value
    cls = type(obj)
    new = cls.__new__(cls)
    memo[id(obj)] = new
    for name in _state_names(obj):
        try:
            value = object.__getattribute__(obj, name)
        except AttributeError:
            continue  # a slot never set (a half-built object): leave it unset in the copy too
        object.__setattr__(new, name, copy.deepcopy(value, memo))
    for name, value in getattr(obj, "__dict__", {}).items():
        object.__setattr__(new, name, copy.deepcopy(value, memo))
    return new


def sharing_deepcopy(*names: str) -> Callable[[Any, dict[int, Any]], Any]:
    """A ``__deepcopy__`` method that deep-copies as :func:`deepcopy_sharing`, sharing ``names``.

    ``__deepcopy__ = sharing_deepcopy("_guard", "_clock")`` in a class body: the copy has its own
    settings and shares the attributes named (an unset one is simply not shared).
    """

    def __deepcopy__(self: Any, memo: dict[int, Any]) -> Any:  # noqa: N807 - it is the method
        return deepcopy_sharing(self, memo, *(getattr(self, name, None) for name in names))

    return __deepcopy__
