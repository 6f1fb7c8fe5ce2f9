"""Async bulk issuance (``AsyncItepClient.issue_bulk``): the twin of the sync run.

Against a real HTTP server on 127.0.0.1 (:mod:`tests.itep.bulk_server`) the async run sends each
candidate at most once and reports refused, timed-out and 5xx calls exactly as the sync run does for
the same cohort; resume and dry run follow the same rules; the semaphore bounds the calls in
flight; cancellation keeps every outcome already known and marks the rest ``NOT_ATTEMPTED``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from examkit.core.errors import ConfigurationError
from examkit.itep import (
    AsyncItepClient,
    BulkIssueInterrupted,
    BulkOutcome,
    BulkReport,
    Candidate,
    ItepClient,
    OutcomeStatus,
    read_candidates_csv,
)
from tests.itep.bulk_server import API_KEY, HEADER, READ_TIMEOUT, ItepServer, closed_port_url, itep_server

GTX = "GTX-Academic-Plus"


def cohort(count: int) -> list[Candidate]:
    return [
        Candidate(email=f"c{i}@example.com", name=f"Candidate {i}", candidate_id=f"id-{i}")
        for i in range(count)
    ]


def async_client_for(server: ItepServer | None = None, **settings: Any) -> AsyncItepClient:
    settings.setdefault("timeout", (2.0, READ_TIMEOUT))
    endpoint = server.url if server is not None else closed_port_url()
    return AsyncItepClient(api_key=API_KEY, signature_header=HEADER, endpoint=endpoint, **settings)


def run_async(client: AsyncItepClient, candidates: list[Candidate], **options: Any) -> BulkReport:
    async def go() -> BulkReport:
        async with client:
            return await client.issue_bulk(candidates, **options)

    return asyncio.run(go())


def facts(report: BulkReport) -> list[tuple[Any, ...]]:
    """What the report says of each candidate, except the test ID (allocated in arrival order)."""
    return [
        (
            o.index,
            o.candidate.email,
            o.status,
            o.allocated,
            o.http_status,
            type(o.error).__name__ if o.error is not None else None,
            o.error_message,
            o.error_field,
            o.test_id is not None,
        )
        for o in report
    ]


def csv_rows_without_test_id(report: BulkReport) -> list[dict[str, str]]:
    out = io.StringIO()
    report.write_csv(out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    for row in rows:
        row["test_id"] = "set" if row["test_id"] else ""
    return rows


# -- the twin: same cohort, same server behaviour, same outcomes and send counts ------------------------

# Candidate i's behaviour on the server: 4xx refusals, 5xx failures, stalled answers, successes.
BEHAVIOUR: dict[int, Any] = {1: 400, 2: 503, 4: "stall", 5: 500, 7: 422, 8: "stall", 10: 403}


@pytest.mark.parametrize("width", [1, 4])
def test_twin_of_the_sync_run_against_a_real_server(width: int) -> None:
    candidates = cohort(12)
    reports: list[BulkReport] = []
    sent: list[Counter[str]] = []
    with itep_server() as server:  # one server (one port): error messages name the URL
        for i, behaviour in BEHAVIOUR.items():
            server.behaviour[f"c{i}@example.com"] = behaviour
        for run in ("sync", "async"):
            server.received.clear()
            server.issued.clear()
            options: dict[str, Any] = {"product_code": GTX, "stop_after": None}
            if run == "sync":
                report = server.client().issue_bulk(candidates, max_workers=width, **options)
            else:
                report = run_async(async_client_for(server), candidates, concurrency=width, **options)
            # Every test ID the server allocated is the one reported to its candidate.
            assert {o.candidate.email: o.test_id for o in report.issued} == server.issued
            reports.append(report)
            sent.append(Counter(server.received))
    sync_report, async_report = reports
    assert facts(async_report) == facts(sync_report)
    assert csv_rows_without_test_id(async_report) == csv_rows_without_test_id(sync_report)
    assert sent[0] == sent[1] == Counter(c.email for c in candidates)  # each exactly once
    # Independently of the sync run, what the vendor's answers mean (issue 18's rules):
    by_index = {o.index: o for o in async_report}
    for i, behaviour in BEHAVIOUR.items():
        o = by_index[i]
        assert o.status is OutcomeStatus.FAILED
        if behaviour == "stall":
            assert (o.allocated, o.http_status, type(o.error).__name__) == ("maybe", None, "TransportError")
            assert "may have been allocated" in o.error_message
        else:
            assert (o.http_status, o.allocated) == (behaviour, "no" if behaviour < 500 else "maybe")
    assert [o.index for o in async_report.issued] == [i for i in range(12) if i not in BEHAVIOUR]
    assert async_report.summary() == sync_report.summary() == "12 candidates: 5 issued, 7 failed"


def test_refused_connections_twin_and_stop_early() -> None:
    candidates = cohort(6)
    url = closed_port_url()
    sync_client = ItepClient(api_key=API_KEY, signature_header=HEADER, endpoint=url)
    sync_report = sync_client.issue_bulk(candidates, product_code=GTX, max_workers=1, stop_after=2)
    async_client = AsyncItepClient(api_key=API_KEY, signature_header=HEADER, endpoint=url)
    async_report = run_async(async_client, candidates, product_code=GTX, concurrency=1, stop_after=2)
    assert facts(async_report) == facts(sync_report)
    assert [o.status for o in async_report] == [OutcomeStatus.FAILED] * 2 + [OutcomeStatus.NOT_ATTEMPTED] * 4
    assert all("nothing was sent" in o.error_message for o in async_report.failed)
    assert {o.allocated for o in async_report} == {"no"}
    assert async_report.stopped == sync_report.stopped
    assert async_report.stopped is not None
    assert "2 transport failures in a row" in async_report.stopped


def test_stop_early_with_calls_in_flight_starts_nothing_more() -> None:
    with itep_server() as server:
        for i in range(20):
            server.behaviour[f"c{i}@example.com"] = "stall"
        report = run_async(
            async_client_for(server), cohort(20), product_code=GTX, concurrency=4, stop_after=3
        )
        sent = sum(server.received.values())
    # The first 4 start together. Each stall that ends frees a slot: while fewer than 3 have failed, the
    # next candidate may start (the timeouts end a little apart, more so on a loaded machine), and once 3
    # have failed none does. So at least the first 4 and at most 4 + (3 - 1) are sent, each once, every one
    # sent is a failure, and the rest are not attempted.
    assert 4 <= sent <= 4 + 3 - 1
    assert all(n == 1 for n in server.received.values())
    assert len(report.failed) == sent
    assert len(report.not_attempted) == 20 - sent
    assert report.stopped is not None


# -- resume and dry run follow the same rules ------------------------------------------------------------


def test_resume_from_the_sync_outcomes_file_sends_only_what_allocated_nothing(tmp_path: Path) -> None:
    candidates = cohort(8)
    with itep_server() as server:
        server.behaviour.update({"c1@example.com": 400, "c2@example.com": "stall", "c3@example.com": 503})
        first = server.client().issue_bulk(candidates, product_code=GTX, max_workers=2, stop_after=None)
    outcomes = tmp_path / "run1.csv"
    first.write_csv(outcomes)
    resumed: list[BulkReport] = []
    sent: list[Counter[str]] = []
    with itep_server() as server:
        for run in ("sync", "async"):
            server.received.clear()
            if run == "sync":
                report = server.client().issue_bulk(candidates, product_code=GTX, resume=outcomes)
            else:
                report = run_async(async_client_for(server), candidates, product_code=GTX, resume=outcomes)
            resumed.append(report)
            sent.append(Counter(server.received))
    assert facts(resumed[1]) == facts(resumed[0])
    # Only the 4xx refusal allocated nothing: it alone is sent again; the stalled and 5xx rows
    # are for a person to check; the issued keep their earlier test IDs.
    assert sent[0] == sent[1] == Counter({"c1@example.com": 1})
    statuses = [o.status for o in resumed[1]]
    assert (
        statuses
        == [OutcomeStatus.ISSUED] * 2 + [OutcomeStatus.CHECK_IN_ITEP] * 2 + [OutcomeStatus.ISSUED] * 4
    )
    assert [o.test_id for o in resumed[1]][4:] == [o.test_id for o in first][4:]
    assert [o.earlier for o in resumed[1]] == [True, False] + [True] * 6


def test_dry_run_sends_nothing_and_matches_the_sync_dry_run() -> None:
    text = (
        "candidate_id,First_Name,Last_Name,email,Gender,product_code\n"
        "1,Ann,Lee,ann@example.com,female,\n"
        "2,Bob,Ray,not-an-email,,\n"
        "3,Cy,Oh,cy@example.com,robot,\n"
    )
    with itep_server() as server:
        sync_report = server.client().issue_bulk(
            read_candidates_csv(io.StringIO(text)), product_code=GTX, dry_run=True
        )
        async_report = run_async(
            async_client_for(server), read_candidates_csv(io.StringIO(text)), product_code=GTX, dry_run=True
        )
        assert sum(server.received.values()) == 0
    assert facts(async_report) == facts(sync_report)
    assert [o.body for o in async_report] == [o.body for o in sync_report]
    assert async_report.outcomes[0].body is not None
    assert json.loads(async_report.outcomes[0].body)["registration"]["Gender"] == "Female"
    assert async_report.summary() == "3 candidates: 1 valid, 2 invalid (dry run: nothing was sent)"


# -- the semaphore, and cancellation ---------------------------------------------------------------------


class SlowItep(httpx.AsyncBaseTransport):
    """Answers every fulfillment after ``delay`` seconds, counting the calls in flight and sent."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay
        self.in_flight = 0
        self.most_in_flight = 0
        self.received: Counter[str] = Counter()
        self.answered: dict[str, str] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        email = json.loads(request.content)["email"]
        self.received[email] += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            # Shielded: the fake vendor allocates and answers even if the caller stops listening.
            await asyncio.shield(asyncio.sleep(self.delay))
        finally:
            self.in_flight -= 1
        test_id = f"SLOW{len(self.answered):04d}"
        self.answered[email] = test_id
        return httpx.Response(200, json={"TestID": test_id})


def slow_client(transport: SlowItep) -> AsyncItepClient:
    return AsyncItepClient(
        api_key=API_KEY,
        signature_header=HEADER,
        endpoint="https://itep.test/requests/ecommerce_webhook.php",
        client=httpx.AsyncClient(transport=transport),
    )


@pytest.mark.parametrize("width", [1, 3, 8])
def test_concurrency_is_bounded_and_used(width: int) -> None:
    transport = SlowItep()
    report = run_async(slow_client(transport), cohort(24), product_code=GTX, concurrency=width)
    assert transport.most_in_flight == width
    assert transport.received == Counter(f"c{i}@example.com" for i in range(24))
    assert [o.test_id for o in report] == [transport.answered[f"c{i}@example.com"] for i in range(24)]


def test_settings_are_checked() -> None:
    for bad in (0, 257, True, 2.0):
        with pytest.raises(ConfigurationError):
            run_async(slow_client(SlowItep()), cohort(1), product_code=GTX, concurrency=bad)
    with pytest.raises(ConfigurationError):
        run_async(slow_client(SlowItep()), cohort(1), product_code=GTX, stop_after=0)


def assert_nothing_lost(report: BulkReport, transport: SlowItep, total: int) -> None:
    assert len(report) == total
    assert set(transport.received.values()) <= {1}  # at most once each
    # Every call that reached the vendor was waited for: its test ID is in the report.
    assert {o.candidate.email: o.test_id for o in report.issued} == transport.answered
    assert len(report.issued) == sum(transport.received.values())
    assert len(report.not_attempted) == total - len(report.issued) > 0
    assert {o.allocated for o in report.not_attempted} == {"no"}


def cancelled_run(
    transport: SlowItep,
    total: int,
    when: Callable[[asyncio.Task[BulkReport], int], bool],
    *,
    again: bool = False,
) -> BaseException:
    async def go() -> BaseException:
        client = slow_client(transport)
        done = 0

        def progress(_outcome: BulkOutcome, count: int, _total: int) -> None:
            nonlocal done
            done = count

        task = asyncio.ensure_future(
            client.issue_bulk(cohort(total), product_code=GTX, concurrency=4, progress=progress)
        )
        while not when(task, done):
            await asyncio.sleep(0.001)
        task.cancel()
        if again:
            await asyncio.sleep(0.005)
            task.cancel()  # while the calls in flight are waited for
        try:
            await task
        except BaseException as exc:  # the test looks at what came out
            return exc
        finally:
            await client.aclose()
        raise AssertionError("the cancelled run returned normally")

    return asyncio.run(go())


@pytest.mark.parametrize("again", [False, True])
def test_cancelling_the_task_keeps_every_known_outcome(again: bool) -> None:
    transport = SlowItep(delay=0.03)
    error = cancelled_run(
        transport, 40, lambda _task, done: done >= 6 and transport.in_flight > 0, again=again
    )
    assert isinstance(error, BulkIssueInterrupted)
    assert isinstance(error.__cause__, asyncio.CancelledError)
    assert_nothing_lost(error.report, transport, 40)
    assert len(error.report.issued) >= 6 + 1  # the calls in flight when cancelled finished too
    assert "not attempted" in str(error)


def test_a_timeout_around_the_run_keeps_every_known_outcome() -> None:
    transport = SlowItep(delay=0.03)

    async def go() -> BulkIssueInterrupted:
        async with slow_client(transport) as client:
            with pytest.raises(BulkIssueInterrupted) as info:
                await asyncio.wait_for(client.issue_bulk(cohort(40), product_code=GTX, concurrency=4), 0.1)
            return info.value

    error = asyncio.run(go())
    assert_nothing_lost(error.report, transport, 40)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_base_exception_in_progress_keeps_the_report(exc: type[BaseException]) -> None:
    transport = SlowItep(delay=0.01)

    def progress(_outcome: BulkOutcome, done: int, _total: int) -> None:
        if done == 3:
            raise exc

    with pytest.raises(BulkIssueInterrupted) as info:
        run_async(slow_client(transport), cohort(30), product_code=GTX, concurrency=2, progress=progress)
    assert isinstance(info.value.__cause__, exc)
    assert_nothing_lost(info.value.report, transport, 30)


def test_progress_sees_every_outcome_once_even_if_it_raises() -> None:
    seen: list[int] = []

    def progress(outcome: BulkOutcome, done: int, total: int) -> None:
        seen.append(outcome.index)
        assert total == 10
        raise RuntimeError("a broken callback")

    report = run_async(
        slow_client(SlowItep(0.001)), cohort(10), product_code=GTX, concurrency=3, progress=progress
    )
    assert sorted(seen) == list(range(10))
    assert len(report.issued) == 10


def test_system_exit_from_the_sequence_callable_keeps_the_report() -> None:
    transport = SlowItep(delay=0.005)
    calls = 0

    def sequence() -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise SystemExit(2)
        return calls

    client = AsyncItepClient(
        api_key=API_KEY,
        signature_header=HEADER,
        endpoint="https://itep.test/requests/ecommerce_webhook.php",
        client=httpx.AsyncClient(transport=transport),
        sequence=sequence,
    )
    with pytest.raises(BulkIssueInterrupted) as info:
        run_async(client, cohort(12), product_code=GTX, concurrency=1)
    report = info.value.report
    assert [o.status for o in report][:3] == [OutcomeStatus.ISSUED] * 2 + [OutcomeStatus.FAILED]
    assert isinstance(report.outcomes[2].error, SystemExit)
    assert report.outcomes[2].allocated == "maybe"  # an error examkit did not raise: a person checks
    assert [o.status for o in report][3:] == [OutcomeStatus.NOT_ATTEMPTED] * 9
    assert sum(transport.received.values()) == 2


def test_the_benchmark_case_runs_small_and_sends_each_candidate_once() -> None:
    from benchmarks import system  # the benchmarks are not part of the package

    result = system.async_bulk_itep(candidates=12, latency=0.0, widths=(1, 4), rounds=2)
    assert result.all_issued
    assert result.min_attempts_per_candidate == result.max_attempts_per_candidate == 1
    assert [len(v) for v in result.seconds.values()] == [2, 2]
    assert len(result.ratios(4)) == 2


def test_a_cancelled_run_reports_and_writes_every_candidate_and_resumes_the_rest() -> None:
    # Issue 16: cancellation marks the rest of the cohort NOT_ATTEMPTED, with the same report and
    # CSV output as any run, and the report reaches the caller (on the exception it raises).
    transport = SlowItep(delay=0.03)
    error = cancelled_run(transport, 30, lambda _task, done: done >= 5 and transport.in_flight > 0)
    assert isinstance(error, BulkIssueInterrupted)
    report = error.report
    assert_nothing_lost(report, transport, 30)
    rows = list(csv.DictReader(io.StringIO(_csv(report))))
    assert [row["email"] for row in rows] == [f"c{i}@example.com" for i in range(30)]  # cohort order
    for row in rows:
        answered = transport.answered.get(row["email"])
        if answered is not None:
            assert (row["status"], row["test_id"], row["allocated"]) == ("issued", answered, "yes")
        else:
            assert (row["status"], row["test_id"], row["allocated"]) == ("not_attempted", "", "no")
            assert row["error"] == row["http_status"] == ""
    assert {row["status"] for row in rows} == {"issued", "not_attempted"}
    # The same columns as the sync twin's interrupted report.
    sync_rows = _interrupted_sync_csv_header()
    assert list(rows[0]) == sync_rows
    # Resuming from the report sends to the not-attempted candidates only, each once.
    first = dict(transport.received)
    resumed = run_async(slow_client(transport), cohort(30), product_code=GTX, resume=report)
    assert len(resumed.issued) == 30
    assert transport.received == Counter(f"c{i}@example.com" for i in range(30))
    assert all(transport.received[email] == 1 for email in first)


def _csv(report: BulkReport) -> str:
    out = io.StringIO()
    report.write_csv(out)
    return out.getvalue()


def _interrupted_sync_csv_header() -> list[str]:
    """The columns of a sync run stopped by Ctrl-C in its progress callback."""

    def progress(_outcome: BulkOutcome, done: int, _total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with itep_server() as server, pytest.raises(BulkIssueInterrupted) as info:
        server.client().issue_bulk(cohort(6), product_code=GTX, max_workers=1, progress=progress)
    assert {o.status for o in info.value.report} == {OutcomeStatus.ISSUED, OutcomeStatus.NOT_ATTEMPTED}
    return list(csv.DictReader(io.StringIO(_csv(info.value.report))).fieldnames or [])
