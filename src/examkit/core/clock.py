"""Clocks, epoch parsing and freshness windows.

Every check that depends on the time takes a :class:`Clock`, so tests (and users re-verifying queued
requests) control "now". Freshness windows are symmetric: a timestamp too far in the future is refused
just like one too far in the past.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Final, Protocol, TypeAlias, runtime_checkable

from examkit.core._checks import argument_number, check_clock, label
from examkit.core._repr import safe_repr
from examkit.core.errors import (
    ConfigurationError,
    ExamkitError,
    TimestampOutsideToleranceError,
    ValidationError,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "Clock",
    "FixedClock",
    "SystemClock",
    "Tolerance",
]

DEFAULT_TOLERANCE: Final = 300.0
"""The default freshness window in seconds, either way (five minutes)."""

MAX_TOLERANCE: Final = 86_400.0
"""The widest freshness window accepted, in seconds either way (one day)."""

Tolerance: TypeAlias = "float | int | timedelta"
"""A tolerance as users give it: seconds, or a :class:`~datetime.timedelta`."""

_EPOCH_RE: Final = re.compile(r"\A[+-]?[0-9]{1,12}\Z", re.ASCII)
# One ISO 8601 grammar on every Python version (datetime.fromisoformat accepts far more on 3.11+ than on
# 3.10): YYYY-MM-DD, then "T", "t" or a space, HH:MM, optional :SS, an optional fraction of a second
# ("." or "," and digits, cut to microseconds), and an optional offset: Z, +HH, +HHMM, +HH:MM or +HH:MM:SS.
_ISO_DATE_RE: Final = re.compile(r"\A([0-9]{4})-([0-9]{2})-([0-9]{2})\Z", re.ASCII)
_ISO_DATETIME_RE: Final = re.compile(
    r"\A([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2})(?::([0-9]{2}))?)?)?\Z",
    re.ASCII,
)


@runtime_checkable
class Clock(Protocol):
    """Anything that tells the current time as Unix seconds."""

    def time(self) -> float:
        """Return the current time in seconds since the Unix epoch."""
        ...


class SystemClock:
    """The real clock (:func:`time.time`)."""

    def time(self) -> float:
        """Return :func:`time.time`."""
        return time.time()

    @safe_repr
    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that stands still until told to move; for tests and for re-verifying stored requests.

    Args:
        now: The time to show, as Unix seconds or an aware :class:`~datetime.datetime`.

    >>> clock = FixedClock(1_700_000_000)
    >>> clock.advance(30)
    >>> clock.time()
    1700000030.0
    """

    def __init__(self, now: float | datetime) -> None:
        self._lock = threading.Lock()
        self._now = _to_seconds(now)

    def time(self) -> float:
        """Return the time this clock shows."""
        with self._lock:
            return self._now

    def set(self, now: float | datetime) -> None:
        """Show ``now`` from here on."""
        with self._lock:
            self._now = _to_seconds(now)

    def advance(self, seconds: float | timedelta) -> None:
        """Move the clock forward (or back, with a negative value)."""
        given: object = seconds
        if isinstance(given, timedelta):
            delta = given.total_seconds()
        else:
            delta = _to_seconds(given, setting="seconds")
        with self._lock:
            if not abs(self._now + delta) < 10**12:
                raise ConfigurationError(
                    "the clock cannot move outside the range of dates", setting="seconds"
                )
            self._now += delta

    @safe_repr
    def __repr__(self) -> str:
        return f"FixedClock({self._now!r})"


def _to_seconds(value: object, *, setting: str = "now") -> float:
    given: object = value
    if isinstance(given, datetime):
        if given.tzinfo is None:
            raise ConfigurationError("a clock's datetime must be timezone-aware", setting=setting)
        return given.timestamp()
    if isinstance(given, bool) or not isinstance(given, int | float):
        raise ConfigurationError(
            f"{setting} must be Unix seconds or an aware datetime, not {type(given).__name__}",
            setting=setting,
        )
    try:
        seconds = float(given)
    except OverflowError:
        seconds = float("inf")
    if not abs(seconds) < 10**12:
        raise ConfigurationError(
            f"{setting} must be a finite time within the range of dates", setting=setting
        )
    return seconds


def tolerance_seconds(tolerance: Tolerance, *, setting: str = "tolerance") -> float:
    """Normalise a tolerance to a non-negative number of seconds, at most :data:`MAX_TOLERANCE`.

    Raises:
        ConfigurationError: The tolerance is negative, not a number, not finite, or more than a day.
            ``None`` is refused on purpose: a freshness check cannot be switched off by accident.
    """
    if isinstance(tolerance, timedelta):
        seconds = tolerance.total_seconds()
    elif isinstance(tolerance, int | float) and not isinstance(tolerance, bool):
        try:
            seconds = float(tolerance)
        except OverflowError:  # an int too large for a float
            seconds = float("inf")
    else:
        raise ConfigurationError(
            f"{setting} must be a number of seconds or a timedelta, not {type(tolerance).__name__}",
            setting=setting,
        )
    if not (0 <= seconds < float("inf")):
        raise ConfigurationError(
            f"{setting} must be a finite, non-negative number of seconds", setting=setting
        )
    if seconds > MAX_TOLERANCE:
        raise ConfigurationError(
            f"{setting} must be at most {MAX_TOLERANCE:g} seconds (one day): a wider window hardly checks "
            "freshness; to re-verify stored requests, pass a FixedClock set to when they arrived",
            setting=setting,
        )
    return seconds


def parse_epoch_seconds(
    value: object,
    *,
    what: str = "timestamp",
    error: Callable[[str], Exception] = ValidationError,
) -> int:
    """Read whole Unix seconds from an ``int`` or a decimal string such as ``"1586808802"``.

    Only ASCII digits with an optional sign are accepted (no spaces, fractions, underscores or
    non-ASCII digits), and at most 12 of them.

    Args:
        value: The value as received.
        what: What the value is, for the message.
        error: The error class (or factory) to raise; callers pick the one that fits their context,
            for example :class:`~examkit.MalformedSignatureError` for a header.

    Raises:
        ValidationError: Or whatever ``error`` builds, when the value is not whole epoch seconds.
    """
    what = label(what, "timestamp")
    error = _error_factory(error)
    if isinstance(value, bool):
        raise error(f"{what} must be whole Unix seconds, not a boolean")
    if isinstance(value, int):
        if abs(value) >= 10**12:
            raise error(f"{what} is out of range for Unix seconds")
        return value
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            raise error(f"{what} must be whole Unix seconds in ASCII digits") from None
    if isinstance(value, str):
        text = value.strip()
        if _EPOCH_RE.match(text):
            return int(text)
        raise error(f"{what} must be whole Unix seconds (digits only), got {_preview(value)}")
    raise error(f"{what} must be whole Unix seconds, not {type(value).__name__}")


def _error_factory(error: object) -> Callable[[str], Exception]:
    # A caller's error factory must build an examkit error; anything else gets a ValidationError.
    def build(message: str) -> Exception:
        made = error(message) if callable(error) else None
        return made if isinstance(made, ExamkitError) else ValidationError(message)

    return build


def epoch_to_datetime(seconds: float) -> datetime:
    """Return the aware UTC :class:`~datetime.datetime` for Unix seconds.

    Raises:
        ValidationError: The value is not a number, or outside the range a datetime can hold.
    """
    number = argument_number(seconds, field="seconds")
    try:
        return datetime.fromtimestamp(number, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ValidationError(f"{number:g} is outside the range of dates", field="seconds") from None


class _At:
    """A clock that shows one instant, unchecked: the ``now`` a verifier already read.

    A :class:`FixedClock` would refuse a NaN; this one hands it on, so that :func:`check_freshness`
    refuses the timestamp (a NaN is never within the tolerance).
    """

    __slots__ = ("_now",)

    def __init__(self, now: float) -> None:
        self._now = now

    def time(self) -> float:
        return self._now


def check_freshness(
    timestamp: float,
    *,
    clock: Clock,
    tolerance: float,
    vendor: str | None = None,
    header: str | None = None,
) -> None:
    """Check that ``timestamp`` lies within ``tolerance`` seconds of the clock, either way.

    The boundary is inclusive: a timestamp exactly ``tolerance`` seconds away is accepted.

    Raises:
        TimestampOutsideToleranceError: The timestamp is too old or too far in the future. The error
            carries the skew, so a wrong server clock is easy to spot.
    """
    timestamp = argument_number(timestamp, field="timestamp")
    clock = check_clock(clock) or SystemClock()
    tolerance = tolerance_seconds(tolerance)
    now = clock.time()
    skew = timestamp - now
    if abs(skew) <= tolerance:
        return
    direction = "old" if skew < 0 else "in the future"
    raise TimestampOutsideToleranceError(
        f"the request timestamp is {abs(skew):.0f} s {direction}, more than the {tolerance:g} s "
        "tolerance: check this server's clock (NTP) or raise the tolerance",
        timestamp=timestamp,
        now=now,
        tolerance=tolerance,
        vendor=vendor,
        header=header,
    )


def parse_iso_date(text: str) -> date:
    """Read an ISO 8601 calendar date, ``YYYY-MM-DD``, the same way on every Python version.

    Raises:
        ValueError: ``text`` is not such a date, or not a real day.
    """
    match = _ISO_DATE_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError("expected an ISO 8601 date, YYYY-MM-DD")
    year, month, day = (int(part) for part in match.groups())
    return date(year, month, day)


def parse_iso_datetime(text: str, *, assume: tzinfo | None = None) -> datetime:
    """Read an ISO 8601 date and time, the same way on every Python version.

    The grammar is ``YYYY-MM-DD``, then ``T``, ``t`` or a space, ``HH:MM``, optionally ``:SS`` and a
    fraction of a second (``.`` or ``,`` then digits; digits past microseconds are cut, as Python 3.11+
    does), and optionally an offset: ``Z``, ``+HH``, ``+HHMM``, ``+HH:MM`` or ``+HH:MM:SS``. A time without
    an offset takes ``assume`` when it is given; without it the result is naive.

    Raises:
        ValueError: ``text`` does not follow the grammar, or names a time that does not exist.
    """
    match = _ISO_DATETIME_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError("expected an ISO 8601 date and time, YYYY-MM-DDTHH:MM[:SS[.fff]][offset]")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m, off_s = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz: tzinfo | None = assume
    if zulu:
        tz = timezone.utc
    elif sign:
        offset = timedelta(hours=int(off_h), minutes=int(off_m or 0), seconds=int(off_s or 0))
        if int(off_m or 0) > 59 or int(off_s or 0) > 59 or offset >= timedelta(hours=24):
            raise ValueError("the UTC offset is out of range")
        tz = timezone(-offset if sign == "-" else offset)
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=tz
    )


def _preview(value: str, limit: int = 24) -> str:
    shown = value if len(value) <= limit else value[:limit] + "..."
    return repr(shown)
