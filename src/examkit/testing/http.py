"""An in-process HTTP fake for :mod:`requests`: route handlers behind a transport adapter.

A :class:`FakeHttpAdapter` answers requests sent through any session it is mounted on, by calling
the handler registered for the request's method and path. Handlers receive a :class:`FakeRequest`
and return a :class:`FakeResponse`. Every request is recorded, so tests can count calls and look at
the exact bytes that were sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from examkit.core.webhook import Headers

__all__ = ["FakeHttpAdapter", "FakeRequest", "FakeResponse", "Handler"]


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
        self._routes[(method.upper(), path)] = handler

    def session(self) -> requests.Session:
        """Return a new session on which this adapter serves :attr:`base_url`."""
        session = requests.Session()
        session.mount(self.base_url, self)
        return session

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
        parts = urlsplit(url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        fake = FakeRequest(
            method=(request.method or "GET").upper(),
            url=url,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=Headers(dict(request.headers)),
            body=bytes(body),
        )
        with self._lock:
            self.requests.append(fake)
        handler = self._routes.get((fake.method, fake.path))
        answer = (
            handler(fake)
            if handler is not None
            else FakeResponse(404, {"error": f"no fake route for {fake.method} {fake.path}"})
        )
        content, headers = answer.encoded()
        response = requests.Response()
        response.status_code = answer.status
        response._content = content
        response.headers = CaseInsensitiveDict(headers)
        response.url = url
        response.request = request
        response.reason = "fake"
        return response

    def close(self) -> None:
        """Nothing to release."""


for _model in (FakeRequest, FakeResponse):
    attrs.resolve_types(_model)  # annotations as types, not strings, for users' tools and converters
