"""Bulk issuance: each candidate attempted exactly once, every outcome reported, nothing lost."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections import Counter

import pytest
import requests

from examkit.core.errors import ConfigurationError, ServerError, ValidationError
from examkit.itep import (
    BulkIssueInterrupted,
    BulkOutcome,
    Candidate,
    OutcomeStatus,
    read_candidates_csv,
)
from examkit.itep.client import _clone_session
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
