"""The async transport: the I/O of examkit's calls over an :class:`httpx.AsyncClient` (extra ``async``).

Everything a call means (retry decisions, error mapping, redaction) is in :mod:`examkit.core.http`
and is shared with the sync transport; this module only sends the bytes, with a deadline, and reads
the answer, at most ``max_response_bytes`` of it.

A user's ``httpx.AsyncClient`` is used as it is (proxies, certificates, a mounted transport), with
three exceptions for examkit's requests: redirects are never followed, the timeout and the deadline
are examkit's, and the client's own ``params`` and ``auth`` do not apply after signing (the
signature covers the URL as sent). httpx itself retries only connections that were never
established (``AsyncHTTPTransport(retries=...)``), so a POST or PATCH still reaches the vendor at
most once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, Final, TypeVar

import httpx

from examkit.core._copying import deepcopy_sharing
from examkit.core._repr import safe_repr
from examkit.core.errors import ApiError
from examkit.core.http import (
    _CHUNK,
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    USER_AGENT,
    HttpResponse,
    RetryPolicy,
    _Call,
    _Failure,
    _Rules,
    _with_query,
    logger,
)
from examkit.core.signing import Secret
from examkit.core.webhook import Headers

__all__: list[str] = []

_T = TypeVar("_T")
# asyncio.timeout (Python 3.11+) bounds an await without wrapping it in a task of its own.
_timeout: Final[Callable[[float], contextlib.AbstractAsyncContextManager[None]] | None] = getattr(
    asyncio, "timeout", None
)

_URLS: Final = 8  # parsed URLs kept per transport (the same endpoint, a status polled again; pages differ)
_CLOSED: Final = httpx.ByteStream(b"")  # the stream of a response once read and closed
_POOLS: Final = 128  # connection pools of the client examkit makes (httpx's default: 100 connections)
_POOL_SIZE: Final = 1  # ... each with at most this many connections, kept alive when idle


class _ReleaseOnClose(httpx.AsyncByteStream):
    """A response stream that tells its pool, once, when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        release, self._release = self._release, None
        try:
            await self._stream.aclose()
        finally:
            if release is not None:
                release()


class _Pools(httpx.AsyncBaseTransport):
    """httpx's own transport, several times over: the transport of the client examkit makes.

    httpcore's pool does work in proportion to the square of its connections for every request
    that starts or ends (at 64 concurrent calls, about 1.5 ms of CPU per call; each idle connection
    also costs a ``poll`` to see whether the server closed it), and keeps only 20 connections alive
    by default, so calls in waves reconnect. Each of these pools holds at most :data:`_POOL_SIZE`
    connections, kept alive while idle, and a request goes to the first pool with a free
    connection: one call at a time always uses the first pool's connection, and 64 concurrent
    calls use the first 64 pools. Past :data:`_POOLS` calls in flight, a call waits in the pool
    with the fewest waiting (httpx's pool timeout applies, as past httpx's 100 connections).
    Everything else (HTTP/1.1, TLS verification) is httpx's default. It is mounted for
    ``all://``, not passed as the client's ``transport``, so the proxies of the environment
    (``HTTPS_PROXY``, ``NO_PROXY``) still apply: httpx reads them only for a client made without
    a transport, and their more specific mounts take precedence.
    """

    def __init__(self, tls: ssl.SSLContext) -> None:
        self._pools: list[httpx.AsyncHTTPTransport | None] = [None] * _POOLS  # made when first needed
        self._busy = [0] * _POOLS
        self._tls = tls  # httpx's default context, loaded once for the client and all its pools

    def _pool(self, index: int) -> httpx.AsyncHTTPTransport:
        pool = self._pools[index]
        if pool is None:
            limits = httpx.Limits(max_connections=_POOL_SIZE, max_keepalive_connections=_POOL_SIZE)
            pool = self._pools[index] = httpx.AsyncHTTPTransport(verify=self._tls, limits=limits)
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        busy = self._busy
        index = next((i for i, n in enumerate(busy) if n < _POOL_SIZE), None)
        if index is None:  # every connection is in use: queue where the fewest wait
            index = min(range(_POOLS), key=busy.__getitem__)
        busy[index] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                busy[index] -= 1

        try:
            response = await self._pool(index).handle_async_request(request)
        except BaseException:
            release()
            raise
        stream = response.stream
        if not isinstance(stream, httpx.AsyncByteStream):  # pragma: no cover - httpx's own are
            release()
            return response
        response.stream = _ReleaseOnClose(stream, release)
        return response

    async def aclose(self) -> None:
        for pool in self._pools:
            if pool is not None:
                await pool.aclose()


# httpx's exceptions by what they say about the request: never sent, sent (or maybe sent).
_NOT_CONNECTED: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_BAD_URL: Final = (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError)
# The names the sync transport reports for the same faults, so that errors read the same.
_NAMES: Final[Mapping[type[BaseException], str]] = {
    httpx.ConnectTimeout: "ConnectTimeout",
    httpx.ReadTimeout: "ReadTimeout",
    httpx.WriteTimeout: "Timeout",
    httpx.PoolTimeout: "ConnectTimeout",
    httpx.ConnectError: "ConnectionError",
    httpx.ReadError: "ConnectionError",
    httpx.WriteError: "ConnectionError",
    httpx.RemoteProtocolError: "ConnectionError",
    httpx.CloseError: "ConnectionError",
}


def _name(exc: BaseException) -> str:
    for cls in type(exc).__mro__:
        name = _NAMES.get(cls)
        if name is not None:
            return name
    return type(exc).__name__


class _TooLargeError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class AsyncTransport(_Rules):
    """Sends a vendor's HTTP requests through an ``httpx.AsyncClient``, with the sync rules.

    Args:
        vendor: The vendor's name, carried by every error.
        client: An :class:`httpx.AsyncClient` to use (proxies, certificates, a mock transport).
            examkit does not close it. Without one, the transport makes and owns its own, with
            httpx's defaults (the environment's proxies and CA settings too) except that its
            connections are spread over small pools and all kept alive while idle, so that many
            concurrent calls (bulk issuance) reuse them.
        timeout: Seconds for connecting and reading, one number or a ``(connect, read)`` pair.
        retry: The retry policy for idempotent requests.
        secrets: Secrets to scrub from any text that ends up in an error message or log.
        sleep: The coroutine function used to wait between attempts (tests inject a fake).
        clock: The function that tells the time, for ``Retry-After`` dates.
        deadline: The longest one attempt may take in all, in seconds.
        max_response_bytes: The most response-body bytes read, after decompression.
    """

    def __init__(
        self,
        *,
        vendor: str,
        client: httpx.AsyncClient | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        secrets: Iterable[Secret] = (),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] | None = None,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        import time  # noqa: PLC0415 - only for the default clock

        self._configure(
            vendor=vendor,
            timeout=timeout,
            retry=retry,
            secrets=secrets,
            clock=clock if clock is not None else time.time,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )
        if client is not None and not isinstance(client, httpx.AsyncClient):
            from examkit.core._checks import config_error  # noqa: PLC0415

            raise config_error("client", "an httpx.AsyncClient, or None", client, vendor=vendor)
        self._owns_client = client is None
        if client is None:
            tls = httpx.create_ssl_context(verify=True, trust_env=True)  # what httpx would load
            client = httpx.AsyncClient(verify=tls, mounts={"all://": _Pools(tls)})
        self.client = client
        self._sleep = sleep
        self._urls: dict[str, httpx.URL] = {}  # httpx URLs are immutable: one per target is enough
        connect, read = self.timeout
        self._timeout = httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    async def aclose(self) -> None:
        """Close the client if the transport made it."""
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> AsyncTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __deepcopy__(self, memo: dict[int, Any]) -> AsyncTransport:
        return deepcopy_sharing(self, memo, self.client, self._sleep, self._clock, self._timeout)

    @safe_repr
    def __repr__(self) -> str:
        return (
            f"AsyncTransport(vendor={self.vendor!r}, timeout={self.timeout!r}, deadline={self.deadline!r}, "
            f"max_response_bytes={self.max_response_bytes!r}, retry={self.retry!r})"
        )

    async def request(
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
        """Send one request and return its response; the rules of the sync ``Transport.request``."""
        plan = self.plan(method, url, retry=retry, expected=expected)
        for attempt in range(1, plan.attempts + 1):
            logger.debug(
                "%s %s %s (attempt %d/%d)", self.vendor, plan.method, plan.shown_url, attempt, plan.attempts
            )
            outcome = await self._attempt(
                plan.method, url=url, params=params, headers=headers, body=body, sign=sign
            )
            verdict = plan.judge(outcome, attempt)
            if isinstance(verdict, HttpResponse):
                return verdict
            await self._sleep(verdict)
        raise AssertionError("unreachable")  # pragma: no cover

    async def run(self, call: _Call[_T]) -> _T:
        """Send ``call`` and read its answer (``call.read``), remapping errors with ``call.remap``."""
        try:
            response = await self.request(
                call.method,
                call.url,
                params=call.params,
                headers=call.headers,
                body=call.body,
                sign=call.sign,
                retry=call.retry,
                expected=call.expected,
            )
        except ApiError as exc:
            error = call.remap(exc) if call.remap is not None else None
            if error is None:
                raise
        else:
            return call.read(response)
        raise error  # outside the handler: no chained context

    async def _attempt(
        self,
        method: str,
        *,
        url: str,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        sign: Callable[[str, str, bytes], Mapping[str, str]] | None,
    ) -> HttpResponse | _Failure:
        """Build, sign and send one attempt; never raises (credentials live only in this frame)."""
        target = _with_query(url, params)
        try:
            parsed = self._urls.get(target)
            if parsed is None:  # parsed once (httpx checks every character): the URL signed is sent
                if len(self._urls) >= _URLS:
                    self._urls.clear()
                parsed = self._urls[target] = httpx.URL(target)
            # What client.build_request makes (the client's headers and cookies, then ours; the
            # timeout), without the client's params: the URL signed is the URL sent. (Built here:
            # build_request merges even empty params into the URL, which parses it again.)
            client = self.client
            merged = httpx.Headers(client.headers)
            merged.update({"User-Agent": USER_AGENT, **(headers or {})})
            request = httpx.Request(
                method,
                parsed,
                content=body,
                headers=merged,
                cookies=httpx.Cookies(client.cookies) if client.cookies else None,
                extensions={"timeout": self._timeout.as_dict()},
            )
            if sign is not None:
                request.headers.update(sign(method, target, body if body is not None else b""))
        except _BAD_URL as exc:
            return _Failure("config", type(exc).__name__)
        try:
            if _timeout is None:  # pragma: no cover - Python 3.10: a task per attempt
                return await asyncio.wait_for(self._exchange(request, url), self.deadline)
            async with _timeout(self.deadline):  # no task of its own: it cancels this one
                return await self._exchange(request, url)
        except asyncio.TimeoutError:
            return _Failure("deadline", f"the {self.deadline:g} s deadline passed")

    async def _exchange(self, request: httpx.Request, url: str) -> HttpResponse | _Failure:
        try:
            raw = await self.client.send(request, stream=True, follow_redirects=False, auth=None)
        except _BAD_URL as exc:
            return _Failure("config", type(exc).__name__)
        except httpx.TimeoutException as exc:
            return _Failure("timeout", _name(exc), sent=not isinstance(exc, _NOT_CONNECTED))
        except Exception as exc:  # any transport fault is a transport failure
            return _Failure("failed", _name(exc), sent=not isinstance(exc, _NOT_CONNECTED))
        try:
            content = await self._read(raw)
        except _TooLargeError as exc:
            return _Failure("too-large", f"more than {self.max_response_bytes} bytes", status_code=exc.status)
        except Exception as exc:  # a fault while reading the body
            kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "failed"
            return _Failure(kind, _name(exc))
        finally:
            with contextlib.suppress(Exception):
                await raw.aclose()
            # httpx's response and its stream refer to each other: cut the loop, so each response
            # is freed when this call returns instead of waiting (with its body) for the cyclic
            # collector, which on Python 3.13 let paging hold about 0.6 MB more at its peak.
            raw.stream = _CLOSED
        return self.response(raw.status_code, Headers(list(raw.headers.items())), content, url)

    async def _read(self, raw: httpx.Response) -> bytes:
        """Read the body in chunks, decompressed, stopping past ``max_response_bytes``."""
        limit = self.max_response_bytes
        length = (raw.headers.get("Content-Length") or "").strip()
        encoding = (raw.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding in ("", "identity") and length.isascii() and length.isdigit() and int(length) > limit:
            raise _TooLargeError(raw.status_code)
        if encoding in ("", "identity") and length.isascii() and length.isdigit():
            # The framing bounds the body at Content-Length (h11 reads no further): read it whole.
            return await raw.aread()
        chunks: list[bytes] = []
        size = 0
        async for chunk in raw.aiter_bytes(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _TooLargeError(raw.status_code)
            chunks.append(chunk)
        return b"".join(chunks)
