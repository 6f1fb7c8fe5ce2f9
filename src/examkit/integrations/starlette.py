"""Verify webhooks in FastAPI and Starlette apps (ASGI).

Needs Starlette (``pip install 'examkit[starlette]'``, or ``'examkit[fastapi]'``). One decorator serves
both frameworks; the view is called as ``view(request, event, ...)``, as in Django::

    from examkit.integrations.starlette import verified_webhook

    @app.post("/webhooks/results")          # FastAPI
    @verified_webhook(verifier)
    async def results(request: Request, event: ExamResult) -> dict[str, str]:
        ...  # only reached with a verified, typed event
        return {"ok": "yes"}

    async def results(request: Request, event: ExamResult) -> Response: ...  # Starlette
    hook = verified_webhook(verifier)(results)
    app = Starlette(routes=[Route("/webhooks/results", hook, methods=["POST"])])

:func:`verified_webhook` reads the raw body from the ASGI stream within the verifier's
``max_body_size`` (a larger ``Content-Length`` is refused before a byte is read; a chunked body is cut
as soon as it passes the limit), verifies it in a worker thread (so a network replay guard never
blocks the event loop), and calls the view with the typed event. Failures are answered with the
generic body and the status of :func:`examkit.integrations.status_for_error` (400, 401, 409, 413,
503), the cause logged to the ``examkit.integrations`` logger. The replay claim is released when the
view raises or answers 5xx, so the vendor's retry is accepted.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import ipaddress
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Concatenate, Final, ParamSpec, Protocol, TypeVar, cast, overload

try:
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import PlainTextResponse, Response
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without Starlette
    if exc.name is None or exc.name.partition(".")[0] != "starlette":
        raise
    raise ImportError(
        "examkit.integrations.starlette needs Starlette: install it with pip install 'examkit[starlette]'"
    ) from exc

from examkit.core.errors import ConfigurationError, ExamkitError, ValidationError
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
    handle_async,
    log_rejection,
    too_large,
    url_base,
    verify_logged,
)

__all__ = [
    "verified_webhook",
    "webhook_request_from_starlette",
]

EventT = TypeVar("EventT")
EventT_co = TypeVar("EventT_co", covariant=True)
P = ParamSpec("P")
R = TypeVar("R")

_CONSUMED_MESSAGE: Final = (
    "the request body was already consumed (request.stream() was read before examkit, by a "
    "middleware or a dependency that does not cache it). examkit needs the raw bytes: read them with "
    "await request.body() (which Starlette caches), or leave the body alone on webhook URLs"
)

_Proxies = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] | None
"""Parsed trusted proxies: networks, ``()`` for none, ``None`` for every client ("*")."""


class _ViewDecorator(Protocol[EventT_co]):
    """What :func:`verified_webhook` returns: ``view(request, event, ...)`` loses its event.

    The view's second parameter must accept the verifier's event type; the rest of the signature is
    kept (FastAPI still injects the view's other parameters).
    """

    @overload
    def __call__(
        self, view: Callable[Concatenate[Request, EventT_co, P], Awaitable[R]], /
    ) -> Callable[Concatenate[Request, P], Awaitable[R | Response]]: ...

    @overload
    def __call__(
        self, view: Callable[Concatenate[Request, EventT_co, P], R], /
    ) -> Callable[Concatenate[Request, P], Awaitable[R | Response]]: ...


def _trusted(proxies: str | Iterable[str] | None) -> _Proxies:
    """Parse ``forwarded_allow_ips`` as uvicorn does: ``"*"``, or IP addresses and networks."""
    if proxies is None:
        return ()
    items = [p.strip() for p in proxies.split(",")] if isinstance(proxies, str) else list(proxies)
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for item in items:
        if item == "*":
            return None
        try:
            networks.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            raise ConfigurationError(
                "forwarded_allow_ips must be '*' or IP addresses and networks such as '10.0.0.0/8'",
                setting="forwarded_allow_ips",
            ) from None
    return tuple(networks)


def _from_trusted_proxy(request: Request, proxies: _Proxies) -> bool:
    if proxies is None:
        return True
    if not proxies or request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:  # a Unix socket path, or a test client's name
        return False
    return any(address in network for network in proxies)


async def webhook_request_from_starlette(
    request: Request,
    *,
    public_url: str | None = None,
    forwarded_allow_ips: str | Iterable[str] | None = None,
    max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
) -> WebhookRequest:
    """Build a :class:`~examkit.WebhookRequest` from a Starlette (or FastAPI) request.

    The body is the raw bytes as received, read from the ASGI stream within ``max_body_size`` and
    cached as ``await request.body()`` does (so the view can still read it). The absolute URL
    (signed by some vendors) is, in order of preference:

    - with ``public_url``: its scheme and host; a path in it replaces the app's ``root_path``. The
      query string is always the request's own.
    - with ``forwarded_allow_ips`` (uvicorn's ``--forwarded-allow-ips`` semantics: ``"*"``, or IP
      addresses and networks): when the client is one of these proxies, the scheme from
      ``X-Forwarded-Proto`` and the host from ``X-Forwarded-Host`` (each the nearest proxy's, the
      last in a list); from any other client they are ignored.
    - otherwise ``request.url``, which honours what the ASGI server applied (uvicorn's
      ``--proxy-headers`` sets the scheme from trusted proxies, not the host).

    Args:
        request: The incoming request, before anything read its stream.
        public_url: The public base URL the vendor calls, e.g. ``"https://hooks.example.com"``.
        forwarded_allow_ips: The proxies whose ``X-Forwarded-*`` headers are trusted.
        max_body_size: The most body bytes read (default 1 MiB, the verifiers' default; ``None``: no
            limit). Pass the verifier's ``max_body_size`` if you changed it.

    Raises:
        BodyAlreadyReadError: The stream was consumed before.
        PayloadTooLargeError: The body is over ``max_body_size``.
        ValidationError: A trusted ``X-Forwarded-Proto`` or ``X-Forwarded-Host`` is malformed, or the
            client disconnected before the body was complete.
        ConfigurationError: ``public_url`` or ``forwarded_allow_ips`` is malformed, or both are given.
    """
    proxies = _trusted(forwarded_allow_ips)
    base = url_base(public_url, forwarded_allow_ips is not None, option="forwarded_allow_ips")
    return await _build(request, base, proxies, body_size_limit(max_body_size))


async def _build(
    request: Request, base: tuple[str, str, str] | None, proxies: _Proxies, limit: int | None
) -> WebhookRequest:
    body = await _read_body(request, limit)
    return WebhookRequest(
        body=body,
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
        url=_absolute_url(request, base, proxies),
        method=request.method,
    )


async def _read_body(request: Request, limit: int | None) -> bytes:
    cached = getattr(request, "_body", None)
    if isinstance(cached, bytes):  # await request.body() ran before
        if limit is not None and len(cached) > limit:
            raise too_large(size=len(cached), limit=limit, streamed=True)
        return cached
    declared = declared_length(request.headers.get("content-length"))
    if limit is not None and declared is not None and declared > limit:
        raise too_large(size=declared, limit=limit, streamed=False)  # refused without reading a byte
    parts: list[bytes] = []
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if limit is not None and total > limit:
                raise too_large(size=total, limit=limit, streamed=True)
            parts.append(chunk)
    except RuntimeError as exc:  # Starlette: "Stream consumed"
        raise BodyAlreadyReadError(_CONSUMED_MESSAGE) from exc
    except ClientDisconnect:
        raise ValidationError(
            "the client disconnected before the body was complete", field="body", reason="incomplete"
        ) from None
    body = b"".join(parts)
    request._body = body  # what request.body() keeps: the view can still read it
    return body


def _absolute_url(request: Request, base: tuple[str, str, str] | None, proxies: _Proxies) -> str:
    url = request.url
    query = f"?{url.query}" if url.query else ""
    if base is not None:
        scheme, host, prefix = base
        root = str(request.scope.get("root_path", ""))
        path = url.path
        if prefix and root and path.startswith(root):
            path = path[len(root) :]
        return f"{scheme}://{host}{prefix}{path}{query}"
    if proxies != () and _from_trusted_proxy(request, proxies):
        proto = forwarded_value(request.headers.get("x-forwarded-proto"))
        forwarded_host = forwarded_value(request.headers.get("x-forwarded-host"))
        scheme = checked_scheme(proto, header="X-Forwarded-Proto") if proto else url.scheme
        host = checked_host(forwarded_host, header="X-Forwarded-Host") if forwarded_host else url.netloc
        return f"{scheme}://{host}{url.path}{query}"
    return str(url)


def verified_webhook(
    verifier: WebhookVerifier[EventT],
    *,
    public_url: str | None = None,
    forwarded_allow_ips: str | Iterable[str] | None = None,
) -> _ViewDecorator[EventT]:
    """Decorate a FastAPI path operation or a Starlette endpoint so it only runs with a verified event.

    The view is called as ``view(request, event, *args, **kwargs)``: a Starlette endpoint gets the
    request and the event; a FastAPI path operation declares ``request: Request`` first and the event
    second, and FastAPI still injects its other parameters (path, query, dependencies). Sync views run
    in Starlette's thread pool. Put the decorator below FastAPI's route decorator.

    A request that fails verification never reaches the view: the decorator answers it with the
    generic body ``webhook rejected`` and the status of
    :func:`~examkit.integrations.status_for_error` (400, 401, 409, 413, or 503 when a shared replay
    guard is unreachable). The cause is logged; when the verifier offers ``verify_detailed``, which
    secret matched is logged at ``INFO``. The replay claim is released when the view raises or answers
    5xx. :class:`~examkit.integrations.BodyAlreadyReadError` and other configuration errors propagate.

    Args:
        verifier: Any examkit webhook verifier (an object with ``verify(WebhookRequest)``).
        public_url: See :func:`webhook_request_from_starlette`.
        forwarded_allow_ips: See :func:`webhook_request_from_starlette`.

    Raises:
        ConfigurationError: When decorating: ``verifier`` has no ``verify`` method, or the URL
            options are invalid.
    """
    check_verifier(verifier)
    proxies = _trusted(forwarded_allow_ips)
    base = url_base(
        public_url, forwarded_allow_ips is not None, option="forwarded_allow_ips"
    )  # checked once, when decorating

    def decorator(view: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        is_async = inspect.iscoroutinefunction(view)
        signature = _without_event(view)
        request_name = next(iter(signature.parameters), "request")

        @functools.wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if args:
                request, args = args[0], args[1:]
            else:
                request = kwargs.pop(request_name)

            async def verify() -> Any:
                built = await _build(request, base, proxies, adapter_body_limit(verifier))
                context = contextvars.copy_context()  # the replay scope, in the worker thread
                return await run_in_threadpool(context.run, verify_logged, verifier, built)

            async def respond(event: Any) -> Any:
                if is_async:
                    return await view(request, event, *args, **kwargs)
                return await run_in_threadpool(view, request, event, *args, **kwargs)

            def reject(error: ExamkitError, status: int) -> Response:
                log_rejection(error, status=status, method=request.method, path=request.url.path)
                return PlainTextResponse(REJECTED_BODY, status_code=status)

            return await handle_async(verify, respond, reject)

        wrapper.__signature__ = signature  # type: ignore[attr-defined]  # what FastAPI injects
        return wrapper

    return cast("_ViewDecorator[EventT]", decorator)


def _without_event(view: Callable[..., Any]) -> inspect.Signature:
    """The view's signature without its event (second) parameter, annotations resolved for FastAPI."""
    try:
        signature = inspect.signature(view, eval_str=True)
    except Exception:  # an annotation that names a local: FastAPI reads it as given
        signature = inspect.signature(view)
    parameters = list(signature.parameters.values())
    if len(parameters) < 2 and not any(p.kind is p.VAR_POSITIONAL for p in parameters):
        raise ConfigurationError(
            "the view must take the request and the event: view(request, event, ...)", setting="view"
        )
    del parameters[1:2]
    return signature.replace(parameters=parameters)
