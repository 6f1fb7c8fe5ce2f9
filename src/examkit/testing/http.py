"""An in-process HTTP fake for :mod:`requests` and ``httpx``: route handlers behind a transport.

A :class:`FakeHttpAdapter` answers requests sent through any session it is mounted on, by calling
the handler registered for the request's method and path; :meth:`FakeHttpAdapter.httpx_client`
gives an ``httpx.AsyncClient`` served by the same handlers, for the async clients. Handlers receive
a :class:`FakeRequest` and return a :class:`FakeResponse`. Every request is recorded, so tests can
count calls and look at the exact bytes that were sent.
"""

from __future__ import annotations

import json
import re
import string
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlsplit

import attrs
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from examkit.core.webhook import Headers

if TYPE_CHECKING:
    import httpx

__all__ = [
    "FakeHttpAdapter",
    "FakeRequest",
    "FakeResponse",
]


@attrs.frozen
class FakeRequest:
    """A request as the fake received it.

    Attributes:
        method: The upper-case method.
        url: The full URL, query included.
        path: The URL's path.
        query: The decoded query parameters (the last value of a repeated name wins).
        headers: The request headers (case-insensitive).
        body: The exact body bytes sent.
    """

    method: str
    url: str
    path: str
    query: Mapping[str, str]
    headers: Headers
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")

    def json(self) -> Any:
        """Decode the body as JSON."""
        return json.loads(self.body)


@attrs.frozen
class FakeResponse:
    """What a handler answers.

    Attributes:
        status: The HTTP status.
        body: The body: bytes as they are, text as UTF-8, anything else as JSON.
        headers: Extra response headers.
    """

    status: int = 200
    body: Any = b""
    headers: Mapping[str, str] = attrs.field(factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        """Return the body bytes and headers with a fitting ``Content-Type``."""
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            return self.body, headers
        if isinstance(self.body, str):
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return self.body.encode("utf-8"), headers
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body).encode("utf-8"), headers


Handler = Callable[[FakeRequest], FakeResponse]
"""A route handler of a :class:`FakeHttpAdapter`."""


class FakeHttpAdapter(BaseAdapter):
    """A :mod:`requests` transport adapter that answers from registered handlers, in process.

    Unknown routes answer 404 with a JSON body naming the route. Thread-safe: handlers may be called
    from several threads (bulk operations); the record of requests is kept under a lock.

    Args:
        base_url: The scheme and host the adapter serves, e.g. ``"https://fake.itep.example"``.
    """

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self._routes: dict[tuple[str, str], Handler] = {}
        self._lock = threading.Lock()
        self.requests: list[FakeRequest] = []

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Answer ``method path`` with ``handler``."""
        self._routes[(method.upper(), _canonical_path(path))] = handler

    def session(self) -> requests.Session:
        """Return a new session on which this adapter serves ``base_url``."""
        session = requests.Session()
        session.mount(self.base_url, self)
        return session

    def httpx_client(self) -> httpx.AsyncClient:
        """Return a new ``httpx.AsyncClient`` on which this fake serves ``base_url``.

        The async twin of :meth:`session` (needs ``httpx``, the ``async`` extra). Handlers run on
        a worker thread, so a handler that sleeps (to play latency) does not block the event loop.
        """
        import httpx  # noqa: PLC0415 - only for async tests

        return httpx.AsyncClient(mounts={self.base_url: _async_transport(self)})

    def calls(self, method: str | None = None, path: str | None = None) -> list[FakeRequest]:
        """Return the recorded requests, optionally only those with this method and path."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper()) and (path is None or r.path == path)
            ]

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        """Answer ``request`` from the registered handlers (called by :mod:`requests`)."""
        url = request.url or ""
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        status, content, headers = self.answer(
            (request.method or "GET").upper(), url, dict(request.headers), bytes(body)
        )
        response = requests.Response()
        response.status_code = status
        response._content = content
        response.headers = CaseInsensitiveDict(headers)
        response.url = url
        response.request = request
        response.reason = "fake"
        return response

    def answer(
        self, method: str, url: str, headers: Mapping[str, str] | list[tuple[str, str]], body: bytes
    ) -> tuple[int, bytes, dict[str, str]]:
        """Record a request and return the handler's status, body bytes and headers."""
        parts = urlsplit(url)
        fake = FakeRequest(
            method=method,
            url=url,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=Headers(headers),
            body=body,
        )
        with self._lock:
            self.requests.append(fake)
        handler = self._routes.get((fake.method, _canonical_path(fake.path)))
        answer = (
            handler(fake)
            if handler is not None
            else FakeResponse(404, {"error": f"no fake route for {fake.method} {fake.path}"})
        )
        content, response_headers = answer.encoded()
        return answer.status, content, response_headers

    def close(self) -> None:
        """Nothing to release."""


_UNRESERVED: Final = frozenset(string.ascii_letters + string.digits + "-._~")
_PERCENT: Final = re.compile(r"%([0-9A-Fa-f]{2})")


def _canonical_path(path: str) -> str:
    """A path as a server compares it: percent-encoded unreserved characters decoded (RFC 3986 6.2.2.2).

    ``requests`` sends ``%2E`` as ``.`` and ``httpx`` keeps ``%2E``: both mean the same segment.
    """

    def decode(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else match.group(0).upper()

    return _PERCENT.sub(decode, path)


def _async_transport(adapter: FakeHttpAdapter) -> httpx.AsyncBaseTransport:
    """An httpx transport that answers from ``adapter``'s handlers (on a worker thread)."""
    import asyncio  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    class _FakeAsyncTransport(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            body = await request.aread()
            status, content, headers = await asyncio.to_thread(
                adapter.answer, request.method.upper(), str(request.url), list(request.headers.items()), body
            )
            return httpx.Response(status, headers=headers, content=content, request=request)

    return _FakeAsyncTransport()


for _model in (FakeRequest, FakeResponse):
    attrs.resolve_types(_model)  # annotations as types, not strings, for users' tools and converters
