"""Integrity Advocate ids as the client sends them: checked, and encoded as one path segment.

Private to examkit: the client and :mod:`examkit.testing.integrity_advocate`'s fake share them, so
the fake refuses exactly the ids the client refuses.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from examkit.core.errors import ValidationError
from examkit.integrity_advocate.models import VENDOR

_MAX_ID: Final = 1000


def check_id(name: str, field: str, value: object) -> str:
    """Return ``value`` if it is an id the client sends; raise :class:`ValidationError` otherwise."""
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_ID or not value.isprintable():
        raise ValidationError(
            f"{name} must be non-empty printable text of at most {_MAX_ID} characters",
            field=field,
            reason="bad id",
            vendor=VENDOR,
        )
    return value


def path_segment(value: str) -> str:
    """``value`` percent-encoded as one path segment (a ``.`` or ``..`` one too)."""
    # A segment that is "." or ".." would be removed as a dot segment (RFC 3986 5.2.4) by the HTTP
    # library before sending; percent-encoded, it stays a segment of that name.
    if value in (".", ".."):
        return value.replace(".", "%2E")
    return quote(value, safe="")
