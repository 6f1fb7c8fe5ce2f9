"""A real HTTP server on 127.0.0.1 standing in for iTEP's fulfillment endpoint, counting what arrives.

Bulk issuance is about the network (a refused connection, a read timeout after the request was
sent, a 5xx answer), so these tests go through real sockets rather than an in-process adapter.
Each candidate's behaviour is chosen by e-mail: ``"ok"`` answers ``{"TestID": ...}``, an ``int``
answers that HTTP status, ``"stall"`` reads the request and never answers (the client's read
timeout fires after the request was sent).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from examkit.itep import ItepClient

API_KEY = "itep-network-api-key-0123"
HEADER = "X-Itep-Signature"
STALL_SECONDS = 1.0
READ_TIMEOUT = 0.3


class ItepServer(ThreadingHTTPServer):
    """The fake endpoint: ``behaviour`` by e-mail (default ``"ok"``), ``received`` counts by e-mail."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour: dict[str, Any] = {}
        self.received: Counter[str] = Counter()
        self.bodies: list[dict[str, Any]] = []
        self.issued: dict[str, str] = {}
        self._lock = threading.Lock()
        self._next = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/requests/ecommerce_webhook.php"

    def client(self, **settings: Any) -> ItepClient:
        settings.setdefault("timeout", (2.0, READ_TIMEOUT))
        return ItepClient(api_key=API_KEY, signature_header=HEADER, endpoint=self.url, **settings)

    def record(self, body: dict[str, Any]) -> Any:
        email = str(body.get("email"))
        with self._lock:
            self.received[email] += 1
            self.bodies.append(body)
            behaviour = self.behaviour.get(email, "ok")
            if behaviour == "ok":
                self._next += 1
                self.issued[email] = f"NET{self._next:05d}AP"
                return self.issued[email]
            return behaviour


class _Handler(BaseHTTPRequestHandler):
    server: ItepServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        outcome = self.server.record(body)
        if outcome == "stall":
            time.sleep(STALL_SECONDS)  # the client gave up long ago: a read timeout after sending
            self.close_connection = True
            return
        if isinstance(outcome, int):
            payload, status = b"Error: request refused", outcome
        else:
            payload, status = json.dumps({"TestID": outcome}).encode(), 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def itep_server() -> Iterator[ItepServer]:
    """Run an :class:`ItepServer` in a thread for the ``with`` block."""
    server = ItepServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nobody listens: connecting is refused, nothing can be sent."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/requests/ecommerce_webhook.php"
