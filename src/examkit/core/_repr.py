"""A ``repr`` that never raises (private helper).

Error reporters that capture frame locals (Sentry, ``traceback`` with ``capture_locals``, debuggers)
call ``repr`` on every local, including a ``self`` whose ``__init__`` raised half-way, before all of
its attributes were set. A ``repr`` that raises there hides the original error behind a new one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def safe_repr(method: Callable[[T], str]) -> Callable[[T], str]:
    """Wrap a ``__repr__`` so that, on an object not fully built, it returns a placeholder instead of raising.

    The placeholder names the class only: it never shows an attribute (and so never a secret).
    """

    @functools.wraps(method)
    def wrapper(self: T) -> str:
        try:
            return method(self)
        except Exception:
            return f"<{type(self).__name__} (not fully built)>"

    return wrapper


C = TypeVar("C", bound=type)


def safe_attrs_repr(cls: C) -> C:
    """Make an attrs class's generated ``repr`` safe on a half-built object (a converter raised).

    Put it above ``@attrs.frozen``; the generated ``repr`` reads every field and raises on one a failed
    ``__init__`` never set.
    """
    original: Callable[[Any], str] = cls.__dict__["__repr__"]
    cls.__repr__ = safe_repr(original)  # type: ignore[assignment, method-assign]
    return cls
