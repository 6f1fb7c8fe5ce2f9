"""Faults on a kept-alive connection give the same outcomes as on a new one.

These tests warm the session up with a good call first, then switch the server to a fault, so that
the faulty attempt goes out on the open, idle connection the session's pool kept; the send counts,
error types and time limits are those of ``test_http_server_faults.py``, where every call opens a
new connection, and the session goes on working after a cut-off attempt.

Each runs twice: through a session of yours (its attempts go through a worker thread) and through
the session examkit makes when given none, whose attempts on a kept-alive connection are sent from
the calling thread and ended at their deadline by a watchdog that shuts their socket.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from examkit.core import _transport_sync
from examkit.core.errors import ApiError, ServerError, TransportError
from tests.hardening.server import FaultServer, serve
from tests.hardening.test_http_server_faults import (
    READ_TIMEOUT,
    SOME,
    SOME_IDS,
    Call,
    _ia,
    _sends,
    retrying_session,
)

# Whose session: yours (as production code often builds it) or the one examkit makes.
SESSIONS: dict[str, Callable[[], requests.Session]] = {
    "yours": retrying_session,
    "examkit's": _transport_sync._own_session,
}


@pytest.fixture
def routes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, int]]:
    """Every attempt's route: (sent from the calling thread, the thread it was decided on)."""
    seen: list[tuple[bool, int]] = []
    decide = _transport_sync.Transport._inline

    def spy(*args: object) -> bool:
        verdict = decide(*args)  # type: ignore[arg-type]
        seen.append((verdict, threading.get_ident()))
        return verdict

    monkeypatch.setattr(_transport_sync.Transport, "_inline", staticmethod(spy))
    return seen


def _warm(server: FaultServer, session: requests.Session) -> None:
    """One good call, so that the session's pool holds an open connection to the server."""
    body, server.body = server.body, b'"healthy"'
    try:
        assert _ia(server.base_url, session, {}).ping() is True
    finally:
        server.body = body
    server.counts.clear()


def _route_was(kind: str, routes: list[tuple[bool, int]]) -> None:
    assert routes, "no attempt was made"
    assert routes[0][0] is (kind == "examkit's")


def test_calls_on_a_kept_alive_connection_of_examkits_session_run_in_the_calling_thread(
    routes: list[tuple[bool, int]],
) -> None:
    with serve("ok", body=b'"healthy"') as server:
        client = _ia(server.base_url, None, {})
        for _ in range(5):
            assert client.ping() is True
        assert server.counts["GET"] == 5
        client.close()
    assert [inline for inline, _ in routes] == [False, True, True, True, True]  # the first connects
    assert {thread for _, thread in routes} == {threading.get_ident()}
    assert not _transport_sync._WATCHDOG._active  # every attempt that ended in time was forgotten


def test_calls_through_your_session_go_through_a_worker_thread(routes: list[tuple[bool, int]]) -> None:
    session = requests.Session()
    with serve("ok", body=b'"healthy"') as server:
        client = _ia(server.base_url, session, {})
        for _ in range(3):
            assert client.ping() is True
    assert [inline for inline, _ in routes] == [False, False, False]


@pytest.mark.parametrize("kind", SESSIONS)
@pytest.mark.parametrize("mode", ["503", "reset"])
@pytest.mark.parametrize("call", SOME, ids=SOME_IDS)
def test_sends_on_a_kept_alive_connection_are_counted_as_on_a_new_one(
    call: Call, mode: str, kind: str, routes: list[tuple[bool, int]]
) -> None:
    session = SESSIONS[kind]()
    with serve("ok") as server:
        _warm(server, session)
        routes.clear()
        server.mode = mode
        with pytest.raises(ApiError) as info:
            call.run(server.base_url, session, {})
        assert server.counts[call.method] == _sends(call), dict(server.counts)
    _route_was(kind, routes)
    if mode == "503":
        assert type(info.value) is ServerError
    else:
        assert type(info.value) is TransportError
        assert info.value.may_have_been_sent


@pytest.mark.parametrize("kind", SESSIONS)
@pytest.mark.parametrize("call", SOME, ids=SOME_IDS)
def test_a_stall_on_a_kept_alive_connection_times_out_as_on_a_new_one(
    call: Call, kind: str, routes: list[tuple[bool, int]]
) -> None:
    session = SESSIONS[kind]()
    with serve("ok") as server:
        _warm(server, session)
        routes.clear()
        server.mode = "stall"
        with pytest.raises(TransportError) as info:
            call.run(server.base_url, session, {"timeout": (2, READ_TIMEOUT)})
        assert server.counts[call.method] == _sends(call), dict(server.counts)
    _route_was(kind, routes)
    assert info.value.may_have_been_sent
    assert "timed out" in str(info.value)


@pytest.mark.parametrize("kind", SESSIONS)
@pytest.mark.parametrize("mode", ["trickle-headers", "trickle-body"])
@pytest.mark.parametrize("call", SOME, ids=SOME_IDS)
def test_a_kept_alive_connection_that_trickles_is_cut_off_at_the_deadline(
    call: Call, mode: str, kind: str, routes: list[tuple[bool, int]]
) -> None:
    session = requests.Session() if kind == "yours" else SESSIONS[kind]()
    with serve("ok") as server:
        _warm(server, session)
        routes.clear()
        server.mode = mode
        start = time.monotonic()
        with pytest.raises(TransportError) as info:
            call.run(server.base_url, session, {"timeout": (1, 2), "deadline": 0.5})
        took = time.monotonic() - start
        assert server.counts[call.method] == _sends(call), dict(server.counts)
        # Each attempt ends at its deadline (0.5 s), though every byte comes within the read timeout.
        assert took < 0.5 * _sends(call) + 1.0, took
        # Only the cut-off attempt's connection was given up: the session goes on working.
        server.mode = "ok"
        server.body = b'"healthy"'
        assert _ia(server.base_url, session, {}).ping() is True
    _route_was(kind, routes)
    assert "deadline" in str(info.value)
    assert info.value.may_have_been_sent


class _Proxy(ThreadingHTTPServer):
    """A forward proxy on 127.0.0.1 that answers every request itself and records its target."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.targets: list[str] = []


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _Proxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self.server.targets.append(self.path)  # absolute-form: the proxy is told the whole URL
        body = b'"healthy"'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_examkits_session_goes_through_the_proxy_of_the_environment_kept_alive(
    monkeypatch: pytest.MonkeyPatch, routes: list[tuple[bool, int]]
) -> None:
    proxy = _Proxy()
    thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        client = _ia("http://vendor.invalid", None, {})
        for _ in range(3):
            assert client.ping() is True
        client.close()
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(5)
    assert proxy.targets == ["http://vendor.invalid/ping"] * 3
    assert [inline for inline, _ in routes] == [False, True, True]  # the proxy's connection, kept alive


def test_the_watchdog_shuts_only_a_connection_the_attempt_still_holds() -> None:
    # A connection given back to its pool may already be another call's: past its deadline, an
    # attempt shuts the socket it sends on, never one it gave back.
    def connection() -> tuple[_transport_sync._Connection, socket.socket]:
        conn = _transport_sync._Connection("127.0.0.1", 9)
        conn.sock, peer = socket.socketpair()
        return conn, peer

    held, held_peer = connection()
    given_back, given_back_peer = connection()
    try:
        exchange = _transport_sync._Exchange()
        exchange.bind(given_back)
        exchange.unbind(given_back)
        exchange.expire()
        given_back_peer.sendall(b"x")
        assert given_back.sock.recv(1) == b"x"  # still open

        exchange = _transport_sync._Exchange()
        exchange.bind(held)
        exchange.expire()
        assert held.sock.recv(1) == b""  # shut: the blocked read of the attempt ends
        assert exchange.finish() is True  # and the attempt knows it ran out of time
    finally:
        for sock in (held.sock, held_peer, given_back.sock, given_back_peer):
            sock.close()


def test_an_attempt_whose_deadline_passed_before_it_sends_shuts_the_connection_at_once() -> None:
    conn = _transport_sync._Connection("127.0.0.1", 9)
    conn.sock, peer = socket.socketpair()
    try:
        exchange = _transport_sync._Exchange()
        exchange.expire()
        exchange.bind(conn)
        assert conn.sock.recv(1) == b""
    finally:
        conn.sock.close()
        peer.close()


def test_a_kept_alive_connection_the_server_closed_while_idle_keeps_the_deadline(
    monkeypatch: pytest.MonkeyPatch, routes: list[tuple[bool, int]]
) -> None:
    # The pool still holds the socket of a connection the server closed while it was idle (its
    # keep-alive timeout): urllib3 would reconnect, name lookup included, in the calling thread,
    # where shutting a socket cannot end it. The attempt goes to a worker thread instead, before
    # anything is sent, and the deadline holds through a slow lookup and a trickled answer.
    deadline = 1.0
    answers: list[int] = []

    def handle(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            answers.append(len(answers) + 1)
            if len(answers) == 1:  # a good answer, then closed as an idle timeout would
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                time.sleep(0.2)
                return
            with contextlib.suppress(OSError):  # the headers, one byte at a time
                for byte in b"HTTP/1.1 200 OK\r\nX-Pad: aaaaaaaaaaaaa\r\nContent-Length: 2\r\n\r\nok":
                    conn.sendall(bytes([byte]))
                    time.sleep(0.3)

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept() -> None:
        with contextlib.suppress(OSError):
            while True:
                threading.Thread(target=handle, args=(listener.accept()[0],), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    lookup = socket.getaddrinfo
    slow = threading.Event()

    def slow_lookup(*args: Any, **kwargs: Any) -> Any:
        if slow.is_set():
            time.sleep(1.5)  # longer than the deadline
        return lookup(*args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_lookup)
    transport = _transport_sync.Transport(vendor="v", deadline=deadline, timeout=(2, 2))
    url = f"http://localhost:{port}/x"
    try:
        assert transport.request("GET", url, retry=False).status_code == 200
        time.sleep(0.5)  # the server has closed the idle connection
        slow.set()
        start = time.monotonic()
        with pytest.raises(TransportError) as info:
            transport.request("GET", url, retry=False)
        took = time.monotonic() - start
    finally:
        transport.close()
        listener.close()
    assert took < deadline + 0.5, took
    assert "deadline" in str(info.value)
    assert [inline for inline, _ in routes] == [False, True]  # it looked inline; it went to a worker
