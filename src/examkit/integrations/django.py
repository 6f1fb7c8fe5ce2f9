"""Verify webhooks in Django views, and share replay protection through Django's cache.

Needs Django (``pip install 'examkit[django]'``)::

    from examkit.integrations.django import DjangoCacheReplayGuard, verified_webhook

    verifier = SomeVendorWebhookVerifier(..., replay_guard=DjangoCacheReplayGuard())

    @verified_webhook(verifier)
    def results(request, event):
        ...  # only reached with a verified, typed event
        return HttpResponse(status=204)

:func:`verified_webhook` exempts the view from CSRF, reads the raw body within the verifier's
``max_body_size`` (a larger ``Content-Length`` is refused unread; a chunked body, without one, is read
from a terminated WSGI stream and cut at the limit), verifies it and calls ``view(request, event)``.
Failures are answered with a generic body and the status given by
:func:`examkit.integrations.status_for_error` (400, 401, 409 or 413); the specific cause is logged to
the ``examkit.integrations`` logger.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import re
from collections.abc import Callable
from typing import Any, Concatenate, Final, ParamSpec, Protocol, TypeVar, cast

try:
    from asgiref.sync import iscoroutinefunction, sync_to_async
    from django.conf import settings  # type: ignore[import-untyped]
    from django.core.cache import InvalidCacheBackendError, caches  # type: ignore[import-untyped]
    from django.core.cache.backends.dummy import DummyCache  # type: ignore[import-untyped]
    from django.core.exceptions import RequestDataTooBig  # type: ignore[import-untyped]
    from django.http import (  # type: ignore[import-untyped]
        HttpRequest,
        HttpResponse,
        RawPostDataException,
        UnreadablePostError,
    )
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without Django
    if exc.name is None or exc.name.partition(".")[0] not in ("django", "asgiref"):
        raise
    raise ImportError(
        "examkit.integrations.django needs Django: install it with pip install 'examkit[django]'"
    ) from exc

from examkit.core._repr import safe_repr
from examkit.core.errors import ConfigurationError, ExamkitError, PayloadTooLargeError
from examkit.core.webhook import DEFAULT_MAX_BODY_SIZE, WebhookRequest, WebhookVerifier, body_size_limit
from examkit.integrations._common import (
    REJECTED_BODY,
    BodyAlreadyReadError,
    adapter_body_limit,
    check_verifier,
    checked_host,
    checked_scheme,
    declared_length,
    forwarded_value,
    handle,
    handle_async,
    log_rejection,
    read_capped,
    smallest_limit,
    too_large,
    url_base,
    verify_logged,
)

__all__ = [
    "DjangoCacheReplayGuard",
    "verified_webhook",
    "webhook_request_from_django",
]

EventT = TypeVar("EventT")
EventT_co = TypeVar("EventT_co", covariant=True)
P = ParamSpec("P")
R = TypeVar("R")


class _ViewDecorator(Protocol[EventT_co]):
    """What :func:`verified_webhook` returns: ``view(request, event, *args, **kwargs)`` loses its event.

    The view's second parameter must accept the verifier's event type; the URL arguments after it
    are kept, so type checkers see what Django calls. (One signature for sync and async views: an
    async view's result is its coroutine. Without django-stubs, Django's classes are ``Any`` to a
    type checker, which would make overloads ambiguous.)
    """

    def __call__(
        self, view: Callable[Concatenate[HttpRequest, EventT_co, P], R], /
    ) -> Callable[Concatenate[HttpRequest, P], R | HttpResponse]: ...


_CONSUMED_MESSAGE: Final = (
    "request.body can no longer be read: something read the request stream first (request.POST "
    "or request.FILES on a multipart request, request.read(), or a middleware doing so). examkit "
    "needs the raw bytes: decorate the view with examkit.integrations.django.verified_webhook (it "
    "reads request.body before anything else in the view), and exclude this URL from middleware "
    "that touches request.POST"
)


def webhook_request_from_django(
    request: HttpRequest,
    *,
    public_url: str | None = None,
    trust_forwarded: bool = False,
    max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
) -> WebhookRequest:
    """Build a :class:`~examkit.WebhookRequest` from a Django ``HttpRequest``.

    The body is the raw bytes as received, as ``request.body`` keeps them (so the view can still
    read ``request.body`` or ``request.POST``), read within ``max_body_size``: with a
    ``Content-Length`` through Django, and without one (a chunked delivery) from ``wsgi.input``
    when the server set ``wsgi.input_terminated`` (gunicorn and Werkzeug do). The headers and
    method are the request's. The absolute URL (signed by some vendors) is, in order of preference:

    - with ``public_url``: its scheme and host. A path in it (``https://example.com/api``) is the
      prefix the public URL has in front of the path Django routes (``request.path_info``), for a
      proxy that strips it; without a path, ``request.path`` is kept. The query string is always
      the request's own.
    - with ``trust_forwarded``: the scheme from ``X-Forwarded-Proto`` and the host from
      ``X-Forwarded-Host`` (each the value set by the nearest proxy, the last in a list), falling
      back to the request's own when a header is absent. Only enable this behind a proxy that
      sets these headers.
    - otherwise ``request.build_absolute_uri()``, which honours Django's own proxy settings
      (``SECURE_PROXY_SSL_HEADER``, ``USE_X_FORWARDED_HOST``) and ``ALLOWED_HOSTS``.

    Args:
        request: The incoming request, before anything read ``request.POST`` or the stream.
        public_url: The public base URL the vendor calls, e.g. ``"https://hooks.example.com"``.
        trust_forwarded: Take the scheme and host from the ``X-Forwarded-*`` headers.
        max_body_size: The most body bytes read (default 1 MiB, the verifiers' default; ``None``:
            only Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``). Pass the verifier's ``max_body_size``
            if you changed it. A larger ``Content-Length`` is refused before reading; a body
            without one (chunked) is read in chunks and refused as soon as it goes past the limit.

    Raises:
        BodyAlreadyReadError: The body was consumed before (Django's ``RawPostDataException``).
        PayloadTooLargeError: The body is over ``max_body_size`` or Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
        ValidationError: A trusted ``X-Forwarded-Proto`` or ``X-Forwarded-Host`` is malformed.
        ConfigurationError: ``public_url`` is not an absolute http(s) URL, or both options are given.
    """
    limit = body_size_limit(max_body_size)
    return _build(request, url_base(public_url, trust_forwarded), trust_forwarded, limit)


def _build(
    request: HttpRequest, base: tuple[str, str, str] | None, trust_forwarded: bool, limit: int | None
) -> WebhookRequest:
    return WebhookRequest(
        body=_read_body(request, limit),
        headers=list(request.headers.items()),
        url=_absolute_url(request, base, trust_forwarded),
        method=str(request.method or "POST"),
    )


def _read_body(request: HttpRequest, limit: int | None) -> bytes:
    """The raw body, refused from its ``Content-Length`` or read in chunks, never past the limit.

    Without a ``Content-Length`` (a chunked delivery), Django itself reads nothing from a WSGI
    server; a server that terminates the stream (gunicorn, Werkzeug) says so with
    ``wsgi.input_terminated``, and the stream is then read to its end, within the limit.
    """
    django_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    effective = smallest_limit(limit, django_limit)

    def over(size: int, effective: int, *, streamed: bool) -> PayloadTooLargeError:
        if effective == django_limit and (limit is None or django_limit < limit):
            return PayloadTooLargeError(
                f"the body is over Django's DATA_UPLOAD_MAX_MEMORY_SIZE ({django_limit} bytes); "
                "raise that setting if such webhooks are expected",
                size=size,
                limit=int(django_limit),
            )
        return too_large(size=size, limit=effective, streamed=streamed)

    if hasattr(request, "_body"):  # request.body was read before
        cached = bytes(request.body)
        if effective is not None and len(cached) > effective:
            raise over(len(cached), effective, streamed=True)
        return cached
    if getattr(request, "_read_started", False):
        raise BodyAlreadyReadError(_CONSUMED_MESSAGE)
    declared = declared_length(request.META.get("CONTENT_LENGTH"))
    if declared is not None:
        if effective is not None and declared > effective:
            raise over(declared, effective, streamed=False)  # refused without reading a byte
        try:
            return bytes(request.body)  # Django reads at most Content-Length bytes
        except RawPostDataException:
            raise BodyAlreadyReadError(_CONSUMED_MESSAGE) from None
        except RequestDataTooBig:
            raise over(declared, int(django_limit), streamed=False) from None
    environ = getattr(request, "environ", None)
    if isinstance(environ, dict) and environ.get("wsgi.input_terminated"):
        stream = environ["wsgi.input"]  # Django's own stream stops at the missing length: 0
    else:
        stream = request  # ASGI: the spooled body; WSGI without a terminated stream: nothing
    try:
        body = read_capped(stream.read, limit=effective)
    except PayloadTooLargeError as exc:
        raise over(exc.size, exc.limit, streamed=True) from None
    except OSError as exc:  # as Django's request.body does
        raise UnreadablePostError(*exc.args) from exc
    # What request.body keeps: the view can still read request.body, request.POST or request.read().
    request._body = body
    request._stream = io.BytesIO(body)
    request._read_started = True
    return body


def verified_webhook(
    verifier: WebhookVerifier[EventT],
    *,
    public_url: str | None = None,
    trust_forwarded: bool = False,
) -> _ViewDecorator[EventT]:
    """Decorate a Django view so that it only ever runs with a verified, typed event.

    The decorated view is exempt from CSRF (a vendor cannot send a token) and is called as
    ``view(request, event, *args, **kwargs)``, with the URL's arguments after the event. Sync and
    async views are both supported (an async view's verification runs in ``sync_to_async``, so
    database-backed replay guards work).

    A request that fails verification never reaches the view: the decorator answers it with the
    generic body ``webhook rejected`` and the status of
    :func:`~examkit.integrations.status_for_error`: 400 for a missing or malformed signature or body,
    401 for a signature mismatch or a stale timestamp, 409 for a replay, 413 for a body over the
    limit. The specific cause is logged to the ``examkit.integrations`` logger.
    :class:`~examkit.integrations.BodyAlreadyReadError` and other configuration errors propagate
    (a server error), because the application has to change.

    Args:
        verifier: Any examkit webhook verifier (an object with ``verify(WebhookRequest)``).
        public_url: See :func:`webhook_request_from_django`.
        trust_forwarded: See :func:`webhook_request_from_django`.

    Raises:
        ConfigurationError: When decorating: ``verifier`` has no ``verify`` method, or the URL
            options are invalid.
    """
    check_verifier(verifier)
    base = url_base(public_url, trust_forwarded)  # checked once, when decorating

    def verify(request: HttpRequest) -> EventT:
        built = _build(request, base, trust_forwarded, adapter_body_limit(verifier))
        return cast("EventT", verify_logged(verifier, built))

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        wrapper: Any  # a function with a csrf_exempt attribute
        if iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                return await handle_async(
                    lambda: sync_to_async(verify)(request),
                    lambda event: view(request, event, *args, **kwargs),
                    lambda error, status: _reject(request, error, status),
                )

            wrapper = async_wrapper
        else:

            @functools.wraps(view)
            def sync_wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                return handle(
                    lambda: verify(request),
                    lambda event: view(request, event, *args, **kwargs),
                    lambda error, status: _reject(request, error, status),
                )

            wrapper = sync_wrapper
        # What django.views.decorators.csrf.csrf_exempt does, without a second wrapper layer.
        wrapper.csrf_exempt = True
        return cast("Callable[..., Any]", wrapper)

    return cast("_ViewDecorator[EventT]", decorator)


class DjangoCacheReplayGuard:
    """A :class:`~examkit.core.ReplayGuard` backed by Django's cache framework.

    Several web workers (processes, hosts behind a load balancer) share one view of the nonces seen,
    through the cache backend they already run: Redis, Memcached, the database. Each key is stored
    with the cache's atomic ``add``, so when the same request arrives twice at once exactly one
    worker accepts it. Keys are the SHA-256 of the verifier's key behind ``prefix``, so they are
    valid for every backend (Memcached's 250-character, no-space rule included).

    Use a cache that all workers share: the local-memory backend is per process, and a cache that
    evicts entries under memory pressure (Memcached, Redis with an LRU policy) can forget a nonce
    early. If the cache is unreachable, :meth:`add` raises the backend's error, so the request fails
    (500) rather than being accepted unchecked; the vendor retries it later.

    Args:
        cache: A cache alias from ``settings.CACHES`` (default ``"default"``), or a cache object.
            An alias is looked up on each call, as Django recommends for threads.
        prefix: Put in front of every key, to keep them apart from the application's own.

    Raises:
        ConfigurationError: ``cache`` or ``prefix`` has the wrong form. (An alias that is not
            configured, or Django's dummy cache, which cannot remember anything, is refused on the
            first :meth:`add`.)
    """

    def __init__(self, cache: Any = None, *, prefix: str = "examkit:replay:") -> None:
        if cache is None:
            cache = "default"
        if not isinstance(cache, str) and not callable(getattr(cache, "add", None)):
            raise ConfigurationError(
                f"cache must be a cache alias or a Django cache, not {type(cache).__name__}",
                setting="cache",
            )
        if not isinstance(prefix, str) or not _PREFIX_RE.match(prefix):
            raise ConfigurationError(
                "prefix must be at most 100 printable ASCII characters without spaces",
                setting="prefix",
            )
        self._cache = cache
        self._prefix = prefix

    def add(self, key: str, *, ttl: float) -> bool:
        """Remember ``key`` for ``ttl`` seconds (at least one); return ``False`` if it is there already.

        Raises:
            ConfigurationError: The cache alias is not configured, the cache is Django's dummy cache,
                or ``ttl`` is not a number.
        """
        timeout = _timeout(ttl)
        return bool(self._backend().add(self._cache_key(key), 1, timeout=timeout))

    def discard(self, key: str) -> None:
        """Forget ``key``, so that a request whose handling failed can be delivered again."""
        self._backend().delete(self._cache_key(key))

    def _cache_key(self, key: str) -> str:
        return self._prefix + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    def _backend(self) -> Any:
        if isinstance(self._cache, str):
            try:
                backend = caches[self._cache]
            except InvalidCacheBackendError:
                raise ConfigurationError(
                    f"the cache alias {self._cache!r} is not in settings.CACHES", setting="cache"
                ) from None
        else:
            backend = self._cache
        if isinstance(backend, DummyCache):
            # Its add() always succeeds: replay protection would be silently off.
            raise ConfigurationError(
                "the dummy cache remembers nothing, so it cannot refuse replays: give "
                "DjangoCacheReplayGuard a real cache (Redis, Memcached, database)",
                setting="cache",
            )
        return backend

    @safe_repr
    def __repr__(self) -> str:
        cache = self._cache if isinstance(self._cache, str) else type(self._cache).__name__
        return f"DjangoCacheReplayGuard(cache={cache!r}, prefix={self._prefix!r})"


_PREFIX_RE: Final = re.compile(r"\A[\x21-\x7e]{0,100}\Z")
_MAX_TIMEOUT: Final = 10 * 365 * 24 * 3600


def _timeout(ttl: float) -> int | None:
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or math.isnan(ttl):
        raise ConfigurationError("ttl must be a number of seconds", setting="ttl")
    if ttl == math.inf:
        return None  # Django: keep for ever
    # Django reads 0 as "do not store" and Memcached reads fractions as 0: keep at least 1 s.
    return min(max(1, math.ceil(ttl)), _MAX_TIMEOUT) if ttl > 0 else 1


def _absolute_url(request: HttpRequest, base: tuple[str, str, str] | None, trust_forwarded: bool) -> str:
    if base is not None:
        scheme, host, prefix = base
        path = prefix + request.get_full_path_info() if prefix else request.get_full_path()
        return f"{scheme}://{host}{path}"
    if trust_forwarded:
        proto = forwarded_value(request.headers.get("X-Forwarded-Proto"))
        forwarded_host = forwarded_value(request.headers.get("X-Forwarded-Host"))
        scheme = checked_scheme(proto, header="X-Forwarded-Proto") if proto else request.scheme
        host = (
            checked_host(forwarded_host, header="X-Forwarded-Host") if forwarded_host else request.get_host()
        )
        return f"{scheme}://{host}{request.get_full_path()}"
    return str(request.build_absolute_uri())


def _reject(request: HttpRequest, error: ExamkitError, status: int) -> HttpResponse:
    log_rejection(error, status=status, method=str(request.method), path=str(request.path))
    return HttpResponse(REJECTED_BODY, status=status, content_type="text/plain; charset=utf-8")
