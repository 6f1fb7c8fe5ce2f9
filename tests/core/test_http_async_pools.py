"""The connection pools of the httpx client examkit makes, against a real server on 127.0.0.1.

httpcore's pool spends time in proportion to the square of its connections on every request that
starts or ends, and keeps only 20 idle connections by default, so examkit's own client spreads its
connections over several small pools. What users see must not change: one call at a time uses one
connection, calls in waves reuse the connections of the wave before, and every answer arrives.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import requests

from examkit.core import _transport_async
from examkit.core._transport_async import AsyncTransport
from examkit.core._transport_sync import Transport
from examkit.core.errors import TransportError
from examkit.core.http import RetryPolicy
from tests.hardening.server import closed_port


class _Slow(BaseHTTPRequestHandler):
    """Answers ``/<n>`` with ``n`` after a short wait, recording each connection's client port."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.ports.add(self.client_address[1])
            self.server.active += 1
            self.server.most = max(self.server.most, self.server.active)
        time.sleep(0.03)
        with self.server.lock:
            self.server.active -= 1
        body = self.path.lstrip("/").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Slow)
        self.lock = threading.Lock()
        self.ports: set[int] = set()
        self.active = 0
        self.most = 0


@contextmanager
def slow_server() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _transport() -> AsyncTransport:
    return AsyncTransport(vendor="Test", retry=RetryPolicy.none())


def _pools(transport: AsyncTransport) -> _transport_async._Pools:
    pools = transport.client._transport_for_url(httpx.URL("http://127.0.0.1/"))
    assert isinstance(pools, _transport_async._Pools)
    return pools


def test_one_call_at_a_time_uses_one_connection_of_one_pool() -> None:
    async def go(base: str) -> tuple[list[bytes], list[bool], list[int]]:
        async with _transport() as transport:
            bodies = [(await transport.request("GET", f"{base}/{i}")).body for i in range(6)]
            pools = _pools(transport)
            return bodies, [pool is not None for pool in pools._pools], list(pools._busy)

    with slow_server() as server:
        bodies, made, busy = asyncio.run(go(f"http://127.0.0.1:{server.server_address[1]}"))
        assert len(server.ports) == 1
    assert bodies == [b"0", b"1", b"2", b"3", b"4", b"5"]
    assert made == [True] + [False] * (_transport_async._POOLS - 1)  # the others were never made
    assert busy == [0] * _transport_async._POOLS


def test_waves_of_concurrent_calls_reuse_the_connections_of_the_wave_before() -> None:
    width = 40  # more than one pool holds, and more than httpx keeps alive by default (20)

    async def go(base: str) -> tuple[list[bytes], int]:
        async with _transport() as transport:
            pools = _pools(transport)
            bodies: list[bytes] = []
            for wave in range(3):
                answers = await asyncio.gather(
                    *(transport.request("GET", f"{base}/{wave * width + i}") for i in range(width))
                )
                bodies.extend(a.body for a in answers)
                assert pools._busy == [0] * _transport_async._POOLS  # every connection given back
            return bodies, sum(pool is not None for pool in pools._pools)

    with slow_server() as server:
        bodies, made = asyncio.run(go(f"http://127.0.0.1:{server.server_address[1]}"))
        assert server.most == width  # all of a wave in flight at once: nothing queued
        assert len(server.ports) == width  # ... and the second and third waves opened none
    assert bodies == [str(i).encode() for i in range(3 * width)]
    assert made == -(-width // _transport_async._POOL_SIZE)  # filled in order


def test_more_calls_than_connections_queue_and_all_arrive() -> None:
    total = _transport_async._POOLS * _transport_async._POOL_SIZE + 12

    async def go(base: str) -> list[bytes]:
        async with _transport() as transport:
            answers = await asyncio.gather(*(transport.request("GET", f"{base}/{i}") for i in range(total)))
            assert _pools(transport)._busy == [0] * _transport_async._POOLS
            return [a.body for a in answers]

    with slow_server() as server:
        bodies = asyncio.run(go(f"http://127.0.0.1:{server.server_address[1]}"))
        assert server.most <= _transport_async._POOLS * _transport_async._POOL_SIZE
    assert bodies == [str(i).encode() for i in range(total)]


def test_a_failed_call_gives_its_place_in_the_pool_back() -> None:
    async def go() -> list[int]:
        async with _transport() as transport:
            for _ in range(_transport_async._POOL_SIZE + 2):
                with pytest.raises(TransportError, match="never established"):
                    await transport.request("GET", f"http://127.0.0.1:{closed_port()}/")
            return list(_pools(transport)._busy)

    assert asyncio.run(go()) == [0] * _transport_async._POOLS


def test_a_users_own_client_is_used_as_it_is() -> None:
    async def go() -> bool:
        client = httpx.AsyncClient()
        async with AsyncTransport(vendor="Test", client=client) as transport:
            same = transport.client is client
        await client.aclose()
        return same and not isinstance(
            client._transport_for_url(httpx.URL("http://127.0.0.1/")), _transport_async._Pools
        )

    assert asyncio.run(go())


# -- the environment's proxies still apply, on both transports ----------------------------------------


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy that answers itself: it records the absolute URL each request named."""

    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, name: str) -> None:
        super().__init__(("127.0.0.1", 0), _Proxy)
        self.name = name
        self.seen: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def proxy(name: str) -> Iterator[_ProxyServer]:
    server = _ProxyServer(name)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


_TARGET = "http://vendor.example.invalid/api/ping"  # never resolved: only the proxy can answer


def _proxy_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", url)


def test_the_async_transport_sends_through_a_proxy_set_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def go() -> list[bytes]:
        async with _transport() as transport:
            return [(await transport.request("GET", _TARGET)).body for _ in range(3)]

    with proxy("env") as env:
        _proxy_env(monkeypatch, env.url)
        assert asyncio.run(go()) == [b"env"] * 3
        assert env.seen == [_TARGET] * 3


def test_the_sync_transport_sends_through_a_proxy_set_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with proxy("env") as env:
        _proxy_env(monkeypatch, env.url)
        with Transport(vendor="Test", retry=RetryPolicy.none()) as transport:
            assert [transport.request("GET", _TARGET).body for _ in range(3)] == [b"env"] * 3
        assert env.seen == [_TARGET] * 3


def test_a_users_session_settings_apply_as_requests_applies_them(monkeypatch: pytest.MonkeyPatch) -> None:
    with proxy("env") as env, proxy("session") as own:
        _proxy_env(monkeypatch, env.url)
        session = requests.Session()
        session.proxies = {"http": own.url}
        # requests itself lets the environment's proxy override session.proxies while the session
        # trusts the environment (Session.request merges the environment's first); examkit agrees.
        assert session.get(_TARGET, timeout=5).content == b"env"
        with Transport(vendor="Test", session=session, retry=RetryPolicy.none()) as transport:
            assert transport.request("GET", _TARGET).body == b"env"
            # A session that does not trust the environment uses its own proxies only; the change
            # is seen at the next call (the merged settings are kept per session setting).
            session.trust_env = False
            assert session.get(_TARGET, timeout=5).content == b"session"
            assert [transport.request("GET", _TARGET).body for _ in range(2)] == [b"session"] * 2
            session.proxies = {"http": env.url}
            assert transport.request("GET", _TARGET).body == b"env"
        assert own.seen == [_TARGET] * 3
        assert env.seen == [_TARGET] * 3


def test_a_users_async_client_proxy_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    async def go(own: str) -> bytes:
        async with (
            httpx.AsyncClient(proxy=own) as client,
            AsyncTransport(vendor="Test", client=client, retry=RetryPolicy.none()) as transport,
        ):
            return (await transport.request("GET", _TARGET)).body

    with proxy("env") as env, proxy("client") as own:
        _proxy_env(monkeypatch, env.url)
        assert asyncio.run(go(own.url)) == b"client"
        assert env.seen == []


def test_parsed_urls_are_kept_per_target_and_bounded() -> None:
    async def go(base: str) -> tuple[list[bytes], list[bytes], int]:
        async with _transport() as transport:
            again = [(await transport.request("GET", f"{base}/7")).body for _ in range(3)]
            assert len(transport._urls) == 1
            queried = [
                (await transport.request("GET", f"{base}/q", params={"page": str(i)})).body for i in range(3)
            ]
            for i in range(_transport_async._URLS + 5):
                transport._urls.setdefault(f"{base}/filler{i}", httpx.URL(f"{base}/filler{i}"))
                if len(transport._urls) >= _transport_async._URLS:
                    break
            await transport.request("GET", f"{base}/8")
            return again, queried, len(transport._urls)

    with slow_server() as server:
        again, queried, kept = asyncio.run(go(f"http://127.0.0.1:{server.server_address[1]}"))
    assert again == [b"7"] * 3
    assert queried == [b"q?page=0", b"q?page=1", b"q?page=2"]  # each target its own URL
    assert kept <= _transport_async._URLS


class _Echo(BaseHTTPRequestHandler):
    """Answers with the path and the headers it received, as JSON."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "headers": dict(self.headers.items())}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_users_client_headers_and_cookies_apply_but_not_its_params() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def sign(_method: str, url: str, _body: bytes) -> dict[str, str]:
        return {"Authorization": f"signed {url}"}

    async def go() -> dict[str, object]:
        async with httpx.AsyncClient(
            params={"leak": "1"}, headers={"X-App": "mine", "User-Agent": "theirs"}, cookies={"c": "v"}
        ) as client:
            transport = AsyncTransport(vendor="Test", client=client, retry=RetryPolicy.none())
            answer = await transport.request("GET", f"{base}/api", params={"q": "a b"}, sign=sign)
            data: dict[str, object] = json.loads(answer.body)
            return data

    try:
        seen = asyncio.run(go())
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert seen["path"] == "/api?q=a+b"  # the URL signed, without the client's params
    assert headers["Authorization"] == f"signed {base}/api?q=a+b"
    assert headers["X-App"] == "mine"
    assert headers["Cookie"] == "c=v"
    assert headers["User-Agent"].startswith("examkit/")
