"""The async clients against a real HTTP server on 127.0.0.1, each next to its sync twin.

One core decides what a call means; two transports move the bytes. So for the same clock and nonce
the async clients must send byte-identical bodies and signatures, and for every fault (503, a reset
connection, a read timeout, an endless or inflating body, a port nobody listens on) raise the same
error after the same number of sends: a POST or PATCH exactly once, a safe GET as often as the
RetryPolicy says.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import json
import threading
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import httpx
import pytest

from examkit.assessio import AssessioClient, AsyncAssessioClient
from examkit.core.clock import FixedClock
from examkit.core.errors import ApiError, ConfigurationError, TransportError
from examkit.core.http import RetryPolicy
from examkit.integrity_advocate import (
    AsyncIntegrityAdvocateClient,
    IntegrityAdvocateClient,
    Overrider,
    OverrideStatus,
)
from examkit.itep import AsyncItepClient, ItepClient
from examkit.testing.integrity_advocate import DEMO_APP_ID, make_participant
from tests.hardening.server import closed_port, serve
from tests.hardening.strategies import CANARY
from tests.hardening.vendors import IA_API_KEY, NOW

ATTEMPTS = 3
READ_TIMEOUT = 0.4
NONCE = "0123456789abcdef0123456789abcdef"
_WHO = Overrider(user_id="u-1", first_name="Ada", last_name="Admin")
_PERSON = {"locale": "en", "email": "a@example.org", "first_name": "A", "last_name": "B"}


def _no_sleep(_seconds: float) -> None:
    """Backoff is computed, not waited."""


async def _no_async_sleep(_seconds: float) -> None:
    """Backoff is computed, not waited."""


# -- the clients, built the same way on both sides -------------------------------------------------


def _itep(base: str, twin: str, **settings: Any) -> Any:
    cls = AsyncItepClient if twin == "async" else ItepClient
    return cls(
        api_key=CANARY,
        signature_header="X-Signature",
        endpoint=base + "/requests/ecommerce_webhook.php",
        **settings,
    )


def _ia(base: str, twin: str, **settings: Any) -> Any:
    common: dict[str, Any] = {
        "app_id": DEMO_APP_ID,
        "api_key": IA_API_KEY,
        "base_url": base,
        "clock": FixedClock(NOW),
        "nonce_factory": lambda: NONCE,
        "retry": RetryPolicy(max_attempts=ATTEMPTS, backoff=0),
    }
    if twin == "async":
        return AsyncIntegrityAdvocateClient(**common, sleep=_no_async_sleep, **settings)
    return IntegrityAdvocateClient(**common, sleep=_no_sleep, **settings)


def _assessio(base: str, twin: str, **settings: Any) -> Any:
    cls = AsyncAssessioClient if twin == "async" else AssessioClient
    return cls(
        provider_key=CANARY,
        integrator_secret=CANARY[::-1],
        base_url=base,
        clock=FixedClock(NOW),
        **settings,
    )


async def _collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


def _run(client: Any, call: Callable[[Any], Any]) -> Any:
    """Run ``call(client)`` on its own twin: directly (sync) or in an event loop (async)."""
    if isinstance(client, AsyncItepClient | AsyncIntegrityAdvocateClient | AsyncAssessioClient):

        async def go() -> Any:
            async with client:
                result = call(client)
                if hasattr(result, "__aiter__"):
                    return await _collect(result)
                return await result

        return asyncio.run(go())
    with client:
        result = call(client)
        return list(result) if isinstance(result, Iterator) else result


@attrs.frozen
class Call:
    name: str
    method: str
    retried: bool
    make: Callable[..., Any]
    call: Callable[[Any], Any]


CALLS = [
    Call(
        "itep.issue_test_id",
        "POST",
        False,
        _itep,
        lambda c: c.issue_test_id(product_code="GTX-Academic-Plus", email="a@example.org"),
    ),
    Call(
        "itep.send_test_id",
        "POST",
        False,
        _itep,
        lambda c: c.send_test_id(product_code="STX-Academic-Plus", email="a@example.org"),
    ),
    Call(
        "assessio.order_assessment_link",
        "POST",
        False,
        _assessio,
        lambda c: c.order_assessment_link(
            assessment_type="MAP",
            order_reference_id="order-1",
            webhook_callback_url="https://app.example/hook",
            redirect_url="https://app.example/done",
            person=_PERSON,
        ),
    ),
    Call(
        "ia.override_participant",
        "PATCH",
        False,
        _ia,
        lambda c: c.override_participant(
            "p-1", "c-1", status=OverrideStatus.VALID, reason="ok", overrider=_WHO
        ),
    ),
    Call(
        "ia.override_sessions",
        "PATCH",
        False,
        _ia,
        lambda c: c.override_sessions(
            "p-1", "c-1", "a-1", status=OverrideStatus.VALID, reason="ok", overrider=_WHO
        ),
    ),
    Call("ia.end_session", "GET", False, _ia, lambda c: c.end_session("p-1", "c-1")),
    Call("ia.get_participant", "GET", True, _ia, lambda c: c.get_participant("p-1", "c-1")),
    Call("ia.participant_status", "GET", True, _ia, lambda c: c.participant_status("p-1", "c-1", "a-1")),
    Call("ia.iter_participants", "GET", True, _ia, lambda c: c.iter_participants("c-1")),
    Call("ia.ping", "GET", True, _ia, lambda c: c.ping()),
]
IDS = [c.name for c in CALLS]
_SLOW = {"itep.issue_test_id", "assessio.order_assessment_link", "ia.override_sessions", "ia.ping"}
SOME = [c for c in CALLS if c.name in _SLOW]
SOME_IDS = [c.name for c in SOME]


def _outcome(call: Call, twin: str, mode: str, **settings: Any) -> tuple[str, bool | None, int]:
    """(error class, may_have_been_sent, sends) of one call against a server in ``mode``."""
    with serve(mode) as server:
        with pytest.raises(ApiError) as info:
            _run(call.make(server.base_url, twin, **settings), call.call)
        sends = server.counts[call.method]
    error = info.value
    sent = error.may_have_been_sent if isinstance(error, TransportError) else None
    return type(error).__name__, sent, sends


@pytest.mark.parametrize("mode", ["503", "reset"])
@pytest.mark.parametrize("call", CALLS, ids=IDS)
def test_503_and_resets_give_the_same_error_and_send_count_on_both_twins(call: Call, mode: str) -> None:
    sync = _outcome(call, "sync", mode)
    twin = _outcome(call, "async", mode)
    assert twin == sync
    expected_sends = ATTEMPTS if call.retried else 1
    assert twin[2] == expected_sends  # a POST or PATCH exactly once, a GET as often as the policy says
    assert twin[0] == ("ServerError" if mode == "503" else "TransportError")
    if mode == "reset":
        assert twin[1] is True


@pytest.mark.parametrize("call", SOME, ids=SOME_IDS)
def test_a_read_timeout_gives_the_same_error_and_send_count_on_both_twins(call: Call) -> None:
    sync = _outcome(call, "sync", "stall", timeout=(2, READ_TIMEOUT))
    twin = _outcome(call, "async", "stall", timeout=(2, READ_TIMEOUT))
    assert twin == sync == ("TransportError", True, ATTEMPTS if call.retried else 1)


@pytest.mark.parametrize("call", SOME, ids=SOME_IDS)
def test_a_closed_port_is_reported_as_never_sent_on_both_twins(call: Call) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    results = []
    for twin in ("sync", "async"):
        with pytest.raises(TransportError) as info:
            _run(call.make(base, twin), call.call)
        results.append((info.value.may_have_been_sent, "never established" in str(info.value)))
    assert results == [(False, True), (False, True)]


@pytest.mark.parametrize("mode", ["big", "gzip-bomb"])
def test_the_response_size_cap_holds_on_the_async_transport(mode: str) -> None:
    call = next(c for c in CALLS if c.name == "ia.ping")
    with serve(mode) as server:
        with pytest.raises(TransportError) as info:
            _run(_ia(server.base_url, "async", max_response_bytes=1024 * 1024), call.call)
        assert server.counts["GET"] == 1  # a body past the cap is not worth another try
    assert "response-size cap" in str(info.value)


def test_the_async_deadline_ends_a_trickling_answer() -> None:
    call = next(c for c in CALLS if c.name == "itep.issue_test_id")
    with serve("trickle-headers") as server:
        with pytest.raises(TransportError) as info:
            _run(_itep(server.base_url, "async", deadline=0.5, timeout=(2, 2)), call.call)
        assert server.counts["POST"] == 1
    assert "did not complete in time" in str(info.value)


def test_a_users_async_client_with_retries_never_sends_a_post_twice() -> None:
    # httpx's own retries only re-dial connections that were never made; examkit never follows
    # redirects either, whatever the user's client says.
    call = next(c for c in CALLS if c.name == "itep.issue_test_id")
    for mode in ("reset", "redirect"):
        with serve(mode) as server:

            async def go(base: str) -> bool:
                async with httpx.AsyncClient(
                    transport=httpx.AsyncHTTPTransport(retries=3), follow_redirects=True
                ) as users:
                    async with _itep(base, "async", client=users) as client:
                        with pytest.raises(ApiError):
                            await call.call(client)
                    return users.is_closed  # the user's client is theirs to close

            assert asyncio.run(go(server.base_url)) is False
            assert server.counts["POST"] == 1


def test_secrets_stay_out_of_async_errors() -> None:
    call = next(c for c in CALLS if c.name == "assessio.order_assessment_link")
    echo = json.dumps({"detail": f"bad key {CANARY}"}).encode()
    with serve("401", body=echo) as server, pytest.raises(ApiError) as info:
        _run(_assessio(server.base_url, "async"), call.call)
    assert CANARY not in str(info.value)
    assert CANARY not in repr(info.value.__dict__)


# -- a recording server: what exactly arrives ------------------------------------------------------


_ROW = json.dumps(make_participant("@ID@", "c-1"))  # one row, rendered once: the server stays cheap


@attrs.frozen
class _Raw:
    text: str


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, participants: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self.participants = participants
        self.seen: list[tuple[str, str, bytes, dict[str, str]]] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _RecordingHandler(BaseHTTPRequestHandler):
    server: _Recorder
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    wbufsize = 1 << 16  # ... or one buffered write, flushed after each request

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        kept = {k.lower(): v for k, v in self.headers.items() if k.lower() != "user-agent"}
        if not path.endswith("/participants"):
            with self.server.lock:
                self.server.seen.append((self.command, self.path, body, kept))
        answer: Any
        if path.endswith("/participants"):
            answer = self._page()
        elif path == "/requests/ecommerce_webhook.php":
            answer = {"TestID": "3279B035APR"}
        elif path == "/development/v1/assessment-link-order":
            answer = {"assessmentLink": "https://assess.example/a/1"}
        elif path == "/api/2-0/participantstatus":
            answer = {"Status": "Valid", "Override_Status": None}
        elif path == "/ping":
            answer = "healthy"
        elif path in {"/api/participantsessions", "/participants/endsession"}:
            answer = None
        else:
            answer = make_participant("p-1", "c-1")
        data = (
            b""
            if answer is None
            else answer.text.encode()
            if isinstance(answer, _Raw)
            else json.dumps(answer).encode()
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _page(self) -> Any:
        query = parse_qs(urlsplit(self.path).query)
        limit = int(query.get("limit", ["10"])[0])
        offset = int(query.get("nexttoken", ["0"])[0])
        total = self.server.participants
        rows = ",".join(_ROW.replace("@ID@", f"p{i:06d}") for i in range(offset, min(offset + limit, total)))
        following = str(offset + limit) if offset + limit < total else ""
        first = "true" if offset == 0 else "false"
        return _Raw(
            f'{{"IsFirstPage":{first},"BackwardSearch":false,"NextToken":"{following}","Participants":[{rows}]}}'
        )

    do_GET = do_POST = do_PATCH = _answer  # noqa: N815 - http.server names


@contextmanager
def _recorder(participants: int = 0) -> Iterator[_Recorder]:
    server = _Recorder(participants)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


_SIGNED = ("x-signature", "authorization", "signature", "provider-key", "content-type")


def _sent(call: Call, *twins: str) -> list[tuple[list[tuple[str, str, bytes, dict[str, str | None]]], Any]]:
    """What each twin sent, in turn, to one server (the URL, port included, is signed)."""
    out = []
    with _recorder(participants=3) as server:
        for twin in twins:
            server.seen.clear()
            result = _run(call.make(server.base_url, twin), call.call)
            seen = [(m, p, b, {k: h.get(k) for k in _SIGNED}) for m, p, b, h in server.seen]
            out.append((seen, result))
    return out


@pytest.mark.parametrize("call", CALLS, ids=IDS)
def test_async_requests_are_byte_identical_to_sync_for_the_same_clock_and_nonce(call: Call) -> None:
    (sync_sent, sync_result), (async_sent, async_result) = _sent(call, "sync", "async")
    assert async_sent == sync_sent
    assert async_result == sync_result
    if not call.name.startswith("ia.iter"):
        assert len(sync_sent) == 1
    if call.name.startswith("ia.") and call.name not in {"ia.end_session", "ia.ping"}:
        assert all(str(h["authorization"]).startswith("amx ") for _, _, _, h in sync_sent)


def test_the_signatures_sent_are_the_vendors_over_the_exact_bytes() -> None:
    # Independent computations of iTEP's and Assessio's schemes over the bytes that arrived.
    ((itep, _),) = _sent(CALLS[0], "async")
    _, _, body, headers = itep[0]
    assert headers["x-signature"] == hmac.new(CANARY.encode(), body, hashlib.sha256).hexdigest()
    assert json.loads(body)["product-code"] == "GTX-Academic-Plus"
    ((assessio, _),) = _sent(CALLS[2], "async")
    _, _, body, headers = assessio[0]
    mac = hmac.new(CANARY[::-1].encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["signature"] == f"t={NOW},signature={mac}"
    assert headers["provider-key"] == CANARY


def test_paging_10000_participants_through_the_async_client_keeps_memory_flat() -> None:
    total = 10_000
    with _recorder(participants=total) as server:
        client = _ia(server.base_url, "async", max_pages=total // 10 + 1)

        async def walk() -> tuple[int, int, int]:
            # Traced from participant 7,000 on (tracing every allocation is slow): memory that
            # stays flat over the last 3,000 participants holds no list of them.
            seen = early = peak = 0
            baseline = 0
            async with client:
                try:
                    async for participant in client.iter_participants("c-1", page_size=10):
                        seen += 1
                        if seen == 7_000:
                            tracemalloc.start()
                            baseline, _ = tracemalloc.get_traced_memory()
                        elif seen == 7_500:
                            early = tracemalloc.get_traced_memory()[0] - baseline
                        del participant
                    peak = tracemalloc.get_traced_memory()[1] - baseline
                finally:
                    tracemalloc.stop()
            return seen, early, peak

        seen, early, peak = asyncio.run(walk())
    assert seen == total
    # One page of 10 rows is a few KB; 3,000 participants kept would be several MB.
    assert peak < 1024 * 1024, peak
    assert early < 1024 * 1024, early


@pytest.mark.parametrize("twin", ["sync", "async"])
def test_a_page_read_leaves_no_reference_cycle_for_the_collector(twin: str) -> None:
    # httpx's response and its stream refer to each other; left so, every page read waits, with
    # its body, for the cyclic collector (on Python 3.13 paging then peaked 0.6 MB higher).
    with _recorder(participants=200) as server:
        client = _ia(server.base_url, twin, max_pages=30)

        def saved(rows: list[Any]) -> list[object]:
            del rows[:]
            gc.collect()
            return list(gc.garbage)

        async def walk_async() -> list[object]:
            async with client:
                rows = [participant async for participant in client.iter_participants("c-1", page_size=10)]
            return saved(rows)

        def walk_sync() -> list[object]:
            with client:
                rows = list(client.iter_participants("c-1", page_size=10))
            return saved(rows)

        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            garbage = asyncio.run(walk_async()) if twin == "async" else walk_sync()
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    kinds = {type(thing).__name__ for thing in garbage}
    assert not kinds & {"Response", "Request", "BoundAsyncStream", "HTTPResponse"}, sorted(kinds)


# -- settings -------------------------------------------------------------------------------------


def test_an_async_client_refuses_a_requests_session_for_its_client() -> None:
    import requests

    with pytest.raises(ConfigurationError, match=r"httpx\.AsyncClient"):
        AsyncAssessioClient(provider_key="pk", integrator_secret="s", client=requests.Session())  # type: ignore[arg-type]


def test_async_from_env_reads_the_same_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMKIT_IA_APP_ID", DEMO_APP_ID)
    monkeypatch.setenv("EXAMKIT_IA_API_KEY", IA_API_KEY)
    monkeypatch.setenv("EXAMKIT_ASSESSIO_PROVIDER_KEY", "pk-env")
    monkeypatch.setenv("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", "secret-env")
    monkeypatch.setenv("EXAMKIT_ITEP_API_KEY", "itep-env-key")
    monkeypatch.setenv("EXAMKIT_ITEP_SIGNATURE_HEADER", "X-Env-Signature")
    ia = AsyncIntegrityAdvocateClient.from_env(max_pages=7)
    assert ia.app_id == DEMO_APP_ID
    assert ia._max_pages == 7
    assessio = AsyncAssessioClient.from_env(environment="production")
    assert assessio.base_url == "https://api.assessio.online"
    itep = AsyncItepClient.from_env()
    assert itep.signature_header == "X-Env-Signature"
    for client in (ia, assessio, itep):
        asyncio.run(client.aclose())
        assert "secret-env" not in repr(client)
        assert "itep-env-key" not in repr(client)


def test_an_async_semaphore_bounds_concurrent_issuance() -> None:
    codes = [f"ID{i:06d}" for i in range(40)]
    from examkit.testing.itep import FakeItep

    fake = FakeItep(api_key="k" * 16, signature_header="X-Sig", inventory={"Academic-Plus": codes})
    busy = 0
    most = 0
    lock = threading.Lock()

    def watch(_request: object) -> None:
        nonlocal busy, most
        with lock:
            busy += 1
            most = max(most, busy)
        threading.Event().wait(0.01)
        with lock:
            busy -= 1

    fake.on_request(watch)

    async def issue_all() -> list[str | None]:
        limit = asyncio.Semaphore(4)
        async with fake.async_client() as client:

            async def one(i: int) -> str | None:
                async with limit:
                    return (
                        await client.issue_test_id(product_code="GTX-Academic-Plus", email=f"c{i}@e.org")
                    ).test_id

            return list(await asyncio.gather(*(one(i) for i in range(40))))

    issued = asyncio.run(issue_all())
    assert sorted(i for i in issued if i) == codes  # each ID handed out exactly once
    assert 1 < most <= 4
