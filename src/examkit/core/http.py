"""The HTTP transport every vendor client uses.

One :class:`Transport` wraps one :class:`requests.Session` (yours, if you pass it: proxies, client
certificates and CA bundles are set there). It gives every request a timeout, a total deadline per
attempt and an ``examkit/<version>`` user agent, reads at most a capped number of response bytes,
retries only idempotent requests (never POST or PATCH) with exponential backoff that honours
``Retry-After``, and turns every failure into the :class:`~examkit.core.errors.ApiError` family with
secrets scrubbed from messages.

examkit's :class:`RetryPolicy` is the only retry layer. A urllib3 ``Retry`` mounted on your session's
adapter is neutralised for examkit's requests: each request goes through a view of your adapter that
shares its connection pool, proxies and certificates but has retries off, so a POST or PATCH reaches
the vendor at most once and a GET is sent at most ``RetryPolicy.max_attempts`` times.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import email.utils
import html
import json
import logging
import os
import queue
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final
from urllib.parse import quote, quote_plus, unquote, urljoin, urlsplit, urlunsplit

import attrs
import requests
from requests.cookies import extract_cookies_to_jar
from requests.hooks import dispatch_hook
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.retry import Retry

from examkit._version import __version__
from examkit.core._checks import check_count, check_seconds, check_timeout
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
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
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

DEFAULT_DEADLINE: Final = 60.0
"""The longest one attempt may take in all (connect, send, wait, read the body), in seconds.

The read timeout restarts with every byte that arrives, so a server trickling its answer would hold a
call for ever without it. Past the deadline the attempt fails with a
:class:`~examkit.core.errors.TransportError`.
"""

DEFAULT_MAX_RESPONSE_BYTES: Final = 10 * 1024 * 1024
MAX_RESPONSE_CAP: Final = 2**40  # a cap larger than 1 TiB is no cap, only a mistyped setting
"""The most response-body bytes examkit reads (10 MiB, counted after decompression).

A larger answer, or one that inflates past it (a gzip bomb), fails with a
:class:`~examkit.core.errors.TransportError` without being read in full.
"""

WITHHELD: Final = "vendor text withheld: it may contain a credential"
"""What stands in an error for a vendor's text that looks like it echoes a secret."""

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods that may be retried automatically. POST and PATCH never are."""

_EXCERPT_CHARS: Final = 500
_CHUNK: Final = 8192  # bytes read (and decompressed) at a time; bounds a gzip bomb's step
_FRAGMENT: Final = 10  # a run this long of any form of a secret withholds the vendor's text
_NO_RETRIES: Final = Retry(0, read=False)  # requests' own default: nothing is ever retried
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


@attrs.frozen
class _Failure:
    """Why an attempt produced no usable response (no exception object: it would hold frames)."""

    kind: str  # "config", "deadline", "too-large", "timeout", "failed"
    detail: str
    sent: bool = True
    status_code: int | None = None


class _TooLargeError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Exchange:
    """One attempt's send and body read, run on a worker thread so that a deadline can end it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.raw: requests.Response | None = None
        self.body: bytes | None = None
        self.failure: _Failure | None = None
        self.abandoned = False

    def keep(self, raw: requests.Response) -> bool:
        with self._lock:
            self.raw = raw
            return not self.abandoned

    def abandon(self) -> None:
        """Give the attempt up; shut its socket, if it is reachable, so the worker ends soon."""
        with self._lock:
            self.abandoned = True
            raw = self.raw
        if raw is not None:
            _shut(raw)


class _Workers:
    """The threads that carry attempts, kept and reused, so that a deadline costs no new thread.

    Starting a thread for every request costs about 2 ms with requests (more than a local call
    itself); handing an attempt to a waiting thread costs microseconds. A thread stuck past its
    deadline (a server trickling its headers) is simply not reused until it ends; a new one is started
    whenever none is idle, so stuck threads never delay other calls. Idle threads end after a while,
    and a forked child (Celery's prefork workers, multiprocessing) starts with none.
    """

    def __init__(self, idle_seconds: float = 30.0) -> None:
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[Callable[[], None]]] = []

    def run(self, work: Callable[[], None]) -> None:
        """Run ``work`` on an idle thread, or on a new one if none is idle."""
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(inbox,), name="examkit-http", daemon=True).start()
        inbox.put(work)

    def _serve(self, inbox: queue.SimpleQueue[Callable[[], None]]) -> None:
        while True:
            try:
                work = inbox.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:  # still idle: nobody can hand it work any more
                        self._idle.remove(inbox)
                        return
                continue  # it was handed work just now: take it
            with contextlib.suppress(Exception):  # the attempt records its own outcome; the thread lives on
                work()
            with self._lock:
                self._idle.append(inbox)

    def forget(self) -> None:
        """Drop every idle thread (in a forked child they do not exist)."""
        self._idle = []
        self._lock = threading.Lock()


_WORKERS: Final = _Workers()
if hasattr(os, "register_at_fork"):  # pragma: no branch - every supported platform but Windows
    os.register_at_fork(after_in_child=_WORKERS.forget)


def _shut(raw: requests.Response) -> None:
    connection = getattr(raw.raw, "connection", None) or getattr(raw.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        raw.close()


def _without_retries(adapter: requests.adapters.BaseAdapter) -> requests.adapters.BaseAdapter:
    """Return a view of ``adapter`` that never retries, sharing its pools, proxies and settings.

    The view is a shallow copy of the same class (its overrides apply) whose ``max_retries`` is
    requests' default, ``Retry(0, read=False)``; urllib3's retries would otherwise stack on examkit's
    own, and could send a POST again after it reached the server.
    """
    if not isinstance(getattr(adapter, "max_retries", None), Retry) or not hasattr(adapter, "__dict__"):
        return adapter
    view = object.__new__(type(adapter))
    view.__dict__.update(vars(adapter))
    view.max_retries = _NO_RETRIES  # type: ignore[attr-defined]
    return view


def _connect_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection was never established (so nothing was sent)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError | ConnectTimeoutError):  # NameResolutionError too
            return True
        if isinstance(item, BaseException):
            # Only what wraps the final error: an earlier attempt's (in a context chain) may be a
            # connect failure while the last one went out, and "not sent" must never be a guess.
            todo.extend([getattr(item, "reason", None), *item.args])
    return False


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


class Transport:
    """Sends a vendor's HTTP requests with timeouts, safe retries and error mapping.

    Args:
        vendor: The vendor's name, carried by every error.
        session: A :class:`requests.Session` to use (for proxies, certificates, adapters). examkit
            never changes it and does not close it. Without one, the transport makes and owns its own.
            A urllib3 ``Retry`` on its adapters is not used: examkit sends through a non-retrying view
            of the adapter (same connection pool), and ``retry`` is the one retry layer.
        timeout: Seconds for connecting and reading, as one number or a ``(connect, read)`` pair.
        retry: The retry policy for idempotent requests.
        secrets: Secrets to scrub from any text that ends up in an error message or log.
        sleep: The function used to wait between attempts (tests inject a fake).
        clock: The function that tells the time, for ``Retry-After`` dates.
        deadline: The longest one attempt may take in all, in seconds (default
            :data:`DEFAULT_DEADLINE`); the read timeout alone restarts with every byte.
        max_response_bytes: The most response-body bytes read, after decompression (default
            :data:`DEFAULT_MAX_RESPONSE_BYTES`).
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
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
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
        self.timeout: tuple[float, float] = (float(timeout[0]), float(timeout[1]))
        self.deadline = float(deadline)
        self.max_response_bytes = max_response_bytes
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
        return (
            f"Transport(vendor={self.vendor!r}, timeout={self.timeout!r}, deadline={self.deadline!r}, "
            f"max_response_bytes={self.max_response_bytes!r}, retry={self.retry!r})"
        )

    def redact(self, text: str) -> str:
        r"""Return ``text`` safe to show: secrets replaced with ``***``, or all of it withheld.

        The text is first normalised: JSON escapes (``\u002B``, ``\/``), percent escapes in either
        case (``%2b``) and HTML entities (``&#43;``, ``&#x2B;``, ``&plus;``) are decoded. Every
        configured secret, in those forms and as base64 (standard or URL-safe) or hex, is replaced.
        If any run of :data:`_FRAGMENT` characters of any such form is still there (a secret cut in
        half, or written some other way), or a long credential-shaped token is, the whole text is
        replaced by :data:`WITHHELD`. Redact whole texts before cutting them.
        """
        return _redact(text, self._secrets)

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

        Only a 2xx answer (or a status in ``expected``) is returned. Redirects are not followed: a
        3xx answer is an :class:`~examkit.core.errors.ApiError` naming where it pointed.

        Args:
            method: The HTTP method.
            url: The absolute URL, without query string (pass ``params`` for that).
            params: Query parameters.
            headers: Headers for every attempt. Put no credential here: pass it through ``sign``,
                so that it is held only while a request is prepared.
            body: The exact body bytes to send.
            sign: Called before every attempt with ``(method, prepared_url, body)``; the headers it
                returns are added. Use it for credentials and for schemes that sign a fresh
                timestamp or nonce.
            retry: Force retrying on (only honoured for idempotent methods) or off. By default
                idempotent methods are retried and others never are.
            expected: Error statuses to return as responses instead of raising (for example 404
                when "not found" is an answer, not a failure).

        Raises:
            ApiError: The vendor answered with an error or redirect status.
            TransportError: No usable response arrived (timeout, connection failure, the deadline
                passed, or the answer was larger than ``max_response_bytes``).
            ConfigurationError: The URL is not a valid http(s) URL.
        """
        method = method.upper()
        idempotent = method in IDEMPOTENT_METHODS
        may_retry = idempotent if retry is None else (retry and idempotent)
        attempts = self.retry.max_attempts if may_retry else 1
        expected_statuses = frozenset(expected)
        shown_url = _strip_query(url)

        for attempt in range(1, attempts + 1):
            logger.debug("%s %s %s (attempt %d/%d)", self.vendor, method, shown_url, attempt, attempts)
            outcome = self._attempt(method, url=url, params=params, headers=headers, body=body, sign=sign)
            if isinstance(outcome, _Failure):
                if outcome.kind == "config":
                    raise ConfigurationError(
                        f"invalid URL for {self.vendor} ({outcome.detail}): use an absolute http(s) URL",
                        setting="base_url",
                        vendor=self.vendor,
                    )
                if attempt < attempts and outcome.kind != "too-large":
                    self._sleep(self.retry.delay(attempt))
                    continue
                raise self._transport_error(method, shown_url, outcome, idempotent)
            response = outcome
            logger.debug("%s %s %s -> %d", self.vendor, method, shown_url, response.status_code)
            if 200 <= response.status_code < 300 or response.status_code in expected_statuses:
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

    def _attempt(
        self,
        method: str,
        *,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        sign: Callable[[str, str, bytes], Mapping[str, str]] | None,
    ) -> HttpResponse | _Failure:
        """Prepare, sign and send one attempt; never raises (credentials live only in this frame)."""
        base_headers = {"User-Agent": USER_AGENT, **(headers or {})}
        try:
            prep = self.session.prepare_request(
                requests.Request(method, url, params=params, headers=base_headers, data=body)
            )
            if sign is not None:
                prep.headers.update(sign(method, prep.url or url, body if body is not None else b""))
            target = prep.url or url
            adapter = _without_retries(self.session.get_adapter(target))
            env = self.session.merge_environment_settings(target, {}, True, None, None)
        except _BAD_URL as exc:
            return _Failure("config", type(exc).__name__)
        exchange = _Exchange()
        context = contextvars.copy_context()
        done = threading.Event()

        def work() -> None:
            try:
                context.run(self._exchange, exchange, adapter, prep, env)
            finally:
                done.set()

        _WORKERS.run(work)
        if not done.wait(self.deadline):
            exchange.abandon()
            return _Failure("deadline", f"the {self.deadline:g} s deadline passed")
        if exchange.failure is not None:
            return exchange.failure
        raw, content = exchange.raw, exchange.body
        if raw is None or content is None:  # pragma: no cover - the worker sets one or the other
            return _Failure("failed", "no response")
        with contextlib.suppress(Exception):
            extract_cookies_to_jar(self.session.cookies, prep, raw.raw)  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception):
            dispatch_hook("response", prep.hooks, raw)  # type: ignore[no-untyped-call]
        return HttpResponse(
            status_code=raw.status_code,
            headers=Headers(list(raw.headers.items())),
            body=content,
            url=_strip_query(url),
            vendor=self.vendor,
        )

    def _exchange(
        self,
        exchange: _Exchange,
        adapter: requests.adapters.BaseAdapter,
        prep: requests.PreparedRequest,
        env: Mapping[str, Any],
    ) -> None:
        try:
            raw = adapter.send(
                prep,
                stream=True,
                timeout=self.timeout,
                verify=env.get("verify", True),
                cert=env.get("cert"),
                proxies=env.get("proxies") or {},
            )
        except _BAD_URL as exc:
            exchange.failure = _Failure("config", type(exc).__name__)
            return
        except requests.Timeout as exc:
            sent = not _connect_failure(exc)
            exchange.failure = _Failure("timeout", type(exc).__name__, sent=sent)
            return
        except Exception as exc:  # any adapter fault is a transport failure
            exchange.failure = _Failure("failed", type(exc).__name__, sent=not _connect_failure(exc))
            return
        if not exchange.keep(raw):
            _shut(raw)
            return
        try:
            content = self._read(raw)
        except _TooLargeError as exc:
            _shut(raw)
            exchange.failure = _Failure(
                "too-large", f"more than {self.max_response_bytes} bytes", status_code=exc.status
            )
            return
        except Exception as exc:  # a fault while reading the body
            _shut(raw)
            kind = "timeout" if isinstance(exc, requests.Timeout) else "failed"
            exchange.failure = _Failure(kind, type(exc).__name__)
            return
        exchange.body = content

    def _read(self, raw: requests.Response) -> bytes:
        """Read the body in chunks, decompressed, stopping past ``max_response_bytes``."""
        limit = self.max_response_bytes
        length = (raw.headers.get("Content-Length") or "").strip()
        encoding = (raw.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding in ("", "identity") and length.isascii() and length.isdigit() and int(length) > limit:
            raise _TooLargeError(raw.status_code)
        if raw.raw is None:  # an adapter that read the body itself (an in-process fake)
            content = raw.content or b""
            if len(content) > limit:
                raise _TooLargeError(raw.status_code)
            return content
        chunks: list[bytes] = []
        size = 0
        for chunk in raw.iter_content(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _TooLargeError(raw.status_code)
            chunks.append(chunk)
        content = b"".join(chunks)
        raw._content = content  # so that response hooks reading .content see these bytes
        raw._content_consumed = True  # type: ignore[attr-defined]
        return content

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
_TOKEN: Final = re.compile(r"[A-Za-z0-9+/_=-]{32,}")


def _json_unescape(match: re.Match[str]) -> str:
    code, simple = match.group(1), match.group(2)
    if code is not None:
        return chr(int(code, 16))
    return _JSON_SIMPLE.get(simple, simple)


def _normalise(text: str) -> str:
    """Decode JSON escapes, percent escapes (either case) and HTML entities, until nothing changes."""
    for _ in range(4):
        before = text
        text = _JSON_ESCAPE.sub(_json_unescape, text)
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
