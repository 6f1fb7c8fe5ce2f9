"""The client side of a fulfillment call: the signer that holds the API key, and sequence sources.

Stateful helpers, kept apart from :mod:`examkit.itep.signing` (pure functions only). The client builds
a :class:`FulfillmentSigner` from its settings; :class:`CounterSequence` and :class:`TimeSequence` are
what users pass as the client's ``sequence``.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import Any, Final, TypeAlias

from examkit.core._checks import check_choice, check_time_source, config_error
from examkit.core._repr import safe_repr
from examkit.core.auth import header_name
from examkit.core.signing import SecretInput
from examkit.itep.models import VENDOR
from examkit.itep.signing import DigestEncoding, key_of, signature

__all__ = ["DEFAULT_ENDPOINT", "CounterSequence", "TimeSequence"]

DEFAULT_ENDPOINT: Final = "https://www.iteptest.com/requests/ecommerce_webhook.php"
"""The endpoint the vendor documents for every fulfillment call."""

SequenceSource: TypeAlias = Callable[[], int]
"""A callable returning the next sequence number; it must be thread-safe for bulk issuance."""


class FulfillmentSigner:
    """Builds the signature header for a fulfillment body.

    Args:
        api_key: The API key (kept as a :class:`~examkit.core.Secret`).
        header: The name of the header that carries the signature. Required: the vendor's documents
            do not name it.
        encoding: How the digest is written (unconfirmed; lower-case hex by default).

    Raises:
        ConfigurationError: No header name, or an unknown encoding.
    """

    __slots__ = ("_encoding", "_header", "_key")

    def __init__(self, *, api_key: SecretInput, header: str, encoding: DigestEncoding = "hex") -> None:
        # The header's name is not in the public documents, so examkit has no default for it.
        self._header = header_name(
            header, setting="signature_header", vendor=VENDOR, example="the header iTEP gave you"
        )
        check_choice(encoding, ("hex", "HEX", "base64"), setting="signature_encoding", vendor=VENDOR)
        self._key = key_of(api_key)
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
        return signature(self._key, body, self._encoding)

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
        if isinstance(start, bool) or not isinstance(start, int):  # users pass it from settings files
            raise config_error("start", "an integer", start, vendor=VENDOR)
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
        self._clock = check_time_source(clock, vendor=VENDOR)
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
