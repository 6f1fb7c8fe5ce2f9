"""Verify webhooks in Flask views.

Needs Flask (``pip install 'examkit[flask]'``)::

    from examkit.integrations.flask import verified_webhook

    @app.post("/webhooks/results")
    @verified_webhook(verifier)
    def results(event):
        ...  # only reached with a verified, typed event
        return "", 204

:func:`verified_webhook` reads the raw body from ``request.stream`` within the verifier's
``max_body_size`` (a larger ``Content-Length`` is refused unread; a chunked body is cut at the limit),
caches it as ``request.get_data(cache=True)`` would, verifies it and calls the view with the typed event
as its one argument (plus the route's URL variables, if it has any, as keyword arguments). Failures are
answered with a generic body and the status given by :func:`examkit.integrations.status_for_error` (400,
401, 409 or 413); the specific cause is logged to the ``examkit.integrations`` logger. It works on app
routes, blueprint routes and ``add_url_rule``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, Final, ParamSpec, Protocol, TypeVar, cast, overload

try:
    from flask import Request, Response, current_app
    from flask import request as current_request
    from werkzeug.exceptions import RequestEntityTooLarge
    from werkzeug.sansio.utils import get_current_url
    from werkzeug.urls import iri_to_uri
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without Flask
    if exc.name is None or exc.name.partition(".")[0] not in ("flask", "werkzeug"):
        raise
    raise ImportError(
        "examkit.integrations.flask needs Flask: install it with pip install 'examkit[flask]'"
    ) from exc

from examkit.core.errors import ExamkitError, PayloadTooLargeError
from examkit.core.webhook import DEFAULT_MAX_BODY_SIZE, WebhookRequest, WebhookVerifier, body_size_limit
from examkit.integrations._common import (
    REJECTED_BODY,
    BodyAlreadyReadError,
    adapter_body_limit,
    check_verifier,
    checked_host,
    checked_scheme,
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
    "verified_webhook",
    "webhook_request_from_flask",
]

EventT = TypeVar("EventT")
EventT_co = TypeVar("EventT_co", covariant=True)
P = ParamSpec("P")
R = TypeVar("R")


class _ViewDecorator(Protocol[EventT_co]):
    """What :func:`verified_webhook` returns: keeps a view sync or async, adds the reject response.

    The view's first parameter must accept the verifier's event type; the rest of its signature (the
    route's URL variables) is kept, so type checkers see what Flask calls.
    """

    @overload
    def __call__(
        self, view: Callable[Concatenate[EventT_co, P], Awaitable[R]], /
    ) -> Callable[P, Awaitable[R | Response]]: ...

    @overload
    def __call__(self, view: Callable[Concatenate[EventT_co, P], R], /) -> Callable[P, R | Response]: ...


_FORM_TYPES: Final = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
_CONSUMED_MESSAGE: Final = (
    "the request body was already consumed by form parsing (request.form, request.files or "
    "request.values was read before examkit, for example in a before_request hook). examkit needs "
    "the raw bytes: call request.get_data(cache=True) before touching the form, or leave the form "
    "alone on webhook URLs and let examkit.integrations.flask.verified_webhook read the body"
)


def webhook_request_from_flask(
    request: Request | None = None,
    *,
    public_url: str | None = None,
    trust_forwarded: bool = False,
    max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
) -> WebhookRequest:
    """Build a :class:`~examkit.WebhookRequest` from a Flask (Werkzeug) request.

    The body is the raw bytes as received, read from ``request.stream`` within ``max_body_size``
    and cached as ``request.get_data(cache=True)`` would (so the view can still read
    ``request.data`` or ``request.get_json()`` afterwards); the headers and method are the
    request's. The absolute URL (signed by some vendors) is, in order of preference:

    - with ``public_url``: its scheme and host. A path in it (``https://example.com/api``) replaces
      the application's root path (``request.root_path``), for a proxy that strips a prefix. The
      query string is always the request's own.
    - with ``trust_forwarded``: the scheme from ``X-Forwarded-Proto`` and the host from
      ``X-Forwarded-Host`` (each the value set by the nearest proxy, the last in a list), falling
      back to the request's own when a header is absent. Only enable this behind a proxy that sets
      these headers.
    - otherwise ``request.url`` as a URI, which honours Werkzeug's ``ProxyFix`` middleware and
      ``TRUSTED_HOSTS``.

    Args:
        request: The request; by default Flask's current request.
        public_url: The public base URL the vendor calls, e.g. ``"https://hooks.example.com"``.
        trust_forwarded: Take the scheme and host from the ``X-Forwarded-*`` headers.
        max_body_size: The most body bytes read (default 1 MiB, the verifiers' default; ``None``:
            only Flask's ``MAX_CONTENT_LENGTH``). Pass the verifier's ``max_body_size`` if you changed it.
            A larger ``Content-Length`` is refused before reading; a body without one (chunked) is
            read in chunks and refused as soon as it goes past the limit.

    Raises:
        BodyAlreadyReadError: Form parsing consumed the body before.
        PayloadTooLargeError: The body is over ``max_body_size`` or Flask's ``MAX_CONTENT_LENGTH``.
        ValidationError: A trusted ``X-Forwarded-Proto`` or ``X-Forwarded-Host`` is malformed.
        ConfigurationError: ``public_url`` is not an absolute http(s) URL, or both options are given.
    """
    base = url_base(public_url, trust_forwarded)
    limit = body_size_limit(max_body_size)
    return _build(current_request if request is None else request, base, trust_forwarded, limit)


def _build(
    request: Request, base: tuple[str, str, str] | None, trust_forwarded: bool, limit: int | None
) -> WebhookRequest:
    if (
        "form" in request.__dict__
        and getattr(request, "_cached_data", None) is None
        and request.mimetype in _FORM_TYPES
        and request.content_length != 0
    ):
        raise BodyAlreadyReadError(_CONSUMED_MESSAGE)
    return WebhookRequest(
        body=_read_body(request, limit),
        headers=list(request.headers.items()),
        url=_absolute_url(request, base, trust_forwarded),
        method=request.method,
    )


def _read_body(request: Request, limit: int | None) -> bytes:
    """The raw body, refused from its ``Content-Length`` or read in chunks, never past the limit."""
    flask_limit = request.max_content_length
    effective = smallest_limit(limit, flask_limit)

    def over(size: int, effective: int, *, streamed: bool) -> PayloadTooLargeError:
        if effective == flask_limit and (limit is None or flask_limit < limit):
            return PayloadTooLargeError(
                f"the body is over Flask's MAX_CONTENT_LENGTH ({flask_limit} bytes); raise that "
                "setting if such webhooks are expected",
                size=size,
                limit=flask_limit,
            )
        return too_large(size=size, limit=effective, streamed=streamed)

    cached = getattr(request, "_cached_data", None)
    if isinstance(cached, bytes):  # get_data(cache=True) ran before
        if effective is not None and len(cached) > effective:
            raise over(len(cached), effective, streamed=True)
        return cached
    declared = request.content_length
    if effective is not None and declared is not None and declared > effective:
        raise over(declared, effective, streamed=False)  # refused without reading a byte
    try:
        body = read_capped(request.stream.read, limit=effective)
    except RequestEntityTooLarge:  # Werkzeug's own check of MAX_CONTENT_LENGTH
        raise over(declared or 0, flask_limit or 0, streamed=True) from None
    except PayloadTooLargeError as exc:
        raise over(exc.size, exc.limit, streamed=True) from None
    # What get_data(cache=True) keeps: the view can still read request.data, get_json() or form.
    request._cached_data = body
    return body


def verified_webhook(
    verifier: WebhookVerifier[EventT],
    *,
    public_url: str | None = None,
    trust_forwarded: bool = False,
) -> _ViewDecorator[EventT]:
    """Decorate a Flask view so that it only ever runs with a verified, typed event.

    Put it below the route decorator (``@app.post(...)`` or ``@blueprint.post(...)``). The view is
    called with the typed event as its one argument, followed by the route's URL variables as
    keyword arguments when it has any. ``async def`` views work too (with ``flask[async]``).

    A request that fails verification never reaches the view: the decorator answers it with the
    generic body ``webhook rejected`` and the status of
    :func:`~examkit.integrations.status_for_error`: 400 for a missing or malformed signature or body,
    401 for a signature mismatch or a stale timestamp, 409 for a replay, 413 for a body over the
    limit. The specific cause is logged to the ``examkit.integrations`` logger.
    :class:`~examkit.integrations.BodyAlreadyReadError` and other configuration errors propagate
    (a server error), because the application has to change.

    Args:
        verifier: Any examkit webhook verifier (an object with ``verify(WebhookRequest)``).
        public_url: See :func:`webhook_request_from_flask`.
        trust_forwarded: See :func:`webhook_request_from_flask`.

    Raises:
        ConfigurationError: When decorating: ``verifier`` has no ``verify`` method, or the URL
            options are invalid.
    """
    check_verifier(verifier)
    base = url_base(public_url, trust_forwarded)  # checked once, when decorating

    def verify() -> EventT:
        limit = adapter_body_limit(verifier)
        return cast("EventT", verify_logged(verifier, _build(current_request, base, trust_forwarded, limit)))

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_wrapper(**kwargs: Any) -> Any:
                async def verified() -> Any:
                    return verify()

                async def respond(event: Any) -> Any:
                    return _as_response(await view(event, **kwargs))

                return await handle_async(verified, respond, _reject)

            return async_wrapper

        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            return handle(verify, lambda event: _as_response(view(event, **kwargs)), _reject)

        return wrapper

    return cast("_ViewDecorator[EventT]", decorator)


def _as_response(value: Any) -> Any:
    """Turn whatever the view returned into a response (as Flask would), to read its status."""
    return current_app.make_response(value)


def _absolute_url(request: Request, base: tuple[str, str, str] | None, trust_forwarded: bool) -> str:
    scheme, host, root_path = request.scheme, request.host, request.root_path
    if base is not None:
        scheme, host, prefix = base
        root_path = prefix or root_path
    elif trust_forwarded:
        proto = forwarded_value(request.headers.get("X-Forwarded-Proto"))
        forwarded_host = forwarded_value(request.headers.get("X-Forwarded-Host"))
        if proto:
            scheme = checked_scheme(proto, header="X-Forwarded-Proto")
        if forwarded_host:
            host = checked_host(forwarded_host, header="X-Forwarded-Host")
    url = get_current_url(scheme, host, root_path, request.path, request.query_string)
    return iri_to_uri(url)


def _reject(error: ExamkitError, status: int) -> Response:
    log_rejection(error, status=status, method=current_request.method, path=current_request.path)
    return current_app.response_class(REJECTED_BODY, status=status, mimetype="text/plain")
