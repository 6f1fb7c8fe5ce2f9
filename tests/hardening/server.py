"""A real HTTP server on 127.0.0.1 (a thread), with the faults the HTTP layer must survive.

Each request is counted by method; the server's ``mode`` says how it answers. Every loop it runs is
bounded (a few seconds at most), and it stops when the test's ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MIB = 1024 * 1024
BIG = 200 * MIB  # what the oversize answers amount to (sent or inflated)
TRICKLE_GAP = 0.1  # seconds between the bytes of a trickling answer
STALL = 1.5  # seconds a stalling server waits before closing (past the tests' read timeout)


@cache
def gzip_bomb() -> bytes:
    """``BIG`` zero bytes, gzip-compressed (about 200 KB), built in 1 MiB steps."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip container
    block = bytes(MIB)
    parts = [packer.compress(block) for _ in range(BIG // MIB)]
    parts.append(packer.flush())
    return b"".join(parts)


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.count(self.command)
        mode = self.server.mode
        try:
            getattr(self, "_" + mode.replace("-", "_"))()
        except OSError:  # the client hung up (as it should, for the oversize answers)
            self.close_connection = True

    def do_GET(self) -> None:
        self._any()

    def do_POST(self) -> None:
        self._any()

    def do_PATCH(self) -> None:
        self._any()

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _ok(self) -> None:
        self._send(200, self.server.body, Content_Type="application/json")

    def _401(self) -> None:
        self._send(401, b'{"detail": "unauthorised"}', Content_Type="application/json")

    def _503(self) -> None:
        self._send(503, b"", Content_Type="text/plain")

    def _redirect(self) -> None:
        self._send(301, b"moved", Location="https://user:pw@elsewhere.example/new/path?token=abc#frag")

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout: close() sends RST, a reset after the request arrived.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _stall(self) -> None:
        self.server.stopped.wait(STALL)
        self.close_connection = True

    def _trickle_body(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.flush()
        self._trickle(b"x" * 1000)

    def _trickle_headers(self) -> None:
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        self._trickle(b"X-Slow: " + b"y" * 1000 + b"\r\n\r\n")

    def _trickle(self, data: bytes) -> None:
        deadline = time.monotonic() + 6  # bounded: never more than a few seconds
        for i in range(len(data)):
            if self.server.stopped.is_set() or time.monotonic() > deadline:
                break
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            time.sleep(TRICKLE_GAP)
        self.close_connection = True

    def _big(self) -> None:
        # No Content-Length: the client cannot refuse it up front and must count while reading.
        self.send_response(200)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        block = b" " * MIB
        for _ in range(BIG // MIB):
            if self.server.stopped.is_set():
                break
            self.wfile.write(block)
        self.close_connection = True

    def _gzip_bomb(self) -> None:
        self._send(200, gzip_bomb(), Content_Encoding="gzip", Content_Type="application/json")


class FaultServer(ThreadingHTTPServer):
    """The server; ``mode`` may be changed between requests."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: the faults break connections on purpose."""

    def __init__(self, mode: str = "ok", body: bytes = b"{}") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = mode
        self.body = body
        self.counts: Counter[str] = Counter()
        self.stopped = threading.Event()
        self._lock = threading.Lock()

    def count(self, method: str) -> None:
        with self._lock:
            self.counts[method] += 1

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


@contextlib.contextmanager
def serve(mode: str = "ok", body: bytes = b"{}") -> Iterator[FaultServer]:
    """Run a :class:`FaultServer` on a thread for the ``with`` block."""
    server = FaultServer(mode, body)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopped.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
