"""The HTTP transport every vendor client uses.

One :class:`Transport` wraps one :class:`requests.Session` (yours, if you pass it: proxies, client
certificates and CA bundles are set there). It gives every request a timeout and an
``examkit/<version>`` user agent, retries only idempotent requests (never POST or PATCH) with
exponential backoff that honours ``Retry-After``, and turns every failure into the
:class:`~examkit.core.errors.ApiError` family with secrets scrubbed from messages.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

import attrs
import requests

from examkit._version import __version__
from examkit.core._copying import deepcopy_sharing
from examkit.core._repr import safe_repr
from examkit.core.errors import (
    ApiError,
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)
from examkit.core.serde import load_json
from examkit.core.signing import Secret
from examkit.core.webhook import Headers

__all__ = [
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "USER_AGENT",
    "HttpResponse",
    "RetryPolicy",
    "Transport",
]

logger = logging.getLogger("examkit.http")

USER_AGENT: Final = f"examkit/{__version__}"
"""The ``User-Agent`` examkit sends."""

DEFAULT_TIMEOUT: Final = (5.0, 30.0)
"""Connect and read timeouts in seconds."""

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods that may be retried automatically. POST and PATCH never are."""

_EXCERPT_CHARS: Final = 500
_REDACT_CHARS: Final = 64 * 1024  # how much of an error body is searched for secrets before the cut
_BAD_URL: Final = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
)


@attrs.frozen
class RetryPolicy:
    """When and how often a safe request is tried again.

    Attributes:
        max_attempts: Attempts in all, the first included (1 disables retries).
        backoff: Base of the exponential backoff in seconds (``backoff * 2 ** (attempt - 1)``, with
            jitter of up to half of that added).
        max_backoff: The longest wait between attempts, in seconds.
        retry_statuses: Statuses worth another try.
        max_retry_after: The longest ``Retry-After`` honoured; a vendor asking for more gets a
            :class:`~examkit.core.errors.RateLimitError` at once.
    """

    max_attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    max_retry_after: float = 60.0

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            raise ConfigurationError("max_attempts must be a whole number of at least 1", setting="retry")
        for name in ("backoff", "max_backoff", "max_retry_after"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0:
                raise ConfigurationError(f"{name} must be a non-negative number of seconds", setting="retry")

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)

    def delay(self, attempt: int) -> float:
        """Return the wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        base = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        jitter = random.uniform(0, base / 2)  # noqa: S311 - jitter, not cryptography
        return float(min(self.max_backoff, base + jitter))


@attrs.frozen
class HttpResponse:
    """A vendor's HTTP response, read in full.

    Attributes:
        status_code: The HTTP status.
        headers: The response headers (case-insensitive).
        body: The raw body bytes.
        url: The URL that answered (without query string).
    """

    status_code: int
    headers: Headers
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    url: str
    vendor: str | None = None

    @property
    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """Decode the body as JSON (see :func:`examkit.core.serde.load_json`).

        Raises:
            PayloadError: The body is not JSON.
        """
        return load_json(self.body, vendor=self.vendor)

    @property
    def ok(self) -> bool:
        """Whether the status is below 400."""
        return self.status_code < 400


def _strip_query(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _parse_retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is true; only ASCII digits are seconds
        return min(float(value), 1e9)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now)


class Transport:
    """Sends a vendor's HTTP requests with timeouts, safe retries and error mapping.

    Args:
        vendor: The vendor's name, carried by every error.
        session: A :class:`requests.Session` to use (for proxies, certificates, adapters). examkit
            never changes it and does not close it. Without one, the transport makes and owns its own.
        timeout: Seconds for connecting and reading, as one number or a ``(connect, read)`` pair.
        retry: The retry policy for idempotent requests.
        secrets: Secrets to scrub from any text that ends up in an error message or log.
        sleep: The function used to wait between attempts (tests inject a fake).
        clock: The function that tells the time, for ``Retry-After`` dates.
    """

    def __init__(
        self,
        *,
        vendor: str,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        secrets: Iterable[Secret] = (),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(timeout, int | float) and not isinstance(timeout, bool):
            timeout = (float(timeout), float(timeout))
        if (
            not isinstance(timeout, tuple)
            or len(timeout) != 2
            or not all(isinstance(t, int | float) and t > 0 for t in timeout)
        ):
            raise ConfigurationError(
                "timeout must be a positive number of seconds or a (connect, read) pair",
                setting="timeout",
                vendor=vendor,
            )
        self.vendor = vendor
        self.timeout: tuple[float, float] = (float(timeout[0]), float(timeout[1]))
        self.retry = retry or RetryPolicy()
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self._secrets = tuple(secrets)
        self._sleep = sleep
        self._clock = clock

    def close(self) -> None:
        """Close the session if the transport made it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __deepcopy__(self, memo: dict[int, Any]) -> Transport:
        # A new transport with its own settings; the session (its connection pool, adapters and
        # cookies), sleep and clock are shared, so a copied client talks through the same session.
        return deepcopy_sharing(
            self,
            memo,
            self.session,
            self._sleep,
            self._clock,
        )

    @safe_repr
    def __repr__(self) -> str:
        return f"Transport(vendor={self.vendor!r}, timeout={self.timeout!r}, retry={self.retry!r})"

    def redact(self, text: str) -> str:
        r"""Replace every configured secret in ``text`` with ``***``.

        Besides the secret as given and its key bytes as text, the forms a vendor's error page may echo
        are replaced too: JSON-escaped (``\/``, ``\uXXXX``) and percent-encoded. Redact whole texts
        before cutting them, so that no secret is cut in half and missed.
        """
        # Forms are derived here, on the error path, so that no attribute holds a secret in plain text;
        # longest first, since one form may contain another.
        forms = sorted(
            {form for secret in self._secrets for form in _secret_forms(secret)}, key=len, reverse=True
        )
        for form in forms:
            if form in text:
                text = text.replace(form, "***")
        return text

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        sign: Callable[[str, str, bytes], Mapping[str, str]] | None = None,
        retry: bool | None = None,
        expected: Iterable[int] = (),
    ) -> HttpResponse:
        """Send one request and return its response, or raise an :class:`~examkit.core.errors.ApiError`.

        Args:
            method: The HTTP method.
            url: The absolute URL, without query string (pass ``params`` for that).
            params: Query parameters.
            headers: Headers for every attempt.
            body: The exact body bytes to send.
            sign: Called before every attempt with ``(method, prepared_url, body)``; the headers it
                returns are added. Use it for schemes that sign a fresh timestamp or nonce.
            retry: Force retrying on (only honoured for idempotent methods) or off. By default
                idempotent methods are retried and others never are.
            expected: Error statuses to return as responses instead of raising (for example 404
                when "not found" is an answer, not a failure).

        Raises:
            ApiError: The vendor answered with an error status.
            TransportError: No response arrived (timeout, connection failure).
            ConfigurationError: The URL is not a valid http(s) URL.
        """
        method = method.upper()
        idempotent = method in IDEMPOTENT_METHODS
        may_retry = idempotent if retry is None else (retry and idempotent)
        attempts = self.retry.max_attempts if may_retry else 1
        expected_statuses = frozenset(expected)
        base_headers = {"User-Agent": USER_AGENT, **(headers or {})}
        payload = body if body is not None else b""
        shown_url = _strip_query(url)

        for attempt in range(1, attempts + 1):
            prepared = requests.Request(method, url, params=params, headers=base_headers, data=body)
            try:
                prep = self.session.prepare_request(prepared)
                if sign is not None:
                    prep.headers.update(sign(method, prep.url or url, payload))
                logger.debug("%s %s %s (attempt %d/%d)", self.vendor, method, shown_url, attempt, attempts)
                raw = self.session.send(prep, timeout=self.timeout, allow_redirects=False)
            except _BAD_URL as exc:
                raise ConfigurationError(
                    f"invalid URL for {self.vendor} ({type(exc).__name__}): use an absolute http(s) URL",
                    setting="base_url",
                    vendor=self.vendor,
                ) from None
            except requests.RequestException as exc:
                if attempt < attempts:
                    self._sleep(self.retry.delay(attempt))
                    continue
                kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
                raise TransportError(
                    f"{method} {shown_url} {kind} ({type(exc).__name__}); nothing was received"
                    + ("" if idempotent else ", and it was not retried"),
                    vendor=self.vendor,
                    method=method,
                    url=shown_url,
                ) from None
            response = HttpResponse(
                status_code=raw.status_code,
                headers=Headers(list(raw.headers.items())),
                body=raw.content,
                url=shown_url,
                vendor=self.vendor,
            )
            logger.debug("%s %s %s -> %d", self.vendor, method, shown_url, raw.status_code)
            if response.status_code < 400 or response.status_code in expected_statuses:
                return response
            if attempt < attempts and response.status_code in self.retry.retry_statuses:
                wait = self.retry.delay(attempt)
                retry_after = _parse_retry_after(response.headers.get("Retry-After"), self._clock())
                if retry_after is not None:
                    if retry_after > self.retry.max_retry_after:
                        raise self._error(method, shown_url, response)
                    wait = max(wait, retry_after)
                self._sleep(wait)
                continue
            raise self._error(method, shown_url, response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, method: str, url: str, response: HttpResponse) -> ApiError:
        status = response.status_code
        # Redact before cutting: a secret across the cut would otherwise slip through in halves.
        excerpt = self.redact(response.text[:_REDACT_CHARS])[:_EXCERPT_CHARS].strip()
        detail = f": {excerpt[:200]}" if excerpt else ""
        common: dict[str, Any] = {
            "vendor": self.vendor,
            "status_code": status,
            "method": method,
            "url": url,
            "response_excerpt": excerpt or None,
        }
        if status in (401, 403):
            return AuthenticationError(
                f"{self.vendor} refused the credentials ({status}) for {method} {url}: check the "
                f"configured keys and that they belong to this environment{detail}",
                **common,
            )
        if status == 404:
            return NotFoundError(f"{self.vendor} found nothing at {method} {url} (404){detail}", **common)
        if status == 429:
            retry_after = _parse_retry_after(response.headers.get("Retry-After"), self._clock())
            return RateLimitError(
                f"{self.vendor} is rate limiting requests (429) for {method} {url}"
                + (f"; retry after {retry_after:.0f} s" if retry_after is not None else "")
                + detail,
                retry_after=retry_after,
                **common,
            )
        if status >= 500:
            return ServerError(
                f"{self.vendor} failed on its side ({status}) for {method} {url}{detail}", **common
            )
        return ApiError(f"{self.vendor} rejected {method} {url} ({status}){detail}", **common)


def _secret_forms(secret: Secret) -> tuple[str, ...]:
    plain: list[str] = []
    with contextlib.suppress(ConfigurationError):
        plain.append(secret.reveal())
    with contextlib.suppress(UnicodeDecodeError):
        plain.append(secret.key.decode("utf-8"))
    forms: set[str] = set()
    for text in plain:
        forms.update(
            {
                text,
                text.replace("/", "\\/"),  # PHP's json_encode escapes slashes
                json.dumps(text)[1:-1],  # JSON string escapes (quotes, control and non-ASCII characters)
                json.dumps(text)[1:-1].replace("/", "\\/"),
                quote(text, safe=""),
                quote_plus(text, safe=""),
            }
        )
    # Very short values would blank out unrelated text; real keys are far longer than this.
    return tuple(form for form in forms if len(form) >= 6)
