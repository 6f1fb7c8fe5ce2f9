"""Webhook requests, the verifier protocol and replay protection.

A :class:`WebhookRequest` holds a request exactly as it arrived: the raw body bytes, the headers
(looked up case-insensitively), and the absolute URL and method for schemes that sign them. Every
vendor verifier takes one and returns a typed event, or raises a
:class:`~examkit.WebhookVerificationError`.
"""

from __future__ import annotations

import base64
import binascii
import collections
import contextlib
import inspect
import math
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, Final, Generic, Protocol, TypeVar, runtime_checkable

import attrs

from examkit.core._checks import (
    argument_number,
    argument_text,
    check_clock,
    check_count,
    check_replay_guard,
)
from examkit.core._repr import safe_repr
from examkit.core.clock import Clock, SystemClock
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    PayloadTooLargeError,
    ReplayedRequestError,
    ValidationError,
)

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "Headers",
    "InMemoryReplayGuard",
    "ReplayGuard",
    "Verified",
    "WebhookRequest",
    "WebhookVerifier",
]

DEFAULT_MAX_BODY_SIZE: Final = 1024 * 1024
"""Verifiers refuse bodies larger than this (1 MiB) before reading them, unless configured otherwise."""

EventT_co = TypeVar("EventT_co", covariant=True)


class Headers(Mapping[str, str]):
    """An immutable, case-insensitive view of HTTP headers.

    Built from any mapping (Django's ``request.headers``, Werkzeug's ``EnvironHeaders``, a ``dict``)
    or from ``(name, value)`` pairs, which may repeat a name. Looking up a repeated name returns the
    values joined by ``", "``, as HTTP defines; :meth:`get_all` returns them one by one and
    :meth:`get_single` refuses conflicting repeats.

    >>> h = Headers({"Content-Type": "application/json"})
    >>> h["content-type"]
    'application/json'
    """

    __slots__ = ("_items",)

    def __init__(self, headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None) -> None:
        fast = _one_pass_index(headers)
        if fast is not None:
            self._items = fast
            return
        items: dict[str, list[tuple[str, str]]] = {}
        pairs: Iterable[tuple[str, str]]
        if headers is None:
            pairs = ()
        elif isinstance(headers, Headers):
            pairs = headers.items_all()
        elif isinstance(headers, Mapping):
            pairs = headers.items()
        else:
            pairs = headers
        try:
            for name, value in pairs:
                if not isinstance(name, str) or not isinstance(value, str):
                    raise ValidationError(
                        "header names and values must be text", field=str(name), reason="not text"
                    )
                key = name.lower()
                entry = items.get(key)
                if entry is None:
                    items[key] = [(name, value)]
                else:
                    entry.append((name, value))
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(
                "headers must be a mapping or (name, value) pairs", reason="not headers"
            ) from None
        self._items = items

    def __getitem__(self, name: str) -> str:
        if not isinstance(name, str):
            raise KeyError(name)
        values = self._items[name.lower()]
        if len(values) == 1:
            return values[0][1]
        return ", ".join(v for _, v in values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (values[0][0] for values in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def get_all(self, name: str) -> tuple[str, ...]:
        """Return every value sent under ``name``, in order (an empty tuple when absent)."""
        if not isinstance(name, str):
            return ()
        return tuple(v for _, v in self._items.get(name.lower(), ()))

    def items_all(self) -> Iterator[tuple[str, str]]:
        """Yield every ``(name, value)`` pair, repeats included, with the names as sent."""
        for values in self._items.values():
            yield from values

    def get_single(self, name: str, *, vendor: str | None = None) -> str | None:
        """Return the one value of ``name``, or ``None`` when absent.

        A header a signature scheme depends on must not be ambiguous: when it was sent several times
        with different values, this refuses it.

        Raises:
            MalformedSignatureError: The header was sent several times with different values.
        """
        if not isinstance(name, str):  # a name that is not text is a plain miss, as in ``[]``
            return None
        values = self._items.get(name.lower())
        if not values:
            return None
        if len(values) == 1:
            return values[0][1]
        first = values[0][1]
        if any(v != first for _, v in values[1:]):
            raise MalformedSignatureError(
                f"the {name} header was sent {len(values)} times with different values",
                vendor=vendor,
                reason="conflicting duplicate header",
                header=name,
            )
        return first

    @safe_repr
    def __repr__(self) -> str:
        # Header values can hold credentials (Authorization); show the names only.
        names = ", ".join(repr(n) for n in self)
        return f"Headers([{names}])"


def _one_pass_index(headers: object) -> dict[str, list[tuple[str, str]]] | None:
    """The header index of the usual inputs in one pass, or ``None``: then the general loop decides.

    A plain dict of text, or a list of ``(name, value)`` tuples of text (the framework adapters' form,
    each tuple kept). Anything this does not take as it is (a name or value that is not exactly text,
    a name repeated or differing only in case) goes the general way, which accepts or refuses it.
    """
    if type(headers) is dict:
        index = {
            name.lower(): [(name, value)]
            for name, value in headers.items()
            if type(name) is str and type(value) is str
        }
    elif type(headers) is list:
        index = {
            pair[0].lower(): [pair]
            for pair in headers
            if type(pair) is tuple and len(pair) == 2 and type(pair[0]) is str and type(pair[1]) is str
        }
    else:
        return None
    return index if len(index) == len(headers) else None


class WebhookRequest:
    """A webhook request as it arrived, ready for a verifier.

    Args:
        body: The raw body bytes, exactly as received: ``request.body`` in Django,
            ``request.get_data()`` in Flask. Never a parsed or re-serialised body.
        headers: The request headers, any mapping or ``(name, value)`` pairs; looked up
            case-insensitively.
        url: The absolute URL the vendor called (scheme, host, path and query), for schemes that sign
            the URL. Behind a proxy, the public URL, not the internal one.
        method: The HTTP method, upper-cased.
        received_at: When the vendor's request arrived, in Unix seconds, or ``None`` (now). Set it
            when the request is verified later (in a queue's worker): freshness is then judged at
            the time of arrival, not at the time of verification.

    Raises:
        ValidationError: The body is not bytes (a ``str`` or ``dict`` here usually means the framework
            already decoded it, which breaks signatures).

    >>> req = WebhookRequest(body=b'{"a": 1}', headers={"X-Signature": "abc"})
    >>> req.headers["x-signature"], req.method
    ('abc', 'POST')
    """

    __slots__ = ("body", "headers", "method", "received_at", "url")

    def __init__(
        self,
        *,
        body: bytes | bytearray | memoryview,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        url: str | None = None,
        method: str = "POST",
        received_at: float | None = None,
    ) -> None:
        if type(body) is not bytes and isinstance(body, bytearray | memoryview):
            body = bytes(body)
        if not isinstance(body, bytes):
            raise ValidationError(
                f"body must be the raw request bytes, not {type(body).__name__}: pass request.body "
                "(Django) or request.get_data() (Flask), never a decoded or parsed body",
                field="body",
                reason="not bytes",
            )
        if url is not None and not isinstance(url, str):
            raise ValidationError("url must be text", field="url", reason="not text")
        if not isinstance(method, str) or not method:
            raise ValidationError("method must be a non-empty string", field="method", reason="not text")
        self.body: bytes = body
        self.headers: Headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.url: str | None = url
        self.method: str = method.upper()
        if received_at is not None and (
            isinstance(received_at, bool)
            or not isinstance(received_at, int | float)
            or not math.isfinite(received_at)
        ):
            raise ValidationError(
                "received_at must be Unix seconds (a finite number) or None",
                field="received_at",
                reason="not a time",
            )
        self.received_at: float | None = None if received_at is None else float(received_at)

    def to_json_dict(self) -> dict[str, Any]:
        """Return a JSON-safe form of this request, for a queue: :meth:`from_json_dict` rebuilds it.

        The body is kept byte for byte (as base64), the headers as ``[name, value]`` pairs in the order
        received (repeats included), with the URL, the method and ``received_at``. When
        ``received_at`` is not set, the current time is recorded, so that a worker judges freshness at
        the time the request was enqueued, not when it runs. The form holds the request's headers,
        which can carry credentials: treat the queue as you treat the request itself.

        >>> req = WebhookRequest(body=b"{}", headers={"X-Sig": "1"}, url="https://h.example/x", received_at=5)
        >>> WebhookRequest.from_json_dict(req.to_json_dict()).body
        b'{}'
        """
        received_at = SystemClock().time() if self.received_at is None else self.received_at
        return {
            "body": base64.b64encode(self.body).decode("ascii"),
            "headers": [[name, value] for name, value in self.headers.items_all()],
            "url": self.url,
            "method": self.method,
            "received_at": received_at,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> WebhookRequest:
        """Rebuild a request from :meth:`to_json_dict`'s form (after ``json.loads`` in a worker).

        Raises:
            ValidationError: ``data`` is not that form (a missing or malformed field, a body that is
                not base64).
        """
        if not isinstance(data, Mapping):
            raise ValidationError("a WebhookRequest's JSON form is an object", reason="not an object")
        body = data.get("body")
        if not isinstance(body, str):
            raise ValidationError("body must be base64 text", field="body", reason="not base64")
        try:
            raw = base64.b64decode(body.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise ValidationError("body must be base64 text", field="body", reason="not base64") from None
        headers = data.get("headers", [])
        if not isinstance(headers, list) or not all(
            isinstance(pair, list | tuple) and len(pair) == 2 for pair in headers
        ):
            raise ValidationError(
                "headers must be a list of [name, value] pairs", field="headers", reason="not headers"
            )
        return cls(
            body=raw,
            headers=[(pair[0], pair[1]) for pair in headers],
            url=data.get("url"),
            method=data.get("method", "POST"),
            received_at=data.get("received_at"),
        )

    @safe_repr
    def __repr__(self) -> str:
        return (
            f"WebhookRequest(method={self.method!r}, url={self.url!r}, "
            f"body=<{len(self.body)} bytes>, headers={self.headers!r})"
        )


def verification_time(request: WebhookRequest, clock: Clock) -> float:
    """The time at which ``request``'s freshness is judged: its ``received_at``, else ``clock``'s now.

    For verifiers, which have checked ``request`` and ``clock`` already (so not in ``__all__``).
    """
    received_at = request.received_at
    return clock.time() if received_at is None else received_at


def check_body_size(body: bytes, *, limit: int | None, vendor: str | None = None) -> None:
    """Refuse a body larger than ``limit`` bytes (``None`` means no limit).

    Raises:
        PayloadTooLargeError: The body is too large.
        ValidationError: ``body`` is not bytes.
        ConfigurationError: ``limit`` is not a positive whole number or ``None``.
    """
    limit = body_size_limit(limit, vendor=vendor)
    if not isinstance(body, bytes | bytearray | memoryview):
        raise ValidationError("body must be bytes", field="body", reason="not bytes", vendor=vendor)
    if limit is not None and len(body) > limit:
        raise PayloadTooLargeError(
            f"the body is {len(body)} bytes, over the {limit}-byte limit; raise max_body_size if "
            "such bodies are expected",
            size=len(body),
            limit=limit,
            vendor=vendor,
        )


def body_size_limit(value: object, *, vendor: str | None = None) -> int | None:
    """Check a verifier's ``max_body_size`` setting: a positive whole number of bytes, or ``None``.

    Raises:
        ConfigurationError: Anything else (zero, a negative number, a float, a boolean).
    """
    if value is None:
        return None
    return check_count(value, setting="max_body_size", vendor=vendor)


def received(request: object, *, limit: int | None, vendor: str | None = None) -> WebhookRequest:
    """Check what a verifier was given, before anything else: a :class:`WebhookRequest` within the limit.

    Raises:
        ValidationError: ``request`` is not a :class:`WebhookRequest`.
        PayloadTooLargeError: Its body is larger than ``limit`` bytes.
    """
    if type(request) is WebhookRequest:
        # The usual case, without the calls below: a request of bytes, a limit checked when the
        # verifier was built (None, or a whole number that the body does not exceed).
        body = request.body
        if type(body) is bytes and (
            limit is None or (type(limit) is int and limit > 0 and len(body) <= limit)
        ):
            return request
    if not isinstance(request, WebhookRequest):
        raise ValidationError(
            "verify() takes a WebhookRequest(body=..., headers=..., url=..., method=...): build one from "
            "the raw request",
            field="request",
            reason="not a WebhookRequest",
            vendor=vendor,
        )
    check_body_size(request.body, limit=limit, vendor=vendor)
    return request


@runtime_checkable
class WebhookVerifier(Protocol[EventT_co]):
    """What every vendor's webhook verifier provides."""

    def verify(self, request: WebhookRequest) -> EventT_co:
        """Verify ``request`` and return its typed event.

        Raises:
            WebhookVerificationError: The request must not be trusted.
            PayloadError: The request is authentic but its body is malformed.
        """
        ...


@attrs.frozen
class Verified(Generic[EventT_co]):
    """A verified event, and which of the configured secrets proved it (for secret rotation).

    Returned by every vendor verifier's ``verify_detailed``. ``key_index`` is the position of the
    matching secret in the verifier's configuration (``0`` for the first, ``None`` when the scheme
    uses no secret); every configured secret is still tried in constant time. No secret, digest or
    fingerprint is held, so the object is safe to log.
    """

    event: EventT_co
    """The verified, typed event, as ``verify`` returns it."""
    key_index: int | None = None
    """The position of the secret that matched, or ``None`` for a scheme without one."""
    key_count: int = 0
    """How many secrets the verifier holds for this check."""

    @property
    def rotation_note(self) -> str:
        """A short, secret-free line for logs, such as ``"secret 2 of 2 matched"``, or ``""``."""
        if self.key_index is None:
            return ""
        return f"secret {self.key_index + 1} of {self.key_count} matched"


@runtime_checkable
class ReplayGuard(Protocol):
    """Remembers nonces or ids of accepted requests, so each is accepted once.

    Verifiers call :meth:`add` only after the signature and timestamp checked out, with a key that
    already names the vendor. Implementations must make :meth:`add` atomic: when several workers see
    the same key at once, exactly one gets ``True``.

    A guard may also offer ``discard(key)``, to forget a key again. The framework adapters use it when
    the view failed to handle an accepted request, so that the vendor's retry is not refused as a
    replay and the event is not lost (see ``replay_scope``).
    """

    def add(self, key: str, *, ttl: float) -> bool:
        """Remember ``key`` for ``ttl`` seconds; return ``False`` when it was already there."""
        ...


_CLAIMS: ContextVar[list[tuple[ReplayGuard, str]] | None] = ContextVar("examkit_replay_claims", default=None)


def claim_once(
    guard: ReplayGuard,
    key: str,
    *,
    ttl: float,
    vendor: str | None = None,
    message: str = "this request was already accepted once",
    reason: str = "replayed",
    header: str | None = None,
) -> None:
    """Claim ``key`` in ``guard`` for ``ttl`` seconds, refusing a key claimed before.

    Verifiers call this once a request is authentic. Inside a :func:`replay_scope`, the claim is
    recorded so that it can be released if the request ends up not handled.

    Raises:
        ReplayedRequestError: The key was claimed before and has not expired.
        ValidationError: ``key`` is not text or ``ttl`` not a number.
        ConfigurationError: ``guard`` is not a replay guard.
    """
    if check_replay_guard(guard, vendor=vendor) is None:
        raise ConfigurationError("claim_once needs a replay guard", setting="replay_guard", vendor=vendor)
    argument_text(key, field="key", vendor=vendor)
    ttl = argument_number(ttl, field="ttl", vendor=vendor)
    added = guard.add(key, ttl=ttl)
    if inspect.isawaitable(added):  # an async guard behind a sync verifier: it would accept every replay
        close = getattr(added, "close", None)
        if callable(close):
            close()
        raise ConfigurationError(
            f"{type(guard).__name__}.add is async, but verifiers claim keys synchronously: give the "
            "verifier a sync guard (examkit.integrations.redis.RedisReplayGuard, not "
            "AsyncRedisReplayGuard)",
            setting="replay_guard",
            vendor=vendor,
        )
    if not added:
        raise ReplayedRequestError(message, vendor=vendor, reason=reason, header=header)
    claims = _CLAIMS.get()
    if claims is not None:
        claims.append((guard, key))


class ReplayScope:
    """The replay-guard claims verifiers made inside one :func:`replay_scope`."""

    __slots__ = ("_claims",)

    def __init__(self) -> None:
        self._claims: list[tuple[ReplayGuard, str]] = []

    def release(self) -> None:
        """Forget this scope's claims in guards that can (``discard``), so a retry is accepted again.

        Every claim is tried, even when a guard's ``discard`` fails (a cache that is down); the first
        such failure is then raised.
        """
        claims, self._claims[:] = list(self._claims), []
        failure: Exception | None = None
        for guard, key in reversed(claims):
            discard = getattr(guard, "discard", None)
            if not callable(discard):
                continue
            try:
                discard(key)
            except Exception as exc:  # try the other claims first
                failure = failure or exc
        if failure is not None:
            raise failure

    def __len__(self) -> int:
        return len(self._claims)


@contextlib.contextmanager
def replay_scope() -> Iterator[ReplayScope]:
    """Collect the replay-guard claims of the verifications inside the ``with`` block.

    Use it around verifying and handling a request; call :meth:`ReplayScope.release` when the request
    was not handled (the view raised, or answered 5xx), so that the vendor's retry goes through::

        with replay_scope() as scope:
            event = verifier.verify(request)
            try:
                handle(event)
            except Exception:
                scope.release()
                raise

    The Django and Flask adapters do this for you.
    """
    scope = ReplayScope()
    token = _CLAIMS.set(scope._claims)
    try:
        yield scope
    finally:
        _CLAIMS.reset(token)


class InMemoryReplayGuard:
    """A bounded, thread-safe replay guard for one process.

    Entries expire after their ``ttl``. When ``max_entries`` live entries are held, the oldest is
    forgotten to make room, so a burst beyond that size weakens protection rather than exhausting
    memory; size it above the number of requests you expect within a tolerance window. Several
    processes or hosts need a shared guard (see :mod:`examkit.integrations.django`).

    Args:
        max_entries: The most keys held at once.
        clock: The clock that decides expiry.
    """

    def __init__(self, *, max_entries: int = 100_000, clock: Clock | None = None) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ConfigurationError("max_entries must be a positive integer", setting="max_entries")
        self._max = max_entries
        self._clock: Clock = check_clock(clock) or SystemClock()
        self._lock = threading.Lock()
        self._entries: collections.OrderedDict[str, float] = collections.OrderedDict()

    def discard(self, key: str) -> None:
        """Forget ``key`` (nothing happens when it is not remembered)."""
        argument_text(key, field="key")
        with self._lock:
            self._entries.pop(key, None)

    def add(self, key: str, *, ttl: float) -> bool:
        """Remember ``key`` for ``ttl`` seconds; return ``False`` when it is already remembered."""
        argument_text(key, field="key")
        ttl = argument_number(ttl, field="ttl")
        now = self._clock.time()
        with self._lock:
            self._purge(now)
            expires = self._entries.get(key)
            if expires is not None and expires > now:
                return False
            self._entries[key] = now + ttl
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
            return True

    def __len__(self) -> int:
        with self._lock:
            self._purge(self._clock.time())
            return len(self._entries)

    def _purge(self, now: float) -> None:
        # Entries are appended in time order and usually share one ttl, so expired ones sit in front.
        entries = self._entries
        while entries:
            key, expires = next(iter(entries.items()))
            if expires > now:
                break
            del entries[key]

    def __copy__(self) -> InMemoryReplayGuard:
        return self  # shared state: a copy must remember (and count) what the original does

    def __deepcopy__(self, memo: dict[int, Any]) -> InMemoryReplayGuard:
        return self

    @safe_repr
    def __repr__(self) -> str:
        return f"InMemoryReplayGuard(max_entries={self._max})"
