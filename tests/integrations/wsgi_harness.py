"""A real Werkzeug server on 127.0.0.1 with a raw-socket client, to prove how the adapters read bodies.

:class:`CountingInput` wraps the server's ``wsgi.input`` (after Werkzeug de-chunks it) and counts the
body bytes the application read, so a test can assert that a refused body was not read past the
limit. The client speaks raw HTTP/1.1 over a socket, so it can declare a ``Content-Length`` it never
sends, or stream a chunked body that never ends.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from werkzeug.serving import make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class CountingInput:
    """A WSGI input stream that counts the bytes read through it."""

    def __init__(self, stream: IO[bytes], counter: Counter) -> None:
        self._stream = stream
        self._counter = counter

    def read(self, size: int | None = -1) -> bytes:
        data = self._stream.read(-1 if size is None else size)
        self._counter.read += len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = self._stream.readline(-1 if size is None else size)
        self._counter.read += len(data)
        return data

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def close(self) -> None:
        self._stream.close()


@dataclass
class Counter:
    """Body bytes the application read, and the environs it was called with."""

    read: int = 0
    environs: list[dict[str, Any]] = field(default_factory=list)


def counting(app: WsgiApp, counter: Counter) -> WsgiApp:
    """Wrap ``app`` so that every body byte it reads is counted in ``counter``."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["wsgi.input"] = CountingInput(environ["wsgi.input"], counter)
        counter.environs.append(environ)
        return app(environ, start_response)

    return wrapped


@contextmanager
def serve(app: WsgiApp) -> Iterator[tuple[int, Counter]]:
    """Serve ``app`` (counted) on a free port of 127.0.0.1 in a thread; yield the port and counter."""
    counter = Counter()
    httpd = make_server("127.0.0.1", 0, counting(app, counter), threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, name="examkit-body-limits", daemon=True)
    thread.start()
    try:
        yield httpd.server_port, counter
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
    assert not thread.is_alive()


@dataclass
class Answer:
    """What the raw client got back."""

    status: int
    seconds: float
    body: bytes


def _head(path: str, host: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_answer(sock: socket.socket, started: float) -> Answer:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    seconds = time.monotonic() - started
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return Answer(status=status, seconds=seconds, body=body)


def post_declared(
    port: int, path: str, *, host: str, headers: dict[str, str], content_length: int, sent: bytes
) -> Answer:
    """Declare ``content_length`` bytes but send only ``sent``, then wait for the answer (10 s at most)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(_head(path, host, {**headers, "Content-Length": str(content_length)}) + sent)
        return _read_answer(sock, started)


def post_chunked(
    port: int,
    path: str,
    *,
    host: str,
    headers: dict[str, str],
    body: bytes,
    chunk: int = 16 * 1024,
    endless: bool = False,
    max_bytes: int = 8 * 1024 * 1024,
) -> Answer:
    """Send ``body`` with ``Transfer-Encoding: chunked``; with ``endless``, keep sending past it.

    An endless body is sent from a thread, ``max_bytes`` at most (a bounded loop), without the final
    chunk: only a server that stops reading answers before the client times out (10 s).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(_head(path, host, {**headers, "Transfer-Encoding": "chunked"}))

        def frames() -> Iterator[bytes]:
            for start in range(0, len(body), chunk):
                part = body[start : start + chunk]
                yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
            if endless:
                filler = b"x" * chunk
                for _ in range(max_bytes // chunk):
                    yield f"{chunk:x}\r\n".encode() + filler + b"\r\n"
            else:
                yield b"0\r\n\r\n"

        if not endless:
            sock.sendall(b"".join(frames()))
            return _read_answer(sock, started)

        stop = threading.Event()

        def send() -> None:
            try:
                for frame in frames():
                    if stop.is_set():
                        return
                    sock.sendall(frame)
            except OSError:
                return  # the server answered and closed: expected

        sender = threading.Thread(target=send, name="examkit-chunked-client", daemon=True)
        sender.start()
        try:
            return _read_answer(sock, started)
        finally:
            stop.set()
            sock.shutdown(socket.SHUT_RDWR)
            sender.join(timeout=10)
