"""What a vendor call is, without I/O: retry decisions, response reading, error mapping, redaction.

A vendor call is data (:class:`_Call`: method, URL, query, the exact body bytes, how to sign each
attempt, how to read the answer). The rules here decide what an attempt's outcome means: whether a
safe request is tried again (only idempotent methods, never POST or PATCH, with exponential backoff
that honours ``Retry-After``), which answers are results, and which :class:`~examkit.ApiError`
the others become, with secrets scrubbed from every message. Nothing here sends a byte.

Two transports move the bytes: ``examkit.core._transport_sync.Transport`` over a
:class:`requests.Session` (the sync clients) and ``examkit.core._transport_async.AsyncTransport``
over an ``httpx.AsyncClient`` (the async clients, extra ``async``). Both give every request a
timeout, a total deadline per attempt and an ``examkit/<version>`` user agent, and read at most
:data:`DEFAULT_MAX_RESPONSE_BYTES` of a response body. This module imports neither HTTP library.

examkit's :class:`RetryPolicy` is the only retry layer. A urllib3 ``Retry`` mounted on your session's
adapter is neutralised for examkit's requests, so a POST or PATCH reaches the vendor at most once and
a GET is sent at most ``RetryPolicy.max_attempts`` times.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import html
import json
import logging
import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Generic, TypeVar
from urllib.parse import quote, quote_plus, unquote, urlencode, urljoin, urlsplit, urlunsplit

import attrs

from examkit._version import __version__
from examkit.core._checks import check_count, check_seconds, check_timeout
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
    "RetryPolicy",
]

logger = logging.getLogger("examkit.http")

USER_AGENT: Final = f"examkit/{__version__}"
"""The ``User-Agent`` examkit sends."""

DEFAULT_TIMEOUT: Final = (5.0, 30.0)
"""Connect and read timeouts in seconds."""

DEFAULT_DEADLINE: Final = 60.0
"""The longest one attempt may take in all (connect, send, wait, read the body), in seconds.

The read timeout restarts with every byte that arrives, so a server trickling its answer would hold a
call for ever without it. Past the deadline the attempt fails with a
:class:`~examkit.TransportError`.
"""

DEFAULT_MAX_RESPONSE_BYTES: Final = 10 * 1024 * 1024
"""The most response-body bytes examkit reads (10 MiB, counted after decompression).

A larger answer, or one that inflates past it (a gzip bomb), fails with a
:class:`~examkit.TransportError` without being read in full.
"""

MAX_RESPONSE_CAP: Final = 2**40  # a cap larger than 1 TiB is no cap, only a mistyped setting

WITHHELD: Final = "vendor text withheld: it may contain a credential"
"""What stands in an error for a vendor's text that looks like it echoes a secret."""

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods that may be retried automatically. POST and PATCH never are."""

_EXCERPT_CHARS: Final = 500
_CHUNK: Final = 8192  # bytes read (and decompressed) at a time; bounds a gzip bomb's step
_FRAGMENT: Final = 10  # a run this long of any form of a secret withholds the vendor's text
_T = TypeVar("_T")
_REDACT_CHARS: Final = 64 * 1024  # how much of an error body is searched for secrets before the cut


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
            :class:`~examkit.RateLimitError` at once.
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


@attrs.frozen
class _Failure:
    """Why an attempt produced no usable response (no exception object: it would hold frames)."""

    kind: str  # "config", "deadline", "too-large", "timeout", "failed"
    detail: str
    sent: bool = True
    status_code: int | None = None


def _safe_location(base: str, location: str | None) -> str:
    if not location:
        return "an unnamed location"
    try:
        parts = urlsplit(urljoin(base, location.strip()))
    except ValueError:
        return "<invalid url>"
    host = parts.hostname or ""
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _with_query(url: str, params: Mapping[str, str] | None) -> str:
    """``url`` with ``params`` appended the way :mod:`requests` encodes them (``urlencode``)."""
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(list(params.items()))


@attrs.frozen
class _Call(Generic[_T]):
    """One vendor call as data: what to send, how to sign each attempt, how to read the answer.

    The sync and the async clients of a vendor build the same ``_Call`` and hand it to their
    transport's ``run``; only the transport does I/O.
    """

    method: str
    url: str
    read: Callable[[HttpResponse], _T]
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None
    body: bytes | None = attrs.field(default=None, repr=False)
    sign: Callable[[str, str, bytes], Mapping[str, str]] | None = attrs.field(default=None, repr=False)
    retry: bool | None = None
    expected: tuple[int, ...] = ()
    remap: Callable[[ApiError], ApiError | None] | None = attrs.field(default=None, repr=False)


@attrs.frozen
class _Plan:
    """The retry plan of one request: how many attempts, and what each attempt's outcome means."""

    rules: _Rules
    method: str
    shown_url: str
    idempotent: bool
    attempts: int
    expected: frozenset[int]

    def judge(self, outcome: HttpResponse | _Failure, attempt: int) -> HttpResponse | float:
        """Return the response to hand back, or the seconds to wait before the next attempt.

        Raises:
            ApiError: The outcome is an error that is not retried (any more).
            ConfigurationError: The URL is not a valid http(s) URL.
        """
        rules, method, shown_url = self.rules, self.method, self.shown_url
        if isinstance(outcome, _Failure):
            if outcome.kind == "config":
                raise ConfigurationError(
                    f"invalid URL for {rules.vendor} ({outcome.detail}): use an absolute http(s) URL",
                    setting="base_url",
                    vendor=rules.vendor,
                )
            if attempt < self.attempts and outcome.kind != "too-large":
                return rules.retry.delay(attempt)
            raise rules._transport_error(method, shown_url, outcome, self.idempotent)
        response = outcome
        logger.debug("%s %s %s -> %d", rules.vendor, method, shown_url, response.status_code)
        if 200 <= response.status_code < 300 or response.status_code in self.expected:
            return response
        if attempt < self.attempts and response.status_code in rules.retry.retry_statuses:
            wait = rules.retry.delay(attempt)
            retry_after = _parse_retry_after(response.headers.get("Retry-After"), rules._clock())
            if retry_after is not None:
                if retry_after > rules.retry.max_retry_after:
                    raise rules._error(method, shown_url, response)
                wait = max(wait, retry_after)
            return wait
        raise rules._error(method, shown_url, response)


class _Rules:
    """The I/O-free half of a transport: its settings, retry plans, error mapping and redaction.

    ``Transport`` (sync) and ``AsyncTransport`` subclass it and add only sending and reading.
    """

    vendor: str
    timeout: tuple[float, float]
    deadline: float
    max_response_bytes: int
    retry: RetryPolicy
    _secrets: tuple[Secret, ...]
    _clock: Callable[[], float]

    def _configure(
        self,
        *,
        vendor: str,
        timeout: float | tuple[float, float],
        retry: RetryPolicy | None,
        secrets: Iterable[Secret],
        clock: Callable[[], float],
        deadline: float,
        max_response_bytes: int,
    ) -> None:
        if isinstance(timeout, int | float) and not isinstance(timeout, bool):
            timeout = (timeout, timeout)
        if not isinstance(timeout, tuple) or len(timeout) != 2:
            raise ConfigurationError(
                "timeout must be a positive number of seconds or a (connect, read) pair",
                setting="timeout",
                vendor=vendor,
            )
        check_timeout(timeout, vendor=vendor)
        check_seconds(deadline, setting="deadline", vendor=vendor)
        check_count(max_response_bytes, setting="max_response_bytes", vendor=vendor, most=MAX_RESPONSE_CAP)
        self.vendor = vendor
        self.timeout = (float(timeout[0]), float(timeout[1]))
        self.deadline = float(deadline)
        self.max_response_bytes = max_response_bytes
        self.retry = retry or RetryPolicy()
        self._secrets = tuple(secrets)
        self._clock = clock

    def plan(self, method: str, url: str, *, retry: bool | None, expected: Iterable[int]) -> _Plan:
        """Return the retry plan of one request (idempotent methods only are ever retried)."""
        method = method.upper()
        idempotent = method in IDEMPOTENT_METHODS
        may_retry = idempotent if retry is None else (retry and idempotent)
        return _Plan(
            rules=self,
            method=method,
            shown_url=_strip_query(url),
            idempotent=idempotent,
            attempts=self.retry.max_attempts if may_retry else 1,
            expected=frozenset(expected),
        )

    def response(self, status: int, headers: Headers, body: bytes, url: str) -> HttpResponse:
        """Wrap what a transport read into an :class:`HttpResponse`."""
        return HttpResponse(
            status_code=status, headers=headers, body=body, url=_strip_query(url), vendor=self.vendor
        )

    def redact(self, text: str) -> str:
        r"""Return ``text`` safe to show: secrets replaced with ``***``, or all of it withheld.

        The text is first normalised: JSON escapes (``\u002B``, ``\/``), JavaScript escapes
        (``\x2B``, ``\u{2B}``, ``%u002B``), percent escapes in either case (``%2b``) and HTML entities
        (``&#43;``, ``&#x2B;``, ``&plus;``) are decoded; a secret written with look-alike characters
        (``&hyphen;`` decodes to U+2010, full-width forms) is found through them too. Every
        configured secret, in those forms and as base64 (standard or URL-safe) or hex, is replaced.
        If any run of :data:`_FRAGMENT` characters of any such form is still there (a secret cut in
        half, or written some other way), or a long credential-shaped token is, the whole text is
        replaced by :data:`WITHHELD`. Redact whole texts before cutting them.
        """
        return _redact(text, self._secrets)

    def _transport_error(self, method: str, url: str, failure: _Failure, idempotent: bool) -> TransportError:
        if failure.kind == "deadline":
            what = f"did not complete in time ({failure.detail}; set deadline to change it)"
        elif failure.kind == "too-large":
            what = (
                f"answered {failure.status_code} with a body of {failure.detail}, the response-size "
                "cap; it was not read (set max_response_bytes to change it)"
            )
        elif failure.kind == "timeout":
            what = f"timed out ({failure.detail})"
        else:
            what = f"failed ({failure.detail})"
        if failure.kind != "too-large":
            what += "; nothing was received"
        if not failure.sent:
            what += f", and nothing was sent: the connection to {self.vendor} was never established"
        elif not idempotent:
            what += f", and it was not retried: {self.vendor} may have received it"
        return TransportError(
            f"{method} {url} {what}",
            vendor=self.vendor,
            method=method,
            url=url,
            status_code=failure.status_code,
            may_have_been_sent=failure.sent,
        )

    def _redirect_error(
        self, method: str, url: str, response: HttpResponse, common: dict[str, Any]
    ) -> ApiError:
        if response.status_code == 304:
            return ApiError(
                f"{self.vendor} answered {method} {url} with 304 (not modified), which examkit never "
                "asks for; 3xx answers and redirects are not followed: check the configured URL and "
                "any proxy in between",
                **common,
            )
        where = _redact(_safe_location(url, response.headers.get("Location")), self._secrets)
        return ApiError(
            f"{self.vendor} answered {method} {url} with a redirect ({response.status_code}) to "
            f"{where}, and redirects are not followed: check the configured URL (https, host and path)",
            **common,
        )

    def _error(self, method: str, url: str, response: HttpResponse) -> ApiError:
        status = response.status_code
        # Redact before cutting: a secret across the cut would otherwise slip through in halves.
        excerpt = _redact(response.text[:_REDACT_CHARS], self._secrets)[:_EXCERPT_CHARS].strip()
        detail = f": {excerpt[:200]}" if excerpt else ""
        common: dict[str, Any] = {
            "vendor": self.vendor,
            "status_code": status,
            "method": method,
            "url": url,
            "response_excerpt": excerpt or None,
        }
        if status < 200 or 300 <= status < 400:
            return self._redirect_error(method, url, response, common)
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


_JSON_ESCAPE: Final = re.compile(r"\\(?:u([0-9a-fA-F]{4})|([\"\\/bfnrt]))")
_JSON_SIMPLE: Final = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_JS_ESCAPE: Final = re.compile(r"\\x([0-9a-fA-F]{2})|\\u\{([0-9a-fA-F]{1,6})\}|%u([0-9a-fA-F]{4})")
_TOKEN: Final = re.compile(r"[A-Za-z0-9+/_=-]{32,}")
# Characters that read as an ASCII one (what HTML's &hyphen;, &dash; and &minus; decode to), for
# finding a secret echoed with them; NFKC folds the full-width forms.
_DASHES: Final = {ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d"}


def _json_unescape(match: re.Match[str]) -> str:
    code, simple = match.group(1), match.group(2)
    if code is not None:
        return chr(int(code, 16))
    return _JSON_SIMPLE.get(simple, simple)


def _js_unescape(match: re.Match[str]) -> str:
    code = int(next(group for group in match.groups() if group is not None), 16)
    return chr(code) if code <= 0x10FFFF else match.group(0)


def _normalise(text: str) -> str:
    """Decode JSON, JavaScript and percent escapes (either case) and HTML entities, until nothing changes."""
    for _ in range(4):
        before = text
        text = _JSON_ESCAPE.sub(_json_unescape, text)
        text = _JS_ESCAPE.sub(_js_unescape, text)
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # join \\u pairs
        text = html.unescape(text)
        text = unquote(text, errors="replace")
        if text == before:
            break
    return text


def _secret_texts(secret: Secret) -> list[str]:
    plain: list[str] = []
    with contextlib.suppress(ConfigurationError):
        plain.append(secret.reveal())
    with contextlib.suppress(UnicodeDecodeError):
        plain.append(secret.key.decode("utf-8"))
    return plain


def _encoded_forms(secret: Secret) -> set[str]:
    """Base64 (both alphabets, every alignment, so inside ``user:key`` too) and hex of a secret."""
    raws = {secret.key, *(text.encode("utf-8") for text in _secret_texts(secret))}
    forms: set[str] = set()
    for raw in raws:
        forms.add(raw.hex())
        for pad in range(3):
            encoded = base64.b64encode(b"\0" * pad + raw).decode("ascii")
            start = -(-pad * 4 // 3) + (1 if pad else 0)  # skip characters the padding touched
            inner = encoded[start:].rstrip("=")
            inner = inner[: len(inner) - 3] if pad or len(raw) % 3 else inner
            for form in (inner, inner.replace("+", "-").replace("/", "_")):
                forms.add(form)
    return forms


def _secret_forms(secret: Secret) -> tuple[str, ...]:
    forms: set[str] = set()
    for text in _secret_texts(secret):
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
    forms.update(_encoded_forms(secret))
    # Very short values would blank out unrelated text; real keys are far longer than this.
    return tuple(form for form in forms if len(form) >= 6)


def _fragments(form: str) -> set[str]:
    size = min(_FRAGMENT, len(form))
    return {form[i : i + size] for i in range(len(form) - size + 1)}


def _redact(text: str, secrets: tuple[Secret, ...]) -> str:
    if not text:
        return text
    # Forms are derived here, on the error path, so that no attribute holds a secret in plain text;
    # longest first, since one form may contain another.
    forms = sorted({form for secret in secrets for form in _secret_forms(secret)}, key=len, reverse=True)
    shown = _normalise(text)
    plain: dict[int, set[str]] = {}
    folded: dict[int, set[str]] = {}  # hex forms, compared case-insensitively
    for form in forms:
        is_hex = all(c in "0123456789abcdefABCDEF" for c in form)
        target = folded if is_hex else plain
        pieces = _fragments(form.casefold() if is_hex else form)
        target.setdefault(len(next(iter(pieces))), set()).update(pieces)
    candidates = [text, shown]
    for index, candidate in enumerate(candidates):
        redacted = candidate
        for form in forms:
            if form in redacted:
                redacted = redacted.replace(form, "***")
        candidates[index] = redacted
        # Whatever is left of a secret after that (half of one, another spelling) withholds it all.
        if _has_fragment(redacted, plain) or _has_fragment(redacted.casefold(), folded):
            return WITHHELD
    shown = candidates[1]
    # A secret spelt with look-alikes cannot be cut out where it stands: withhold the text.
    alike = unicodedata.normalize("NFKC", shown).translate(_DASHES)
    if alike != shown and (
        any(form in alike for form in forms)
        or _has_fragment(alike, plain)
        or _has_fragment(alike.casefold(), folded)
    ):
        return WITHHELD
    if any(_credential_shaped(token) for token in _TOKEN.findall(shown)):
        return WITHHELD
    return shown


def _has_fragment(text: str, fragments: Mapping[int, set[str]]) -> bool:
    for size, pieces in fragments.items():
        for start in range(len(text) - size + 1):
            if text[start : start + size] in pieces:
                return True
    return False


def _credential_shaped(token: str) -> bool:
    """A long token mixing upper case, lower case and digits: a key, a JWT, a signature."""
    return (
        any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and any(c.isdigit() for c in token)
    )


def __getattr__(name: str) -> Any:
    # The sync transport lives in a private module (it imports requests); old imports keep working.
    if name == "Transport":
        from examkit.core._transport_sync import Transport  # noqa: PLC0415 - requests only when asked

        return Transport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
