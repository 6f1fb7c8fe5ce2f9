"""The signature on iTEP fulfillment requests: HMAC-SHA256 of the exact body bytes (API key).

iTEP's documentation says a "special HTTP header" carries an HMAC-SHA256 signature that confirms the
body's integrity, identifies the sender and prevents replays. The copy examkit works from names
neither the header nor the exact string signed, nor the digest's encoding. examkit therefore signs
the raw body bytes (the compact JSON that is sent, serialised once), writes the digest as lower-case
hex by default, and makes the header name a required setting. An optional sequence number source
puts an increasing ``sequence`` field into the body (the vendor's example carries one), so that the
signed bytes differ from one call to the next. All three points are unconfirmed; see the iTEP guide.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal, TypeAlias

from examkit.core._checks import check_time_source
from examkit.core._repr import safe_repr
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    ValidationError,
)
from examkit.core.signing import (
    Secret,
    SecretInput,
    hmac_sha256,
    secrets_from,
    to_base64,
    verify_signature,
)

__all__ = [
    "DEFAULT_ENDPOINT",
    "CounterSequence",
    "DigestEncoding",
    "FulfillmentSigner",
    "SequenceSource",
    "TimeSequence",
    "sign_body",
    "verify_body",
]

_VENDOR: Final = "itep"

DEFAULT_ENDPOINT: Final = "https://www.iteptest.com/requests/ecommerce_webhook.php"
"""The endpoint the vendor documents for every fulfillment call."""

DigestEncoding: TypeAlias = Literal["hex", "HEX", "base64"]
"""How the signature is written: lower-case hex (default), upper-case hex, or padded base64."""

SequenceSource: TypeAlias = Callable[[], int]
"""A callable returning the next sequence number; it must be thread-safe for bulk issuance."""


def _key(api_key: SecretInput) -> Secret:
    if isinstance(api_key, Secret):
        return api_key
    return secrets_from(api_key, name="api_key", vendor=_VENDOR)[0]


def _check_body(body: object) -> bytes:
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    if not isinstance(body, bytes):
        raise ValidationError(
            f"body must be the exact bytes that are sent, not {type(body).__name__}",
            field="body",
            reason="not bytes",
            vendor=_VENDOR,
        )
    return body


def _encode(digest: bytes, encoding: DigestEncoding) -> str:
    if encoding == "base64":
        return to_base64(digest)
    text = digest.hex()
    return text.upper() if encoding == "HEX" else text


def sign_body(*, api_key: SecretInput, body: bytes) -> str:
    """Return the HMAC-SHA256 of ``body`` under ``api_key`` as lower-case hex.

    Sign the exact bytes you send: serialise the JSON once and reuse those bytes.

    >>> sign_body(api_key="key", body=b'{"product-code":"GTX-Academic-Plus"}')[:16]
    'c0a1cb0fc717ec49'

    Args:
        api_key: The API key from the PRODUCT CODES screen (its UTF-8 bytes are the HMAC key).
        body: The request body bytes.

    Raises:
        ConfigurationError: The API key is empty or not text or bytes.
        ValidationError: The body is not bytes.
    """
    api_key = _key(api_key)  # masked from here on: no raw key in this frame's locals
    return hmac_sha256(api_key.key, _check_body(body)).hex()


def verify_body(
    *,
    api_key: SecretInput | Sequence[SecretInput],
    body: bytes,
    signature: str | None,
    encoding: DigestEncoding = "hex",
    header: str | None = None,
) -> None:
    """Check that ``signature`` is the HMAC-SHA256 of ``body`` under ``api_key`` (or one of them).

    The comparison is on the decoded digest bytes and in constant time; hex is accepted in either
    case. Used by :mod:`examkit.testing.itep` and handy for checking your own requests.

    Raises:
        MissingSignatureError: No signature.
        MalformedSignatureError: The signature cannot be decoded.
        SignatureMismatchError: It does not match.
    """
    keys = secrets_from(api_key, name="api_key", vendor=_VENDOR)
    del api_key  # only the masked form stays among this frame's locals
    given: object = signature
    if given is not None and not isinstance(given, str | bytes):
        raise MalformedSignatureError(
            f"the signature must be text, not {type(given).__name__}",
            vendor=_VENDOR,
            reason="not text",
            header=header,
        )
    if signature is None or not signature.strip():
        raise MissingSignatureError(
            "the request carries no signature" + (f" in {header}" if header else ""),
            vendor=_VENDOR,
            reason="missing signature",
            header=header,
        )
    verify_signature(
        secrets=keys,
        message=_check_body(body),
        signature=signature,
        algorithm="sha256",
        encoding="base64" if encoding == "base64" else "hex",
        vendor=_VENDOR,
        header=header,
    )


class FulfillmentSigner:
    """Builds the signature header for a fulfillment body.

    Args:
        api_key: The API key (kept as a :class:`~examkit.core.signing.Secret`).
        header: The name of the header that carries the signature. Required: the vendor's documents
            do not name it.
        encoding: How the digest is written (unconfirmed; lower-case hex by default).

    Raises:
        ConfigurationError: No header name, or an unknown encoding.
    """

    __slots__ = ("_encoding", "_header", "_key")

    def __init__(self, *, api_key: SecretInput, header: str, encoding: DigestEncoding = "hex") -> None:
        name: object = header
        if (
            not isinstance(name, str)
            or not name.strip()
            or not name.isascii()
            or not name.isprintable()
            or any(c in name for c in ":\r\n ")
        ):
            raise ConfigurationError(
                "signature_header must be the header name iTEP gave you for the signature (it is "
                "not in the public documents, so examkit has no default)",
                setting="signature_header",
                vendor=_VENDOR,
            )
        if not isinstance(encoding, str) or encoding not in ("hex", "HEX", "base64"):
            raise ConfigurationError(
                "signature_encoding must be 'hex', 'HEX' or 'base64'",
                setting="signature_encoding",
                vendor=_VENDOR,
            )
        self._key = _key(api_key)
        self._header = header.strip()
        self._encoding: DigestEncoding = encoding

    @property
    def header(self) -> str:
        """The signature header's name."""
        return self._header

    @property
    def encoding(self) -> DigestEncoding:
        """The digest encoding."""
        return self._encoding

    def signature(self, body: bytes) -> str:
        """Return the signature of ``body`` in the configured encoding."""
        return _encode(hmac_sha256(self._key.key, _check_body(body)), self._encoding)

    def headers(self, body: bytes) -> dict[str, str]:
        """Return the header to add to a request with this body."""
        return {self._header: self.signature(body)}

    @safe_repr
    def __repr__(self) -> str:
        return f"FulfillmentSigner(header={self._header!r}, encoding={self._encoding!r})"


class CounterSequence:
    """A thread-safe counter for the ``sequence`` field: ``start``, ``start + 1``, ...

    Keep its last value somewhere durable if iTEP enforces increasing numbers across runs.

    >>> seq = CounterSequence(start=3)
    >>> seq(), seq()
    (3, 4)
    """

    def __init__(self, start: int = 1) -> None:
        if isinstance(start, bool) or not isinstance(start, int):
            raise ConfigurationError("start must be an integer", setting="start", vendor=_VENDOR)
        self._counter = itertools.count(start)
        self._lock = threading.Lock()

    def __call__(self) -> int:
        """Return the next number."""
        with self._lock:
            return next(self._counter)

    def __copy__(self) -> CounterSequence:
        return self  # shared state: a copy must remember (and count) what the original does

    def __deepcopy__(self, memo: dict[int, Any]) -> CounterSequence:
        return self

    @safe_repr
    def __repr__(self) -> str:
        return "CounterSequence()"


class TimeSequence:
    """Sequence numbers from the clock, in milliseconds, strictly increasing within the process.

    Args:
        clock: Returns Unix seconds (``time.time`` by default).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = check_time_source(clock, vendor=_VENDOR)
        self._last = 0
        self._lock = threading.Lock()

    def __call__(self) -> int:
        """Return the next number (the clock in ms, or one more than the last number)."""
        with self._lock:
            value = max(int(self._clock() * 1000), self._last + 1)
            self._last = value
            return value

    def __copy__(self) -> TimeSequence:
        return self  # shared state: a copy must remember (and count) what the original does

    def __deepcopy__(self, memo: dict[int, Any]) -> TimeSequence:
        return self

    @safe_repr
    def __repr__(self) -> str:
        return "TimeSequence()"
