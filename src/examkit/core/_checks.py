"""Small shared checks of settings, run when a verifier, signer or client is built.

Each check returns the value it accepted (normalised where that is its job) or raises
:class:`~examkit.ConfigurationError` naming the setting and the type that was given; a value
is never repeated, since settings can be secrets. Private: the vendor packages call these from their
constructors so that a wrong setting fails at construction, not at the first request.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from examkit.core.errors import ConfigurationError, ValidationError

T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)


def _given(value: object) -> str:
    return type(value).__name__


def config_error(setting: str, expected: str, value: object, *, vendor: str | None) -> ConfigurationError:
    """The error for ``setting``: what was expected and the type that was given (never the value)."""
    return ConfigurationError(
        f"{setting} must be {expected}, not {_given(value)}", setting=setting, vendor=vendor
    )


def check_bool(value: object, *, setting: str, vendor: str | None = None) -> bool:
    """A real ``bool`` (``0``, ``1``, ``"yes"`` are refused: a switch must be said plainly)."""
    if not isinstance(value, bool):
        raise config_error(setting, "True or False", value, vendor=vendor)
    return value


def check_text(value: object, *, setting: str, vendor: str | None = None) -> str:
    """Non-empty, non-blank text that can be encoded as UTF-8."""
    if not isinstance(value, str) or not value.strip():
        raise config_error(setting, "non-empty text", value, vendor=vendor)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigurationError(
            f"{setting} contains characters that cannot be encoded as UTF-8", setting=setting, vendor=vendor
        ) from None
    return value


def check_seconds(
    value: object, *, setting: str, vendor: str | None = None, allow_zero: bool = False
) -> float:
    """A finite positive number of seconds (or non-negative with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise config_error(setting, "a number of seconds", value, vendor=vendor)
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        raise ConfigurationError(
            f"{setting} must be a finite, {'non-negative' if allow_zero else 'positive'} number of seconds",
            setting=setting,
            vendor=vendor,
        )
    return seconds


def check_count(
    value: object, *, setting: str, vendor: str | None = None, most: int | None = None, unit: str = "bytes"
) -> int:
    """A whole number of at least 1 (and at most ``most``): a size or a count."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise config_error(setting, f"a whole number of {unit}", value, vendor=vendor)
    if value < 1 or (most is not None and value > most):
        bound = f" and at most {most}" if most is not None else ""
        raise ConfigurationError(
            f"{setting} must be a whole number of {unit} of at least 1{bound}", setting=setting, vendor=vendor
        )
    return value


def check_instance(value: object, cls: type[T], *, setting: str, vendor: str | None = None) -> T:
    """An instance of ``cls``."""
    if not isinstance(value, cls):
        raise config_error(setting, f"a {cls.__name__}", value, vendor=vendor)
    return value


def check_member(value: object, enum_cls: type[E], *, setting: str, vendor: str | None = None) -> E:
    """A member of ``enum_cls`` (its value is accepted too, for str-valued enums)."""
    if isinstance(value, enum_cls):
        return value
    if isinstance(value, str):
        for member in enum_cls:
            if member.value == value:
                return member
    names = ", ".join(m.name for m in enum_cls)
    raise ConfigurationError(
        f"{setting} must be one of {enum_cls.__name__}.{{{names}}}, not {_given(value)}",
        setting=setting,
        vendor=vendor,
    )


def check_choice(value: object, choices: Iterable[str], *, setting: str, vendor: str | None = None) -> str:
    """One of the text ``choices``."""
    allowed = tuple(choices)
    if not isinstance(value, str) or value not in allowed:
        shown = ", ".join(repr(c) for c in allowed)
        raise ConfigurationError(
            f"{setting} must be one of {shown}, not {_given(value)}", setting=setting, vendor=vendor
        )
    return value


def check_tuple_of(
    value: object, cls: type[T], *, setting: str, vendor: str | None = None, allow_empty: bool = False
) -> tuple[T, ...]:
    """A sequence (not text, bytes or a mapping) of ``cls`` instances, non-empty unless allowed."""
    if isinstance(value, str | bytes | bytearray | memoryview | dict) or not isinstance(value, Iterable):
        raise config_error(setting, f"a sequence of {cls.__name__}", value, vendor=vendor)
    items = tuple(value)
    if (not items and not allow_empty) or not all(isinstance(item, cls) for item in items):
        raise ConfigurationError(
            f"{setting} must be a {'non-empty ' if not allow_empty else ''}sequence of {cls.__name__}",
            setting=setting,
            vendor=vendor,
        )
    return items


def check_clock(value: object, *, setting: str = "clock", vendor: str | None = None) -> Any:
    """A :class:`~examkit.core.Clock` instance (an object with a callable ``time()``), or ``None``."""
    if value is None:
        return None
    if isinstance(value, type) or not callable(getattr(value, "time", None)):
        raise config_error(setting, "a clock (an object with a time() method), or None", value, vendor=vendor)
    return value


def check_time_source(
    value: object, *, setting: str = "clock", vendor: str | None = None
) -> Callable[[], Any]:
    """A callable that returns the time (like :func:`time.time`)."""
    if isinstance(value, type) or not callable(value):
        raise config_error(setting, "a callable returning Unix seconds", value, vendor=vendor)
    return value


def check_replay_guard(value: object, *, setting: str = "replay_guard", vendor: str | None = None) -> Any:
    """A :class:`~examkit.core.ReplayGuard` (an object with a callable ``add``), or ``None``."""
    if value is None:
        return None
    if isinstance(value, type) or not callable(getattr(value, "add", None)):
        raise config_error(
            setting,
            "a replay guard (an object with an add(key, *, ttl) method), or None",
            value,
            vendor=vendor,
        )
    return value


def check_timeout(value: object, *, setting: str = "timeout", vendor: str | None = None) -> Any:
    """Finite positive seconds, one number or a ``(connect, read)`` pair: every request has a timeout."""
    parts = value if isinstance(value, tuple) and len(value) == 2 else (value,)
    for part in parts:
        check_seconds(part, setting=setting, vendor=vendor)
    return value


def check_session(value: object, *, setting: str = "session", vendor: str | None = None) -> Any:
    """A :class:`requests.Session` (or a stand-in with ``prepare_request`` and ``send``), or ``None``."""
    if value is None:
        return None
    if isinstance(value, type) or not all(
        callable(getattr(value, name, None)) for name in ("prepare_request", "send")
    ):
        raise config_error(setting, "a requests.Session, or None", value, vendor=vendor)
    return value


def check_callable(value: object, *, setting: str, vendor: str | None = None) -> Any:
    """A callable (a function, not a class)."""
    if isinstance(value, type) or not callable(value):
        raise config_error(setting, "a callable", value, vendor=vendor)
    return value


# --- arguments of public calls (API misuse is a ValidationError, not a foreign error) -----------------


def argument_error(field: str, expected: str, value: object, *, vendor: str | None) -> ValidationError:
    """The error for a call argument of the wrong kind: what was expected and the type given."""
    return ValidationError(
        f"{field} must be {expected}, not {_given(value)}", field=field, reason="wrong type", vendor=vendor
    )


def argument_text(value: object, *, field: str, vendor: str | None = None) -> str:
    """A ``str`` argument (possibly empty)."""
    if not isinstance(value, str):
        raise argument_error(field, "text", value, vendor=vendor)
    return value


def argument_bytes(value: object, *, field: str, vendor: str | None = None) -> bytes:
    """A bytes-like argument, returned as ``bytes``."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise argument_error(field, "bytes", value, vendor=vendor)


def argument_choice(value: object, choices: Iterable[str], *, field: str, vendor: str | None = None) -> str:
    """One of the text ``choices``."""
    allowed = tuple(choices)
    if not isinstance(value, str) or value not in allowed:
        raise argument_error(field, "one of " + ", ".join(repr(c) for c in allowed), value, vendor=vendor)
    return value


def argument_number(value: object, *, field: str, vendor: str | None = None) -> float:
    """A finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise argument_error(field, "a number", value, vendor=vendor)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValidationError(
            f"{field} must be a finite number", field=field, reason="not finite", vendor=vendor
        )
    return number


def label(value: object, default: str) -> str:
    """A name used only in messages (a header's or a field's): the text given, else ``default``."""
    return value if isinstance(value, str) and value.isprintable() and len(value) <= 200 else default
