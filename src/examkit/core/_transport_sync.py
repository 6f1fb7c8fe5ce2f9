"""The sync transport: the I/O of examkit's calls over a :class:`requests.Session`.

Everything a call means (retry decisions, error mapping, redaction) is in :mod:`examkit.core.http`;
this module only sends the bytes through the session, with a deadline, and reads the answer.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3
import urllib3.connection
import urllib3.poolmanager
from requests.cookies import extract_cookies_to_jar
from requests.hooks import dispatch_hook
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.retry import Retry

from examkit.core._copying import sharing_deepcopy
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
    logger,
)
from examkit.core.signing import Secret
from examkit.core.webhook import Headers

__all__: list[str] = []

_T = TypeVar("_T")
_NO_RETRIES: Final = Retry(0, read=False)  # requests' own default: nothing is ever retried
_BAD_URL: Final = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
)


class _TooLargeError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Exchange:
    """One attempt's send and body read, on a worker thread or inline, so that a deadline can end it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.raw: requests.Response | None = None
        self.body: bytes | None = None
        self.failure: _Failure | None = None
        self.abandoned = False
        self.finished = False
        self.reconnect = False  # an inline attempt that needed a connection, so sent nothing
        self.connection: urllib3.connection.HTTPConnection | None = None  # an inline attempt's
        self.due = math.inf  # an inline attempt's deadline, on time.monotonic()

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

    def bind(self, connection: urllib3.connection.HTTPConnection) -> None:
        """Note the connection an inline attempt sends on (it is shut now if the deadline passed)."""
        with self._lock:
            self.connection = connection
            if self.abandoned:
                _shut_connection(connection)

    def unbind(self, connection: urllib3.connection.HTTPConnection) -> None:
        """Forget the connection as it goes back to its pool: from then on it is another call's."""
        with self._lock:
            if self.connection is connection:
                self.connection = None

    def expire(self) -> None:
        """End an inline attempt at its deadline: shut the socket of the connection it is using."""
        with self._lock:
            if self.finished:
                return
            self.abandoned = True
            # Only a connection still bound: one given back may be another call's already (urllib3
            # puts it back before the response forgets it, so the response's is no guide).
            if self.connection is not None:
                _shut_connection(self.connection)

    def finish(self) -> bool:
        """Mark the attempt finished; return whether its deadline had passed first."""
        with self._lock:
            self.finished = True
            return self.abandoned


def _shut_connection(connection: urllib3.connection.HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    for _ in range(4):  # TLS inside TLS (an HTTPS proxy) or pyOpenSSL wrap the socket: unwrap
        if sock is None or isinstance(sock, socket.socket):
            break
        sock = getattr(sock, "socket", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Inline(threading.local):
    """Per thread: the inline attempt in progress, told by the connections of examkit's own pools."""

    exchange: _Exchange | None = None


_INLINE: Final = _Inline()


class _Reconnect(Exception):  # noqa: N818 - a signal between examkit's own parts, never shown
    """Raised by a connection asked to connect during an inline attempt: nothing was sent yet.

    The idle connection an attempt counted on was gone (the server closed it while idle, or another
    thread took it first); a name lookup and a connect cannot be cut short by shutting a socket, so
    the attempt starts again on a worker thread.
    """


class _Bound:
    """What examkit's connections add to urllib3's: each request says which attempt sends it.

    An attempt sent from the calling thread can only be ended at its deadline by shutting its
    socket from another thread (the watchdog); these connections tell that attempt, as every
    request starts, that it is theirs, and refuse to connect during one (:class:`_Reconnect`).
    Everything else is urllib3's.
    """

    def connect(self) -> None:
        if _INLINE.exchange is not None:
            raise _Reconnect
        super().connect()  # type: ignore[misc]

    def request(self, *args: Any, **kwargs: Any) -> Any:
        exchange = _INLINE.exchange
        if exchange is not None:
            exchange.bind(self)  # type: ignore[arg-type]
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _Connection(_Bound, urllib3.connection.HTTPConnection):
    """urllib3's HTTP connection that tells the inline attempt sending on it (:class:`_Bound`)."""


class _TLSConnection(_Bound, urllib3.connection.HTTPSConnection):
    """urllib3's HTTPS connection that tells the inline attempt sending on it (:class:`_Bound`)."""


class _Releasing:
    """What examkit's pools add to urllib3's: a connection given back is no longer the attempt's."""

    def _put_conn(self, conn: Any) -> None:
        exchange = _INLINE.exchange
        if exchange is not None and conn is not None:
            exchange.unbind(conn)
        super()._put_conn(conn)  # type: ignore[misc]

    def idle_open_connection(self) -> bool:
        """Whether a connection with an open socket waits in the pool (no connect is needed)."""
        waiting = getattr(getattr(self, "pool", None), "queue", ())  # a LifoQueue, or None once closed
        return any(getattr(conn, "sock", None) is not None for conn in list(waiting))


class _Pool(_Releasing, urllib3.HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(_Releasing, urllib3.HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


_POOL_CLASSES: Final = {"http": _Pool, "https": _TLSPool}


class _Adapter(requests.adapters.HTTPAdapter):
    """requests' adapter over pools of examkit's connections: the adapter of a session examkit makes.

    Its pools and connections are urllib3's (TLS, proxies, keep-alive unchanged); they only tell an
    attempt sent from the calling thread which connection it uses, so that the watchdog can end it
    at its deadline (see :meth:`Transport._inline`). A session you pass keeps its own adapters, and
    its attempts go through a worker thread.
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOL_CLASSES

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        defaults = urllib3.poolmanager.pool_classes_by_scheme
        if getattr(manager, "pool_classes_by_scheme", None) is defaults:  # not a SOCKS proxy's manager
            manager.pool_classes_by_scheme = _POOL_CLASSES
        return manager


def _own_session() -> requests.Session:
    session = requests.Session()
    session.mount("https://", _Adapter())
    session.mount("http://", _Adapter())
    return session


class _Watchdog:
    """One thread that ends inline attempts past their deadline, by shutting their sockets.

    An inline attempt costs a dictionary entry, not a thread switch: the thread sleeps until the
    earliest deadline it knows of and is woken only when an attempt with an earlier one starts
    (with one deadline per transport, the first attempt after an idle spell). An attempt that ends
    in time is simply forgotten.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._active: dict[int, _Exchange] = {}
        self._until = math.inf
        self._running = False

    def watch(self, exchange: _Exchange) -> bool:
        """Watch ``exchange`` until :meth:`forget`; ``False`` if the watchdog thread cannot start."""
        with self._lock:
            if not self._running:
                try:
                    threading.Thread(target=self._serve, name="examkit-deadline", daemon=True).start()
                except RuntimeError:  # no more threads: the attempt takes the worker path
                    return False
                self._running = True
            elif exchange.due < self._until:
                self._wake.notify()
            self._active[id(exchange)] = exchange
            return True

    def forget(self, exchange: _Exchange) -> None:
        with self._lock:
            self._active.pop(id(exchange), None)

    def _serve(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                due = [e for e in self._active.values() if e.due <= now]
                for exchange in due:
                    del self._active[id(exchange)]
                if not due:
                    self._until = min((e.due for e in self._active.values()), default=math.inf)
                    self._wake.wait(None if self._until == math.inf else self._until - now)
                    continue
            for exchange in due:
                with contextlib.suppress(Exception):  # the watchdog must outlive any one attempt
                    exchange.expire()

    def reset(self) -> None:
        """Start afresh (in a forked child the thread does not exist)."""
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._active = {}
        self._until = math.inf
        self._running = False


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
_WATCHDOG: Final = _Watchdog()
if hasattr(os, "register_at_fork"):  # pragma: no branch - every supported platform but Windows
    os.register_at_fork(after_in_child=_WORKERS.forget)
    os.register_at_fork(after_in_child=_WATCHDOG.reset)


def _shut(raw: requests.Response) -> None:
    connection = getattr(raw.raw, "connection", None) or getattr(raw.raw, "_connection", None)
    if connection is not None:
        _shut_connection(connection)
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


class Transport(_Rules):
    """Sends a vendor's HTTP requests with timeouts, safe retries and error mapping.

    Args:
        vendor: The vendor's name, carried by every error.
        session: A :class:`requests.Session` to use (for proxies, certificates, adapters). examkit
            never changes it and does not close it. Without one, the transport makes and owns its own.
            A urllib3 ``Retry`` on its adapters is not used: examkit sends through a non-retrying view
            of the adapter (same connection pool), and ``retry`` is the one retry layer.
            The environment's settings (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``,
            ``REQUESTS_CA_BUNDLE``), which requests reads again for every request, are merged with
            the session's as requests merges them, once per host and per value of the session's
            ``proxies``, ``verify``, ``cert`` and ``trust_env``: at a client's first call to a host.
            A client made after the environment changed sees the change.
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
        self._configure(
            vendor=vendor,
            timeout=timeout,
            retry=retry,
            secrets=secrets,
            clock=clock,
            deadline=deadline,
            max_response_bytes=max_response_bytes,
        )
        self._owns_session = session is None
        self.session = session if session is not None else _own_session()
        self._sleep = sleep
        # What requests would work out again for every request: a retry-free view of each adapter,
        # and the environment's proxies and CA bundle for each host (read once per host).
        self._views: dict[int, tuple[requests.adapters.BaseAdapter, requests.adapters.BaseAdapter]] = {}
        self._envs: dict[tuple[object, ...], Mapping[str, Any]] = {}

    def close(self) -> None:
        """Close the session if the transport made it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # A new transport with its own settings; the session (its connection pool, adapters and
    # cookies), sleep and clock are shared, so a copied client talks through the same session.
    __deepcopy__ = sharing_deepcopy("session", "_sleep", "_clock")

    @safe_repr
    def __repr__(self) -> str:
        return (
            f"Transport(vendor={self.vendor!r}, timeout={self.timeout!r}, deadline={self.deadline!r}, "
            f"max_response_bytes={self.max_response_bytes!r}, retry={self.retry!r})"
        )

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
        """Send one request and return its response, or raise an :class:`~examkit.ApiError`.

        Only a 2xx answer (or a status in ``expected``) is returned. Redirects are not followed: a
        3xx answer is an :class:`~examkit.ApiError` naming where it pointed.

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
        plan = self.plan(method, url, retry=retry, expected=expected)
        for attempt in range(1, plan.attempts + 1):
            logger.debug(
                "%s %s %s (attempt %d/%d)", self.vendor, plan.method, plan.shown_url, attempt, plan.attempts
            )
            outcome = self._attempt(
                plan.method, url=url, params=params, headers=headers, body=body, sign=sign
            )
            verdict = plan.judge(outcome, attempt)
            if isinstance(verdict, HttpResponse):
                return verdict
            self._sleep(verdict)
        raise AssertionError("unreachable")  # pragma: no cover

    def run(self, call: _Call[_T]) -> _T:
        """Send ``call`` and read its answer (``call.read``), remapping errors with ``call.remap``."""
        try:
            response = self.request(
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
        raise error  # outside the handler: no chained context, no frame holding the first error

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
            adapter = self._adapter(target)
            env = self._environment(target)
        except _BAD_URL as exc:
            return _Failure("config", type(exc).__name__)
        exchange = _Exchange()
        if self._inline(adapter, prep, env) and self._send_inline(exchange, adapter, prep, env):
            if exchange.abandoned:
                if exchange.raw is not None:
                    _shut(exchange.raw)
                return _Failure("deadline", f"the {self.deadline:g} s deadline passed")
        else:
            exchange = _Exchange()  # afresh: an inline try that needed a connection sent nothing
            context = contextvars.copy_context()
            done = threading.Lock()
            done.acquire()  # released by the worker: cheaper to wait on than an Event

            def work() -> None:
                try:
                    context.run(self._exchange, exchange, adapter, prep, env)
                finally:
                    done.release()

            _WORKERS.run(work)
            if not done.acquire(timeout=self.deadline):
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
        return self.response(raw.status_code, Headers(list(raw.headers.items())), content, url)

    def _send_inline(
        self,
        exchange: _Exchange,
        adapter: requests.adapters.BaseAdapter,
        prep: requests.PreparedRequest,
        env: Mapping[str, Any],
    ) -> bool:
        """Send from this thread, the watchdog ready to shut the socket at the deadline.

        Returns ``False``, having sent nothing, when the attempt must go to a worker thread after
        all: the idle connection was gone by the time it was taken (:class:`_Reconnect`), or the
        watchdog cannot start.
        """
        exchange.due = time.monotonic() + self.deadline
        if not _WATCHDOG.watch(exchange):
            return False
        _INLINE.exchange = exchange
        try:
            self._exchange(exchange, adapter, prep, env)
        finally:
            _INLINE.exchange = None
            exchange.finish()
            _WATCHDOG.forget(exchange)
        return not exchange.reconnect

    @staticmethod
    def _inline(
        adapter: requests.adapters.BaseAdapter, prep: requests.PreparedRequest, env: Mapping[str, Any]
    ) -> bool:
        """Whether an attempt can run in the calling thread rather than on a worker.

        Only through the adapter of a session examkit made (:class:`_Adapter`), when the pool for
        this host holds an idle connection with an open socket: every wait of such an attempt is
        on that socket, which the watchdog can shut at the deadline. A new connection (a name lookup
        cannot be ended) and the adapters of a session you pass go through a worker thread, which
        the caller stops waiting for at the deadline.
        """
        if not isinstance(adapter, _Adapter):
            return False
        try:
            if hasattr(adapter, "get_connection_with_tls_context"):  # requests 2.32.2 and later
                pool = adapter.get_connection_with_tls_context(
                    prep, env.get("verify", True), proxies=env.get("proxies") or {}, cert=env.get("cert")
                )
            else:  # requests 2.31 (the lowest leg)
                pool = adapter.get_connection(prep.url or "", env.get("proxies") or {})
        except Exception:  # whatever goes wrong, the worker path reports it properly
            return False
        return isinstance(pool, _Releasing) and pool.idle_open_connection()

    def _adapter(self, target: str) -> requests.adapters.BaseAdapter:
        adapter = self.session.get_adapter(target)
        cached = self._views.get(id(adapter))
        if (
            cached is not None
            and cached[0] is adapter
            and cached[1].__dict__.keys() <= vars(adapter).keys() | {"max_retries"}
        ):
            return cached[1]
        view = _without_retries(adapter)
        self._views[id(adapter)] = (adapter, view)
        return view

    def _environment(self, target: str) -> Mapping[str, Any]:
        session = self.session
        parts = urlsplit(target)
        proxies = session.proxies
        key = (
            parts.scheme,
            parts.netloc,
            session.trust_env,
            tuple(proxies.items()) if isinstance(proxies, Mapping) else id(proxies),
            session.verify,
            session.cert if not isinstance(session.cert, list) else tuple(session.cert),
        )
        env = self._envs.get(key)
        if env is None:
            env = session.merge_environment_settings(target, {}, True, None, None)
            if len(self._envs) > 64:  # pragma: no cover - many hosts through one client
                self._envs.clear()
            self._envs[key] = env
        return env

    def _exchange(  # noqa: PLR0911 - one return per outcome, each recorded on the exchange
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
        except _Reconnect:  # an inline attempt found it needs a new connection: nothing was sent
            exchange.reconnect = True
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
