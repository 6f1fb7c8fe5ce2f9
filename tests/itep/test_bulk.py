"""Bulk issuance: each candidate attempted exactly once, every outcome reported, nothing lost."""

from __future__ import annotations

import _thread
import concurrent.futures
import csv
import io
import json
import socket
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examkit.core.errors import ConfigurationError, ServerError, TransportError, ValidationError
from examkit.itep import (
    BulkIssueInterrupted,
    BulkOutcome,
    BulkReport,
    Candidate,
    OutcomeStatus,
    bulk,
    read_candidates_csv,
)
from examkit.itep.client import ItepClient, _clone_session
from examkit.testing.http import FakeRequest
from examkit.testing.itep import FakeItep

API_KEY = "itep-bulk-api-key-0123"
HEADER = "X-Itep-Signature"


def make_fake(count: int = 50) -> FakeItep:
    return FakeItep(
        api_key=API_KEY,
        signature_header=HEADER,
        inventory={"Academic-Plus": [f"T{n:05d}AP" for n in range(count)]},
    )


def cohort(n: int) -> list[Candidate]:
    return [
        Candidate(email=f"c{i}@example.com", name=f"Candidate {i}", candidate_id=f"id-{i}") for i in range(n)
    ]


def sent_emails(fake: FakeItep) -> Counter[str]:
    return Counter(json.loads(r.body).get("email") for r in fake.requests)


def test_injected_failures_each_candidate_attempted_exactly_once() -> None:
    fake = make_fake()
    for i in (1, 4, 7):
        fake.fail_for(f"c{i}@example.com", status=500)
    candidates = cohort(10)
    candidates[9] = Candidate(email="not-an-email", candidate_id="id-9")  # fails before sending
    client = fake.client()
    report = client.issue_bulk(candidates, product_code="STX-Academic-Plus", max_workers=4)

    assert len(fake.requests) == 9  # exactly one request per valid candidate
    assert set(sent_emails(fake).values()) == {1}
    assert len(report) == 10
    assert [o.index for o in report] == list(range(10))
    assert [o.candidate for o in report] == candidates
    assert [o.status for o in report] == [
        OutcomeStatus.FAILED if i in (1, 4, 7, 9) else OutcomeStatus.ISSUED for i in range(10)
    ]
    for i in (1, 4, 7):
        assert isinstance(report.outcomes[i].error, ServerError)
        assert report.outcomes[i].http_status == 500
    assert isinstance(report.outcomes[9].error, ValidationError)
    assert report.outcomes[9].http_status is None
    issued = [o.test_id or "" for o in report.issued]
    assert len(issued) == len(set(issued)) == 6
    assert sorted(issued) == sorted(i.test_id for i in fake.issued)
    assert sorted(e.to for e in fake.emails) == sorted(f"c{i}@example.com" for i in (0, 2, 3, 5, 6, 8))
    assert report.summary() == "10 candidates: 6 issued, 4 failed"


def test_outcomes_written_back_to_csv_keep_every_row() -> None:
    fake = make_fake()
    fake.fail_next(2, status=503)
    source = io.StringIO(
        "candidate_id,First_Name,Last_Name,email,Gender\n"
        "1,Ann,Lee,ann@example.com,female\n"
        "2,Bob,Ray,bob@example.com,\n"
        "3,Cy,Oh,cy@example.com,robot\n"
        "4,Di,Xu,di@example.com,\n"
    )
    candidates = read_candidates_csv(source)
    assert candidates[0].registration == {
        "First_Name": "Ann",
        "Last_Name": "Lee",
        "Gender": "female",
    }
    report = fake.client().issue_bulk(candidates, product_code="GTX-Academic-Plus", max_workers=1)
    assert len(fake.requests) == 3  # the "robot" row fails validation and is not sent
    out = io.StringIO()
    report.write_csv(out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["candidate_id"] for r in rows] == ["1", "2", "3", "4"]
    assert [r["status"] for r in rows] == ["failed", "failed", "failed", "issued"]
    assert [r["http_status"] for r in rows] == ["503", "503", "", "200"]
    assert rows[2]["error_field"] == "Gender"
    assert "Invalid Gender [robot]" in rows[2]["error"]
    assert rows[3]["test_id"] == "T00000AP"
    # A 5xx answer may come after iTEP allocated an ID; a row refused before sending allocated none.
    assert [r["allocated"] for r in rows] == ["maybe", "maybe", "no", "yes"]
    assert list(rows[0]) == [
        "candidate_id",
        "First_Name",
        "Last_Name",
        "email",
        "Gender",
        "test_id",
        "status",
        "error",
        "error_field",
        "http_status",
        "allocated",
    ]


def test_concurrency_is_bounded_and_used() -> None:
    fake = make_fake()
    lock = threading.Lock()
    active = 0
    peak = 0

    def slow(_: FakeRequest) -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.02)
        with lock:
            active -= 1

    fake.on_request(slow)
    report = fake.client().issue_bulk(cohort(12), product_code="GTX-Academic-Plus", max_workers=3)
    assert len(report.issued) == 12
    assert len(fake.requests) == 12
    assert 1 < peak <= 3


def test_progress_callback_sees_every_outcome_once_even_if_it_raises() -> None:
    fake = make_fake()
    seen: list[tuple[int, int, int]] = []

    def progress(outcome: BulkOutcome, done: int, total: int) -> None:
        seen.append((outcome.index, done, total))
        raise RuntimeError("display broke")

    report = fake.client().issue_bulk(
        cohort(5), product_code="GTX-Academic-Plus", progress=progress, max_workers=2
    )
    assert len(report.issued) == 5
    assert sorted(i for i, _, _ in seen) == [0, 1, 2, 3, 4]
    assert [d for _, d, _ in seen] == [1, 2, 3, 4, 5]
    assert {t for _, _, t in seen} == {5}


def test_text_progress_bar() -> None:
    bar = io.StringIO()
    make_fake().client().issue_bulk(cohort(3), product_code="GTX-Academic-Plus", progress_bar=bar)
    assert "3/3" in bar.getvalue()
    assert bar.getvalue().endswith("\n")


def test_interruption_reports_partial_results_without_second_attempts() -> None:
    fake = make_fake()
    fake.on_request(lambda _: time.sleep(0.01))

    def progress(outcome: BulkOutcome, done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(BulkIssueInterrupted) as info:
        fake.client().issue_bulk(
            cohort(30), product_code="GTX-Academic-Plus", max_workers=1, progress=progress
        )
    report = info.value.report
    assert len(report) == 30
    attempted = [o for o in report if o.status is not OutcomeStatus.NOT_ATTEMPTED]
    assert len(attempted) == len(fake.requests) >= 2
    assert set(sent_emails(fake).values()) == {1}
    assert len(report.not_attempted) == 30 - len(attempted) > 0


def test_candidate_without_product_code_fails_alone() -> None:
    fake = make_fake()
    candidates = [
        Candidate(email="a@example.com"),
        Candidate(email="b@example.com", product_code="GTX-Academic-Plus"),
    ]
    report = fake.client().issue_bulk(candidates)
    assert [o.status for o in report] == [OutcomeStatus.FAILED, OutcomeStatus.ISSUED]
    assert report.outcomes[0].error_field == "product-code"
    assert len(fake.requests) == 1


def test_settings_are_checked() -> None:
    client = make_fake().client()
    for workers in (0, 33, True):
        with pytest.raises(ConfigurationError):
            client.issue_bulk([], max_workers=workers)
    with pytest.raises(ConfigurationError):
        client.issue_bulk([42])  # type: ignore[list-item]


def test_each_worker_gets_its_own_session_with_the_same_adapters() -> None:
    original = requests.Session()
    original.proxies = {"https": "http://proxy.example:3128"}
    original.headers["X-Custom"] = "1"
    clone = _clone_session(original)
    assert clone is not original
    assert clone.proxies == original.proxies
    assert clone.headers["X-Custom"] == "1"
    assert clone.adapters["https://"] is original.adapters["https://"]


# -- interruption: nothing known is lost, nothing is sent twice ------------------------------------


class _Stop(BaseException):
    """A BaseException that is neither KeyboardInterrupt nor SystemExit (like gevent's GreenletExit)."""


def _outcome_checks(fake: FakeItep, report: BulkReport, candidates: list[Candidate]) -> None:
    assert [o.index for o in report] == list(range(len(candidates)))
    assert [o.candidate for o in report] == candidates
    # Every test ID the vendor allocated is in the report, and only those.
    assert sorted(report.test_ids) == sorted(i.test_id for i in fake.issued)
    # No candidate was sent twice, and none that was sent is called "not attempted".
    counts = sent_emails(fake)
    assert set(counts.values()) <= {1}
    not_attempted = {o.candidate.email for o in report.not_attempted}
    assert not_attempted.isdisjoint(counts)


def test_second_interrupt_while_waiting_for_workers_keeps_every_outcome() -> None:
    fake = make_fake()
    seen = 0
    lock = threading.Lock()

    def hook(_: FakeRequest) -> None:
        nonlocal seen
        with lock:
            seen += 1
            number = seen
        if number <= 3:  # Ctrl-C three times while the first calls are in flight
            _thread.interrupt_main()
        time.sleep(0.05)

    fake.on_request(hook)
    candidates = cohort(20)
    with pytest.raises(BulkIssueInterrupted) as info:
        fake.client().issue_bulk(candidates, product_code="GTX-Academic-Plus", max_workers=4)
    report = info.value.report
    _outcome_checks(fake, report, candidates)
    assert len(fake.issued) >= 1
    assert len(report.not_attempted) == 20 - len(fake.requests) > 0


def test_system_exit_in_a_worker_keeps_the_report() -> None:
    fake = make_fake()
    calls = 0
    lock = threading.Lock()

    def sequence() -> int:
        nonlocal calls
        with lock:
            calls += 1
            number = calls
        if number == 3:
            raise SystemExit(4)
        return number

    fake.on_request(lambda _: time.sleep(0.01))
    candidates = cohort(10)
    with pytest.raises(BulkIssueInterrupted) as info:
        fake.client(sequence=sequence).issue_bulk(candidates, product_code="GTX-Academic-Plus", max_workers=2)
    report = info.value.report
    _outcome_checks(fake, report, candidates)
    exits = [o for o in report.failed if isinstance(o.error, SystemExit)]
    assert len(exits) == 1
    assert exits[0].candidate.email not in sent_emails(fake)  # the sequence number comes before sending
    assert report.not_attempted  # the run stopped


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit, _Stop])
def test_base_exception_in_the_progress_callback_keeps_the_report(exc: type[BaseException]) -> None:
    fake = make_fake()
    fake.on_request(lambda _: time.sleep(0.005))

    def progress(outcome: BulkOutcome, done: int, total: int) -> None:
        if done == 3:
            raise exc

    candidates = cohort(12)
    with pytest.raises(BulkIssueInterrupted) as info:
        fake.client().issue_bulk(
            candidates, product_code="GTX-Academic-Plus", max_workers=2, progress=progress
        )
    _outcome_checks(fake, info.value.report, candidates)
    assert len(info.value.report.issued) >= 3


def test_a_broken_progress_bar_does_not_stop_the_run() -> None:
    fake = make_fake()
    stream = io.StringIO()
    stream.close()  # writing raises ValueError
    candidates = cohort(4)
    report = fake.client().issue_bulk(candidates, product_code="GTX-Academic-Plus", progress_bar=stream)
    assert len(report.issued) == 4
    _outcome_checks(fake, report, candidates)


class _Injector:
    """Raises interrupts at planned points of one bulk run, and remembers which fired."""

    def __init__(self, plan: list[tuple[str, int]]) -> None:
        self.plan = plan
        self.fired: list[str] = []
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def due(self, point: str) -> list[int]:
        with self.lock:
            self.counts[point] += 1
            number = self.counts[point]
            hits = [k for p, k in self.plan if p == point and k == number]
            if hits:
                self.fired.append(point)
            return hits


_POINTS = ("submit", "request", "progress", "worker_exit", "report")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(min_value=1, max_value=8),
    workers=st.integers(min_value=1, max_value=4),
    plan=st.lists(
        st.tuples(st.sampled_from(_POINTS), st.integers(min_value=1, max_value=8)), min_size=0, max_size=5
    ),
)
def test_interrupts_anywhere_lose_no_outcome_and_send_nothing_twice(
    n: int, workers: int, plan: list[tuple[str, int]]
) -> None:
    fake = make_fake()
    injector = _Injector(plan)

    def on_request(_: FakeRequest) -> None:
        for _hit in injector.due("request"):
            _thread.interrupt_main()  # Ctrl-C while the calling thread waits (repeats included)
        time.sleep(0.002)

    def sequence() -> int:
        if injector.due("worker_exit"):
            raise SystemExit(1)
        return 1

    def progress(outcome: BulkOutcome, done: int, total: int) -> None:
        if injector.due("progress"):
            raise KeyboardInterrupt

    real_submit = concurrent.futures.ThreadPoolExecutor.submit

    def submit(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        if injector.due("submit"):
            raise KeyboardInterrupt
        return real_submit(self, fn, *args, **kwargs)

    real_build = getattr(bulk, "_build_report", None)

    def build(*args: Any, **kwargs: Any) -> BulkReport:
        if injector.due("report"):
            raise KeyboardInterrupt
        assert real_build is not None
        report: BulkReport = real_build(*args, **kwargs)
        return report

    fake.on_request(on_request)
    candidates = cohort(n)
    client = fake.client(sequence=sequence)
    interrupted = False
    with (
        mock.patch.object(concurrent.futures.ThreadPoolExecutor, "submit", submit),
        mock.patch.object(bulk, "_build_report", build, create=True),
    ):
        try:
            report = client.issue_bulk(
                candidates, product_code="GTX-Academic-Plus", max_workers=workers, progress=progress
            )
        except BulkIssueInterrupted as exc:
            report = exc.report
            interrupted = True
    _outcome_checks(fake, report, candidates)
    assert interrupted == bool(injector.fired)
    if not interrupted:
        assert len(report.issued) == n
    assert len(report.test_ids) == len(fake.issued)


# -- nothing sent, or maybe allocated: real sockets on 127.0.0.1 ------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_refused_connection_is_reported_as_nothing_sent() -> None:
    client = ItepClient(
        api_key=API_KEY, signature_header=HEADER, endpoint=f"http://127.0.0.1:{_closed_port()}/fulfil"
    )
    report = client.issue_bulk(cohort(2), product_code="GTX-Academic-Plus", max_workers=1)
    for outcome in report:
        assert outcome.status is OutcomeStatus.FAILED
        assert isinstance(outcome.error, TransportError)
        assert outcome.error.may_have_been_sent is False
        assert "nothing was sent" in outcome.error_message
        assert "may have been allocated" not in outcome.error_message
    with pytest.raises(TransportError) as info:
        client.send_test_id(product_code="STX-Academic-Plus", email="a@example.com")
    assert info.value.may_have_been_sent is False
    assert "nothing was sent" in str(info.value)
    assert "allocated" not in str(info.value)


def test_a_stalled_answer_is_reported_as_maybe_allocated() -> None:
    release = threading.Event()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        server.settimeout(5)
        port = server.getsockname()[1]
        accepted: list[socket.socket] = []

        def accept() -> None:
            for _ in range(2):
                try:
                    conn, _addr = server.accept()
                except OSError:
                    return
                conn.recv(65536)  # read the request, answer nothing
                accepted.append(conn)

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            client = ItepClient(
                api_key=API_KEY,
                signature_header=HEADER,
                endpoint=f"http://127.0.0.1:{port}/fulfil",
                timeout=(2.0, 0.3),
            )
            report = client.issue_bulk(cohort(2), product_code="GTX-Academic-Plus", max_workers=2)
        finally:
            release.set()
            thread.join(5)
            for conn in accepted:
                conn.close()
    for outcome in report:
        assert isinstance(outcome.error, TransportError)
        assert outcome.error.may_have_been_sent is True
        assert "may have been allocated" in outcome.error_message
        assert "check in the iTEP administration system before re-issuing" in outcome.error_message
        assert "nothing was sent" not in outcome.error_message


# -- the outcomes CSV is safe to open in a spreadsheet ----------------------------------------------


def _report_with(row: dict[str, str], status: OutcomeStatus = OutcomeStatus.ISSUED) -> BulkReport:
    candidate = Candidate(email=row.get("email"), row=row)
    return BulkReport((BulkOutcome(index=0, candidate=candidate, status=status, test_id="T1"),))


FORMULAS = {
    "name": '=HYPERLINK("http://x","y")',
    "plus": "+1+1",
    "minus": "-2+3",
    "at": "@SUM(A1)",
    "tab": "\t=1",
    "cr": "\r=1",
    "email": "ann@example.com",
    "inner": "a=b",
}


def test_write_csv_neutralizes_formulas_by_default() -> None:
    out = io.StringIO()
    _report_with(FORMULAS).write_csv(out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert rows == [
        {
            "name": '\'=HYPERLINK("http://x","y")',
            "plus": "'+1+1",
            "minus": "'-2+3",
            "at": "'@SUM(A1)",
            "tab": "'\t=1",
            "cr": "'\r=1",
            "email": "ann@example.com",
            "inner": "a=b",
            "test_id": "T1",
            "status": "issued",
            "error": "",
            "error_field": "",
            "http_status": "",
            "allocated": "yes",
        }
    ]


def test_write_csv_can_keep_cells_verbatim(tmp_path: Path) -> None:
    target = tmp_path / "o.csv"
    _report_with(FORMULAS).write_csv(target, neutralize_formulas=False)
    with open(target, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["name"] == '=HYPERLINK("http://x","y")'
    assert rows[0]["cr"] == "\r=1"


def test_write_csv_with_a_byte_order_mark_for_excel(tmp_path: Path) -> None:
    target = tmp_path / "o.csv"
    _report_with({"name": "Zoë Łukasz", "email": "z@example.com"}).write_csv(target, encoding="utf-8-sig")
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfname,email,")
    assert "Zoë Łukasz".encode() in data
    plain = tmp_path / "p.csv"
    _report_with({"name": "Zoë"}).write_csv(plain)
    assert plain.read_bytes().startswith(b"name,")
    stream = io.StringIO()
    _report_with({"name": "Zoë"}).write_csv(stream, encoding="utf-8-sig")
    assert stream.getvalue().startswith("\ufeffname,")
    with pytest.raises(ConfigurationError):
        _report_with({"name": "x"}).write_csv(io.StringIO(), encoding="latin-1")


def test_client_copy_has_the_same_settings_on_its_own_session() -> None:
    fake = make_fake()
    original = fake.client()
    copy = original.copy()
    assert copy is not original
    assert copy.endpoint == original.endpoint
    assert copy.signature_header == original.signature_header
    assert copy._transport.session is not original._transport.session
    assert copy._transport.session.adapters["https://"] is original._transport.session.adapters["https://"]
    assert "api_key='***'" in repr(copy)
    assert API_KEY not in repr(copy)
    copy.close()
    # The copy sends exactly as the original does, and the original still works after it is closed.
    assert original.issue_test_id(product_code="GTX-Academic-Plus").test_id == "T00000AP"
    assert copy.copy().issue_test_id(product_code="GTX-Academic-Plus").test_id == "T00001AP"
    assert len(fake.requests) == 2
