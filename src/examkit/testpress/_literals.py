r"""Testpress's JSON decoder that keeps each number's literal text (for the webhook hash).

The hash takes every value as written in the JSON text (``-0``, ``1e3``, ``0.00``), so the body is
decoded with number hooks that remember a literal ``str`` would not give back. Everything else (UTF-8,
repeated keys, ``NaN``/``Infinity``, lone surrogates, exact fractions, the depth limit) is examkit's one
strict-JSON policy, :func:`examkit.core.serde.decode_strict_json`, shared with
:func:`examkit.core.serde.load_json`. Private: users call the verifier and :func:`webhook_hash`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection
from decimal import Decimal
from typing import Any, Final

from examkit.core.serde import decode_strict_json, json_text
from examkit.testpress._vendor import VENDOR

__all__: list[str] = []


class _LiteralInt(int):
    """An ``int`` that remembers the literal it was parsed from: only ``-0``, whose text ``int`` loses."""

    literal: str

    def __new__(cls, literal: str) -> _LiteralInt:
        obj = super().__new__(cls, literal)
        obj.literal = literal
        return obj


class _LiteralDecimal(Decimal):
    """A :class:`~decimal.Decimal` that remembers a literal its ``str`` does not give back (``1e3``)."""

    __slots__ = ("literal",)
    literal: str

    def __new__(cls, literal: str) -> _LiteralDecimal:
        obj = super().__new__(cls, literal)
        obj.literal = literal
        return obj


_NEGATIVE_ZERO: Final = _LiteralInt("-0")

# Where the literal -0 may stand (a false alarm inside a string only costs the slower decoder).
_NEGATIVE_ZERO_RE: Final = re.compile(rb"-0(?![0-9.eE])")


def load_json_with_literals(body: bytes) -> Any:
    """Decode JSON whose numbers keep their literal text.

    Integers decode to ``int`` and fractions or exponents to :class:`~decimal.Decimal` (as
    :func:`examkit.core.serde.load_json` does); :func:`literal_text` returns the exact literal each
    was written as (``-0``, ``1e3``, ``0.00``).

    Raises:
        PayloadError: The body is not bytes, not UTF-8 or not acceptable JSON under the strict policy;
            ``reason`` is ``"not bytes"``, ``"not UTF-8"``, ``"not JSON"`` or ``"too deep"``.
    """
    return decode_with_literals(body)[0]


def decode_with_literals(body: bytes, *, exact_fields: Collection[str] | None = None) -> tuple[Any, bool]:
    """Decode as :func:`load_json_with_literals` does; also tell whether any number kept a literal.

    Most numbers need no literal of their own: JSON writes every integer but ``-0`` as ``str`` writes
    it, and most fractions (``7.00``, ``0.5``) read back exactly from a plain ``Decimal``. Only the
    others (``-0``, ``1e3``) become literal-keeping objects, so a body of numbers costs one plain
    object per number, and a body without such literals needs no :func:`make_plain` pass.

    ``exact_fields`` names the top-level keys whose literal is read (the hashed ones); an integer
    elsewhere written ``-0`` may then decode to a plain ``0``, which :func:`make_plain` would give
    anyway. ``None``: every ``-0`` keeps its literal.
    """
    if type(body) is not bytes:
        json_text(body, vendor=VENDOR, allow_str=False)  # refuses what is not bytes, or not UTF-8
    raw = bytes(body)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = json_text(raw, vendor=VENDOR)  # raises the usual "not UTF-8" error
    kept = _KEPT.count
    before = len(kept)
    try:
        value = decode_strict_json(text, vendor=VENDOR, from_utf8=True, parse_float=_parse_decimal, raw=raw)
        if _may_hold_negative_zero(value, exact_fields) and _NEGATIVE_ZERO_RE.search(raw):
            # Integers through a Python hook (slow, rare): the literal -0 may stand somewhere.
            value = decode_strict_json(
                text, vendor=VENDOR, from_utf8=True, parse_float=_parse_decimal, parse_int=_parse_int
            )
        return value, len(kept) > before
    finally:
        del kept[before:]


def _may_hold_negative_zero(value: Any, exact_fields: Collection[str] | None) -> bool:
    """Whether a ``0`` whose literal counts was decoded (one of ``exact_fields``, or any)."""
    if exact_fields is None or not isinstance(value, dict):
        return True
    # Also true for a false or a 0.0 (they equal 0): a search for -0 wasted, never one missed.
    return 0 in map(value.get, exact_fields)


class _Kept(threading.local):
    """Per thread: one entry per literal-keeping number made (so a decode can tell it made some)."""

    def __init__(self) -> None:
        self.count: list[None] = []


_KEPT: Final = _Kept()


def _parse_decimal(literal: str) -> Decimal:
    number = Decimal(literal)
    if str(number) == literal:
        return number
    _KEPT.count.append(None)
    return _LiteralDecimal(literal)


def _parse_int(literal: str) -> int:
    if literal == "-0":
        _KEPT.count.append(None)
        return _NEGATIVE_ZERO
    return int(literal)


def literal_text(value: object) -> str | None:
    """Return the text a decoded JSON value contributes to the webhook hash, or ``None`` if none.

    Strings give themselves; numbers decoded by :func:`load_json_with_literals` give their literal
    (an ``int`` or :class:`~decimal.Decimal` without one is written as ``str`` writes it); anything
    else (``true``, ``null``, objects, arrays) gives ``None``.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, _LiteralInt | _LiteralDecimal):
        return value.literal
    try:
        if type(value) is int:
            return str(value)
        if type(value) is Decimal and value.is_finite():
            return str(value)
    except ValueError:  # an integer past Python's digit limit for str(): no JSON decoder makes one
        return None
    return None


def plain_json(value: Any) -> Any:
    """Return ``value`` with each literal-keeping number made a plain ``int`` or ``Decimal``.

    The walk is iterative, so no nesting depth makes it fail.
    """
    root: list[Any] = [value]
    # Each entry is a container already copied and the place it goes: (copy, parent, key).
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        item, parent, key = stack.pop()
        if isinstance(item, dict):
            copy: Any = {}
            parent[key] = copy
            for k, v in item.items():
                if isinstance(v, dict | list):
                    copy[k] = None
                    stack.append((v, copy, k))
                else:
                    copy[k] = _plain_scalar(v)
        elif isinstance(item, list):
            copy = [None] * len(item)
            parent[key] = copy
            for i, v in enumerate(item):
                if isinstance(v, dict | list):
                    stack.append((v, copy, i))
                else:
                    copy[i] = _plain_scalar(v)
        else:
            parent[key] = _plain_scalar(item)
    return root[0]


def make_plain(value: Any) -> Any:
    """Turn the literal-keeping numbers inside decoded JSON plain, in place (no copy), iteratively."""
    if not isinstance(value, dict | list):
        return _plain_scalar(value)
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        for key, item in node.items() if isinstance(node, dict) else enumerate(node):
            if isinstance(item, dict | list):
                stack.append(item)
            elif isinstance(item, _LiteralInt | _LiteralDecimal):
                node[key] = _plain_scalar(item)
    return value


def _plain_scalar(value: Any) -> Any:
    if isinstance(value, _LiteralInt):
        return int(value)
    if isinstance(value, _LiteralDecimal):
        return Decimal(value)
    return value
