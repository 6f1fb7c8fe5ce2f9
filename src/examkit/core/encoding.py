"""Named percent-encoding variants and compact JSON bytes.

Vendors sign strings that contain percent-encoded values, and each vendor means a different
percent-encoding. Each variant here is named after what it reproduces, and all of them encode text as
UTF-8 first and write upper-case hex. They differ only in which characters stay as they are and how a
space is written:

=========================== ================================== ============ ===================
variant                     characters left as they are        space        ``"a b/c~d*e'f"``
=========================== ================================== ============ ===================
``RFC3986``                 ``A-Z a-z 0-9 - . _ ~``            ``%20``      ``a%20b%2Fc~d%2Ae%27f``
``ENCODE_URI_COMPONENT``    the above and ``! ' ( ) *``        ``%20``      ``a%20b%2Fc~d*e'f``
``PHP_URLENCODE``           ``A-Z a-z 0-9 - . _``              ``+``        ``a+b%2Fc%7Ed%2Ae%27f``
``PYTHON_QUOTE``            ``A-Z a-z 0-9 - . _ ~ /``          ``%20``      ``a%20b/c~d%2Ae%27f``
``QUOTE_PLUS``              ``A-Z a-z 0-9 - . _ ~``            ``+``        ``a+b%2Fc~d%2Ae%27f``
=========================== ================================== ============ ===================
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, quote_plus

from examkit.core._enums import StrEnum
from examkit.core.errors import ValidationError

__all__ = [
    "PercentEncoding",
]


class PercentEncoding(StrEnum):
    """A percent-encoding variant, named after the function whose output it reproduces."""

    RFC3986 = "rfc3986"
    """RFC 3986 unreserved characters only: ``"a b/c"`` becomes ``"a%20b%2Fc"``."""

    ENCODE_URI_COMPONENT = "encodeURIComponent"
    """JavaScript's ``encodeURIComponent``: also keeps ``! ' ( ) *``; ``"a b!"`` becomes ``"a%20b!"``."""

    PHP_URLENCODE = "php_urlencode"
    """PHP's ``urlencode``: space as ``+``, ``~`` encoded; ``"a b~"`` becomes ``"a+b%7E"``."""

    PYTHON_QUOTE = "python_quote"
    """Python's ``urllib.parse.quote(value, safe="/")``: keeps ``/``; ``"a b/c"`` becomes ``"a%20b/c"``."""

    QUOTE_PLUS = "quote_plus"
    """Python's ``urllib.parse.quote_plus``: space as ``+``, ``/`` encoded; ``"a b/c"`` is ``"a+b%2Fc"``."""


def percent_encode(value: str, variant: PercentEncoding) -> str:
    """Percent-encode ``value`` the way ``variant`` does.

    >>> percent_encode("Zoë Smith+1@example.com", PercentEncoding.RFC3986)
    'Zo%C3%AB%20Smith%2B1%40example.com'
    >>> percent_encode("Zoë Smith+1@example.com", PercentEncoding.PHP_URLENCODE)
    'Zo%C3%AB+Smith%2B1%40example.com'

    Raises:
        ValidationError: The text cannot be encoded as UTF-8 (it holds a lone surrogate).
    """
    if not isinstance(value, str):
        raise ValidationError(f"the value must be text, not {type(value).__name__}", reason="not text")
    if not isinstance(variant, PercentEncoding):
        raise ValidationError("variant must be a PercentEncoding", field="variant", reason="wrong type")
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "the value contains characters that cannot be encoded as UTF-8", reason="not UTF-8"
        ) from None
    if variant is PercentEncoding.RFC3986:
        return quote(data, safe="")
    if variant is PercentEncoding.ENCODE_URI_COMPONENT:
        return quote(data, safe="!'()*")
    if variant is PercentEncoding.PHP_URLENCODE:
        return quote_plus(data, safe="").replace("~", "%7E")
    if variant is PercentEncoding.PYTHON_QUOTE:
        return quote(data, safe="/")
    return quote_plus(data, safe="")


def canonical_json(value: Any, *, sort_keys: bool = False, ensure_ascii: bool = False) -> bytes:
    r"""Serialise ``value`` as compact JSON bytes: no whitespace, UTF-8, no NaN or Infinity.

    Keys keep their order unless ``sort_keys`` is set, so a body built in the vendor's documented
    order is sent in that order. Sign the bytes this returns and send exactly those bytes.

    >>> canonical_json({"b": 1, "a": [True, None, "é"]})
    b'{"b":1,"a":[true,null,"\xc3\xa9"]}'

    Raises:
        ValidationError: The value holds something JSON cannot represent.
    """
    try:
        text = json.dumps(
            value,
            separators=(",", ":"),
            sort_keys=sort_keys,
            ensure_ascii=ensure_ascii,
            allow_nan=False,
        )
        return text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError) as exc:
        raise ValidationError(f"the body cannot be written as JSON: {exc}", reason="not JSON") from None
