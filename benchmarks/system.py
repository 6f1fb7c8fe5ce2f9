"""Whole-system cases: import time, client throughput, bulk iTEP issuance and IA paging memory.

Each function returns plain numbers; :mod:`benchmarks.run` turns them into ratios and budgets.
"""

from __future__ import annotations

import http.server
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final
from urllib.parse import parse_qs, urlsplit

import requests

from examkit.core.clock import SystemClock
from examkit.core.http import RetryPolicy
from examkit.core.webhook import InMemoryReplayGuard
from examkit.integrity_advocate import AmxSigner, AmxVerifier, IntegrityAdvocateClient
from examkit.integrity_advocate.signing import new_nonce
from examkit.itep import Candidate, issue_bulk
from examkit.testing.http import FakeHttpAdapter, FakeRequest, FakeResponse
from examkit.testing.integrity_advocate import make_participant
from examkit.testing.itep import FakeItep

APP_ID: Final = "00000000-1111-2222-3333-444444444444"
IA_KEY: Final = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

IMPORTS: Final = {
    "bare interpreter": "pass",
    "itep verifier": "from examkit.itep import ItepWebhookVerifier",
    "integrity_advocate verifier": "from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier",
    "assessio verifier": "from examkit.assessio import AssessioWebhookVerifier",
    "testpress verifier": "from examkit.testpress import TestpressWebhookVerifier",
    "requests (for scale)": "import requests",
}


@dataclass(frozen=True)
class ImportResult:
    """Median wall time of whole interpreter processes, per statement, and whether requests loaded."""

    medians: dict[str, float]
    loads_requests: dict[str, bool]


# Users import installed, byte-compiled modules (pip compiles on install): the probe below writes the
# .pyc files even where PYTHONDONTWRITEBYTECODE is set, so the timed runs measure imports, not the
# compiler (which, with no .pyc for attrs, cattrs and examkit, about doubles every figure).
_BYTECODE_ENV: Final = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def import_times(runs: int = 15) -> ImportResult:
    """Start ``python -c <statement>`` ``runs`` times per statement, interleaved; keep the medians."""
    samples: dict[str, list[float]] = {name: [] for name in IMPORTS}
    loads: dict[str, bool] = {}
    for name, statement in IMPORTS.items():
        probe = f"{statement}\nimport sys\nprint('requests' in sys.modules)"
        out = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=_BYTECODE_ENV
        )
        loads[name] = out.stdout.strip() == "True"
    for _ in range(runs):
        for name, statement in IMPORTS.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], check=True, env=_BYTECODE_ENV)  # noqa: S603
            samples[name].append(time.perf_counter() - start)
    return ImportResult({n: statistics.median(v) for n, v in samples.items()}, loads)


# -- client throughput against a local HTTP/1.1 server -------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    wbufsize = 1 << 16  # ... or one buffered write, flushed after each request
    # (user agent family, client port) of every connection that carried a request
    connections: ClassVar[set[tuple[str, int]]] = set()
    body = json.dumps({"Status": "Valid", "Override_Status": None}).encode()

    def do_GET(self) -> None:
        if self.path == "/connections":  # the benchmark's own question, not a signed call
            self._answer(json.dumps(sorted(_Handler.connections)).encode())
            return
        agent = self.headers.get("User-Agent", "").split("/", 1)[0]
        _Handler.connections.add((agent, self.client_address[1]))
        if not self.headers.get("Authorization", "").startswith("amx "):
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._answer(self.body)

    def _answer(self, payload: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _StatusServer(http.server.ThreadingHTTPServer):
    """The participant-status endpoint of :func:`client_throughput`, run in its own process."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)


class _Vendor:
    """A benchmark server (a class of this module) in its own Python process on 127.0.0.1.

    The vendor runs on its own machine in real life: in this process its request handling would
    compete with the client being measured for the GIL (and a thread switch waits up to
    ``sys.getswitchinterval()`` for it), which measures the server's scheduling, not the client.
    """

    def __init__(self, server: str, *args: object) -> None:
        root = str(Path(__file__).resolve().parent.parent)
        script = (
            f"import sys; sys.path.insert(0, {root!r}); from benchmarks.system import {server}; "
            f"s = {server}(*{args!r}); print(s.server_address[1], flush=True); s.serve_forever()"
        )
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        self.base_url = f"http://127.0.0.1:{int(self._process.stdout.readline())}"

    def __enter__(self) -> _Vendor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.kill()
        self._process.wait(5)
        if self._process.stdout is not None:
            self._process.stdout.close()

    def connections(self) -> list[tuple[str, int]]:
        """``(user agent family, client port)`` of every connection that carried a signed call."""
        seen = requests.get(f"{self.base_url}/connections", timeout=5).json()
        return [(str(agent), int(port)) for agent, port in seen]


@dataclass(frozen=True)
class ThroughputResult:
    """Requests per second of both loops, and how many TCP connections each opened.

    The rates are those of the median round of each loop (the rounds interleave the two loops, so
    a moment of load elsewhere on the machine lands in one round of one loop, not in the median).
    """

    requests: int
    examkit_rps: float
    handwritten_rps: float
    examkit_connections: int
    handwritten_connections: int
    round_ratios: tuple[float, ...] = ()

    @property
    def spread(self) -> float:
        """The interquartile range of the per-round ratios, relative to their median."""
        return _spread(self.round_ratios)


def _spread(values: tuple[float, ...]) -> float:
    if len(values) < 2:
        return 0.0
    q = statistics.quantiles(values, n=4)
    return (q[2] - q[0]) / statistics.median(values)


def client_throughput(total: int = 1000, rounds: int = 20, *, own_session: bool = False) -> ThroughputResult:
    """``total`` signed GETs through ``IntegrityAdvocateClient`` vs a hand-written session loop.

    Both send the same signed ``GET /api/2-0/participantstatus`` to a local server in its own
    process (:class:`_Vendor`), interleaved in ``rounds`` slices, each over one reused session
    (connections counted by the server). The client is given a ``requests.Session`` of the caller's,
    or with ``own_session`` none, so that it makes its own (whose kept-alive calls are sent from
    the calling thread rather than a worker thread).
    """
    vendor = _Vendor("_StatusServer")
    base = vendor.base_url
    url = base + "/api/2-0/participantstatus"
    params = {"participantidentifier": "student-42", "courseid": "course-7", "activityid": "quiz-1"}
    clock = SystemClock()
    try:
        client_session = requests.Session()
        client = IntegrityAdvocateClient(
            app_id=APP_ID,
            api_key=IA_KEY,
            base_url=base,
            session=None if own_session else client_session,
            retry=RetryPolicy.none(),
        )
        hand_session = requests.Session()
        signer = AmxSigner(app_id=APP_ID, api_key=IA_KEY)

        def examkit_loop(n: int) -> None:
            for _ in range(n):
                client.participant_status("student-42", "course-7", "quiz-1")

        def hand_loop(n: int) -> None:
            for _ in range(n):
                header = signer.authorization(
                    method="GET", url=url, timestamp=int(clock.time()), nonce=new_nonce()
                )
                response = hand_session.get(url, params=params, headers={"Authorization": header}, timeout=10)
                response.raise_for_status()
                response.json()

        examkit_loop(5)  # warm up: open each session's one connection
        hand_loop(5)
        spent: dict[str, list[float]] = {"examkit": [], "hand": []}
        per_round = max(1, total // rounds)
        ratios: list[float] = []
        for i in range(rounds):
            order = [("examkit", examkit_loop), ("hand", hand_loop)]
            took: dict[str, float] = {}
            for name, loop in order if i % 2 == 0 else order[::-1]:
                start = time.perf_counter()
                loop(per_round)
                took[name] = time.perf_counter() - start
                spent[name].append(took[name])
            ratios.append(took["hand"] / took["examkit"])
        done = per_round * rounds
        seen = vendor.connections()
        client.close()
        hand_session.close()
        client_session.close()
    finally:
        vendor.__exit__()
    return ThroughputResult(
        requests=done,
        examkit_rps=done / rounds / statistics.median(spent["examkit"]),
        handwritten_rps=done / rounds / statistics.median(spent["hand"]),
        examkit_connections=sum(1 for agent, _ in seen if agent == "examkit"),
        handwritten_connections=sum(1 for agent, _ in seen if agent != "examkit"),
        round_ratios=tuple(ratios),
    )


def async_client_throughput(total: int = 1000, rounds: int = 20) -> ThroughputResult:
    """``total`` signed GETs through ``AsyncIntegrityAdvocateClient`` vs a hand-written httpx loop.

    Both send the same signed ``GET /api/2-0/participantstatus`` (the hand-written loop signs with
    ``AmxSigner`` and reads the JSON) over one ``httpx.AsyncClient`` each, interleaved in ``rounds``
    slices in one event loop, to a local server in its own process (:class:`_Vendor`).
    """
    import asyncio  # noqa: PLC0415

    import httpx  # noqa: PLC0415

    from examkit.integrity_advocate import AsyncIntegrityAdvocateClient  # noqa: PLC0415

    vendor = _Vendor("_StatusServer")
    base = vendor.base_url
    url = base + "/api/2-0/participantstatus"
    params = {"participantidentifier": "student-42", "courseid": "course-7", "activityid": "quiz-1"}
    clock = SystemClock()
    signer = AmxSigner(app_id=APP_ID, api_key=IA_KEY)

    async def main() -> tuple[dict[str, list[float]], list[float], int]:
        async with (
            httpx.AsyncClient() as hand_client,
            AsyncIntegrityAdvocateClient(
                app_id=APP_ID, api_key=IA_KEY, base_url=base, retry=RetryPolicy.none()
            ) as client,
        ):

            async def examkit_loop(n: int) -> None:
                for _ in range(n):
                    await client.participant_status("student-42", "course-7", "quiz-1")

            async def hand_loop(n: int) -> None:
                for _ in range(n):
                    header = signer.authorization(
                        method="GET", url=url, timestamp=int(clock.time()), nonce=new_nonce()
                    )
                    response = await hand_client.get(
                        url, params=params, headers={"Authorization": header}, timeout=10
                    )
                    response.raise_for_status()
                    response.json()

            await examkit_loop(5)
            await hand_loop(5)
            spent: dict[str, list[float]] = {"examkit": [], "hand": []}
            ratios: list[float] = []
            per_round = max(1, total // rounds)
            for i in range(rounds):
                order = [("examkit", examkit_loop), ("hand", hand_loop)]
                took: dict[str, float] = {}
                for name, loop in order if i % 2 == 0 else order[::-1]:
                    start = time.perf_counter()
                    await loop(per_round)
                    took[name] = time.perf_counter() - start
                    spent[name].append(took[name])
                ratios.append(took["hand"] / took["examkit"])
            return spent, ratios, per_round * rounds

    try:
        spent, ratios, done = asyncio.run(main())
        seen = vendor.connections()
    finally:
        vendor.__exit__()
    return ThroughputResult(
        requests=done,
        examkit_rps=done / rounds / statistics.median(spent["examkit"]),
        handwritten_rps=done / rounds / statistics.median(spent["hand"]),
        examkit_connections=sum(1 for agent, _ in seen if agent == "examkit"),
        handwritten_connections=sum(1 for agent, _ in seen if agent != "examkit"),
        round_ratios=tuple(ratios),
    )


# -- bulk iTEP issuance with 50 ms latency -----------------------------------------------------------


@dataclass(frozen=True)
class BulkResult:
    """Wall times of the sequential and concurrent runs, and the attempts per candidate."""

    candidates: int
    sequential_s: float
    concurrent_s: float
    max_attempts_per_candidate: int
    min_attempts_per_candidate: int
    all_issued: bool


def _bulk_run(candidates: int, workers: int, latency: float) -> tuple[float, Counter[str], bool]:
    fake = FakeItep(
        api_key="bench-itep-api-key",
        signature_header="X-Itep-Signature",
        inventory={"Academic-Plus": [f"T{i:05d}" for i in range(candidates)]},
    )
    attempts: Counter[str] = Counter()
    lock = threading.Lock()

    def slow(request: FakeRequest) -> None:
        email = json.loads(request.body).get("email", "")
        with lock:
            attempts[email] += 1
        time.sleep(latency)

    fake.on_request(slow)
    client = fake.client()
    people = [Candidate(email=f"c{i}@example.org", name=f"Candidate {i}") for i in range(candidates)]
    start = time.perf_counter()
    report = issue_bulk(client, people, product_code="GTX-Academic-Plus", max_workers=workers)
    elapsed = time.perf_counter() - start
    return elapsed, attempts, len(report.issued) == candidates


def bulk_itep(candidates: int = 200, workers: int = 8, latency: float = 0.05) -> BulkResult:
    """Issue to ``candidates`` sequentially (1 worker) and with ``workers``; count attempts each."""
    sequential, seq_attempts, seq_ok = _bulk_run(candidates, 1, latency)
    concurrent, con_attempts, con_ok = _bulk_run(candidates, workers, latency)
    counts = [*seq_attempts.values(), *con_attempts.values()]
    complete = len(seq_attempts) == candidates and len(con_attempts) == candidates
    return BulkResult(
        candidates=candidates,
        sequential_s=sequential,
        concurrent_s=concurrent,
        max_attempts_per_candidate=max(counts),
        min_attempts_per_candidate=min(counts) if complete else 0,
        all_issued=seq_ok and con_ok,
    )


# -- async bulk iTEP issuance with 50 ms latency, over real sockets ---------------------------------


class _SlowItepHandler(http.server.BaseHTTPRequestHandler):
    """iTEP's fulfillment endpoint on 127.0.0.1: answers each POST after ``latency`` seconds."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _SlowItepServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        with self.server.lock:
            self.server.attempts[str(body.get("email"))] += 1
            self.server.issued += 1
            test_id = f"A{self.server.issued:06d}"
        time.sleep(self.server.latency)
        payload = json.dumps({"TestID": test_id}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        """``GET /attempts``: the attempts per e-mail since the last such request (then reset)."""
        with self.server.lock:
            payload = json.dumps(dict(self.server.attempts)).encode()
            self.server.attempts.clear()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _SlowItepServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, latency: float) -> None:
        super().__init__(("127.0.0.1", 0), _SlowItepHandler)
        self.latency = latency
        self.lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.issued = 0


@dataclass(frozen=True)
class AsyncBulkResult:
    """Wall times per concurrency (one list per width, one entry per round) and attempts each."""

    candidates: int
    latency: float
    seconds: dict[int, list[float]]
    max_attempts_per_candidate: int
    min_attempts_per_candidate: int
    all_issued: bool

    def ratios(self, width: int, base: int = 1) -> list[float]:
        """The speed-up of ``width`` over ``base`` in each round (measured side by side)."""
        return [b / w for b, w in zip(self.seconds[base], self.seconds[width], strict=True)]


def async_bulk_itep(
    candidates: int = 200,
    latency: float = 0.05,
    widths: tuple[int, ...] = (1, 8, 64),
    rounds: int = 3,
    repeats: int = 3,
) -> AsyncBulkResult:
    """``AsyncItepClient.issue_bulk`` against a real HTTP server on 127.0.0.1 with ``latency`` per call.

    Each round runs every width in turn on a fresh client (concurrency 1 is the sequential
    baseline), so the ratios of one round are measured under the same conditions; every candidate's
    attempts are counted by the server, in every run. A concurrent run takes a fraction of a second
    (concurrency 1 takes ``candidates * latency``), so one moment of load elsewhere on the machine
    can double it: each width above 1 runs ``repeats`` times in a round, and the round keeps the
    median of those.
    """
    import asyncio  # noqa: PLC0415 - only this case needs it

    from examkit.itep import AsyncItepClient  # noqa: PLC0415 - httpx only here

    # The vendor runs in its own process (as iTEP runs on its own machine), so that its request
    # handling does not compete with the client for this interpreter's GIL.
    root = str(Path(__file__).resolve().parent.parent)
    script = (
        f"import sys; sys.path.insert(0, {root!r}); from benchmarks.system import _SlowItepServer; "
        f"s = _SlowItepServer({latency!r}); print(s.server_address[1], flush=True); s.serve_forever()"
    )
    vendor = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    assert vendor.stdout is not None
    port = int(vendor.stdout.readline())
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/requests/ecommerce_webhook.php"
    people = [Candidate(email=f"c{i}@example.org", name=f"Candidate {i}") for i in range(candidates)]
    seconds: dict[int, list[float]] = {w: [] for w in widths}
    all_issued = True
    most, least = 0, 1 << 30

    async def one(width: int) -> float:
        nonlocal all_issued
        async with AsyncItepClient(
            api_key="bench-itep-api-key", signature_header="X-Itep-Signature", endpoint=url
        ) as client:
            start = time.perf_counter()
            report = await client.issue_bulk(people, product_code="GTX-Academic-Plus", concurrency=width)
            elapsed = time.perf_counter() - start
        all_issued = all_issued and len(report.issued) == candidates
        return elapsed

    try:
        requests.get(f"{base}/attempts", timeout=5).raise_for_status()
        for _ in range(rounds):
            for width in widths:
                runs: list[float] = []
                for _ in range(1 if width == 1 else max(1, repeats)):
                    runs.append(asyncio.run(one(width)))
                    seen = requests.get(f"{base}/attempts", timeout=5).json()  # this run's, then reset
                    counts = [int(seen.get(p.email or "", 0)) for p in people]
                    most, least = max(most, *counts), min(least, *counts)
                seconds[width].append(statistics.median(runs))
    finally:
        vendor.kill()
        vendor.wait(5)
        vendor.stdout.close()
    return AsyncBulkResult(
        candidates=candidates,
        latency=latency,
        seconds=seconds,
        max_attempts_per_candidate=most,
        min_attempts_per_candidate=least,
        all_issued=all_issued,
    )


# -- paging 100,000 IA participants ------------------------------------------------------------------


class PagingFake:
    """A paging fake of ``GET /api/course/{id}/participants`` that generates rows on demand.

    It answers in the vendor's JSON shape (rows from ``examkit.testing.integrity_advocate``) and checks
    each request's ``amx`` header, but holds no rows: examkit's ``FakeIntegrityAdvocate`` rebuilds
    the whole list for every page, which is quadratic at 100,000 participants and would measure the
    fake, not the client.
    """

    def __init__(self, total: int, base_url: str = "https://ia.bench.example") -> None:
        self.total = total
        self.base_url = base_url
        self.pages = 0
        self.adapter = FakeHttpAdapter(base_url)
        self.adapter.route("GET", "/api/course/bench/participants", self._page)
        self._verifier = AmxVerifier(app_id=APP_ID, api_key=IA_KEY, replay_guard=InMemoryReplayGuard())

    def _page(self, request: FakeRequest) -> FakeResponse:
        self._verifier.verify(request.headers.get("Authorization"), method="GET", url=request.url)
        query = parse_qs(urlsplit(request.url).query)
        limit = int(query.get("limit", ["10"])[0])
        offset = int(query.get("nexttoken", ["0"])[0])
        rows = [
            make_participant(f"p{i:06d}", "bench", modified=1_700_000_000 - i)
            for i in range(offset, min(offset + limit, self.total))
        ]
        following = str(offset + limit) if offset + limit < self.total else ""
        self.pages += 1
        body = {
            "IsFirstPage": offset == 0,
            "BackwardSearch": False,
            "NextToken": following,
            "Participants": rows,
        }
        return FakeResponse(200, body)


@dataclass(frozen=True)
class PagingResult:
    """Participants seen, pages fetched, and the peak traced memory growth in bytes."""

    participants: int
    pages: int
    peak_growth: int
    seconds: float


def ia_paging(total: int = 100_000) -> PagingResult:
    """Iterate ``total`` participants through ``IntegrityAdvocateClient.iter_participants``.

    The peak is measured with :mod:`tracemalloc` from just before iteration starts, and counts the
    client, the fake's per-page work and the adapter's record of the requests it received.
    """
    fake = PagingFake(total)
    client = IntegrityAdvocateClient(
        app_id=APP_ID, api_key=IA_KEY, base_url=fake.base_url, session=fake.adapter.session()
    )
    recorded = fake.adapter.requests
    seen = 0
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        start = time.perf_counter()
        for participant in client.iter_participants("bench", page_size=10, max_pages=total // 10 + 2):
            seen += 1
            if len(recorded) > 100:
                recorded.clear()  # the fake's own log of requests is not the client's memory
            del participant
        seconds = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return PagingResult(participants=seen, pages=fake.pages, peak_growth=peak - baseline, seconds=seconds)
