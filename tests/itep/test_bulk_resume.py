"""Bulk issuance that is safe to re-run, against a real HTTP server on 127.0.0.1 (send counts).

Resume, dry run, stopping when iTEP is down, the outcomes file never replaced by accident, and an
unreadable expiry date in a custom column reported on its row.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examkit.core.errors import ConfigurationError, PayloadError, TransportError, ValidationError
from examkit.itep import (
    BulkReport,
    Candidate,
    CandidateColumns,
    ItepClient,
    OutcomeStatus,
    read_candidates_csv,
)
from examkit.testing.itep import FakeItep
from tests.itep.bulk_server import API_KEY, HEADER, closed_port_url, itep_server

GTX = "GTX-Academic-Plus"
EMAILS = [f"c{i}@example.com" for i in range(6)]


def cohort(emails: list[str] = EMAILS) -> list[Candidate]:
    return [Candidate(email=e, name=f"Candidate {i}", candidate_id=f"id-{i}") for i, e in enumerate(emails)]


def refused_client() -> ItepClient:
    return ItepClient(api_key=API_KEY, signature_header=HEADER, endpoint=closed_port_url())


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# -- resume: skip the issued, retry what cannot have been allocated, list the rest ----------------------


def test_resume_over_three_runs_sends_nothing_twice_that_may_have_been_allocated(tmp_path: Path) -> None:
    candidates = cohort()
    # Run 1: iTEP unreachable, the connection is refused: nothing can have been allocated to anyone.
    first = refused_client().issue_bulk(candidates, product_code=GTX, max_workers=1, stop_after=None)
    assert [o.status for o in first] == [OutcomeStatus.FAILED] * 6
    assert {o.allocated for o in first} == {"no"}
    run1 = tmp_path / "run1.csv"
    first.write_csv(run1)
    assert [r["allocated"] for r in rows_of(run1)] == ["no"] * 6

    with itep_server() as server:
        # Run 2, resumed from run 1: everyone is tried. c1 stalls (read timeout after sending), c2 is
        # refused by iTEP (400), c3 gets a server failure (500); the others get test IDs.
        server.behaviour.update({EMAILS[1]: "stall", EMAILS[2]: 400, EMAILS[3]: 500})
        second = server.client().issue_bulk(candidates, product_code=GTX, resume=run1, max_workers=3)
        assert server.received == Counter(EMAILS)
        assert [o.status for o in second] == [
            OutcomeStatus.ISSUED,
            OutcomeStatus.FAILED,
            OutcomeStatus.FAILED,
            OutcomeStatus.FAILED,
            OutcomeStatus.ISSUED,
            OutcomeStatus.ISSUED,
        ]
        assert [o.allocated for o in second] == ["yes", "maybe", "no", "maybe", "yes", "yes"]
        assert isinstance(second.outcomes[1].error, TransportError)
        assert "may have been allocated" in second.outcomes[1].error_message
        assert {o.candidate.email for o in second.to_check} == {EMAILS[1], EMAILS[3]}
        run2 = tmp_path / "run2.csv"
        second.write_csv(run2)
        issued_in_run2 = dict(server.issued)

        # Run 3, resumed from run 2, iTEP now answers everyone: only c2 (refused, so nothing was
        # allocated) is sent again. c1 and c3 are listed for a person to check, never re-sent.
        server.behaviour.clear()
        third = server.client().issue_bulk(candidates, product_code=GTX, resume=run2, max_workers=3)
        assert server.received == Counter(EMAILS) + Counter([EMAILS[2]])

    by_email = {o.candidate.email: o for o in third}
    for email in (EMAILS[0], EMAILS[4], EMAILS[5]):
        assert by_email[email].status is OutcomeStatus.ISSUED
        assert by_email[email].earlier is True
        assert by_email[email].test_id == issued_in_run2[email]  # kept from run 2, not issued anew
    assert by_email[EMAILS[2]].status is OutcomeStatus.ISSUED
    assert by_email[EMAILS[2]].earlier is False
    for email in (EMAILS[1], EMAILS[3]):
        outcome = by_email[email]
        assert outcome.status is OutcomeStatus.CHECK_IN_ITEP
        assert outcome.allocated == "maybe"
        assert "iTEP administration system" in outcome.error_message
    assert third.summary() == (
        "6 candidates: 4 issued, 0 failed (3 issued in an earlier run, not sent again), 2 to check in iTEP"
    )
    # The new outcomes file records every test ID of every run, and the rows to check.
    run3 = tmp_path / "run3.csv"
    third.write_csv(run3)
    rows = rows_of(run3)
    assert [r["status"] for r in rows] == [
        "issued",
        "check_in_itep",
        "issued",
        "check_in_itep",
        "issued",
        "issued",
    ]
    assert {r["email"]: r["test_id"] for r in rows if r["test_id"]} == {
        **{e: issued_in_run2[e] for e in (EMAILS[0], EMAILS[4], EMAILS[5])},
        EMAILS[2]: server.issued[EMAILS[2]],
    }


def test_resume_reads_an_outcomes_file_written_before_the_allocated_column(tmp_path: Path) -> None:
    old = tmp_path / "old.csv"
    old.write_text(
        "email,candidate_id,test_id,status,error,error_field,http_status\n"
        "a@example.com,1,T1,issued,,,200\n"
        "b@example.com,2,,failed,iTEP answered 400,,400\n"
        "c@example.com,3,,failed,iTEP answered 503,,503\n"
        "d@example.com,4,,failed,read timeout,,\n"
        "e@example.com,5,,failed,Invalid Gender [robot],Gender,\n"
        "f@example.com,6,,not_attempted,,,\n",
        encoding="utf-8",
    )
    earlier = BulkReport.read_csv(old)
    assert [o.allocated for o in earlier] == ["yes", "no", "maybe", "maybe", "no", "no"]
    fake = FakeItep(
        api_key=API_KEY, signature_header=HEADER, inventory={"Academic-Plus": ["N1AP01", "N2AP02", "N3AP03"]}
    )
    candidates = [
        Candidate(email=f"{x}@example.com", candidate_id=str(i + 1)) for i, x in enumerate("abcdef")
    ]
    report = fake.client().issue_bulk(candidates, product_code=GTX, resume=old)
    assert sorted(json.loads(r.body)["email"] for r in fake.requests) == [
        "b@example.com",
        "e@example.com",
        "f@example.com",
    ]
    assert report.outcomes[0].test_id == "T1"
    assert [o.status for o in report][2:4] == [OutcomeStatus.CHECK_IN_ITEP] * 2


def test_resume_refuses_a_file_that_is_not_an_outcomes_file(tmp_path: Path) -> None:
    other = tmp_path / "candidates.csv"
    other.write_text("email\na@example.com\n", encoding="utf-8")
    with pytest.raises(PayloadError, match="no status column"):
        BulkReport.read_csv(other)


KINDS = st.sampled_from(["ok", 400, 500, "refused_validation"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(KINDS, min_size=1, max_size=8))
def test_resume_property_only_what_allocated_nothing_is_sent_again(first: list[object]) -> None:
    # An independent oracle: a candidate may be sent again only when its first answer was a 4xx
    # or it was refused before sending; one issued keeps its ID; a 5xx is never re-sent.
    emails = [f"p{i}@example.com" for i in range(len(first))]
    fake = FakeItep(
        api_key=API_KEY,
        signature_header=HEADER,
        inventory={"Academic-Plus": [f"P{n:05d}AP" for n in range(40)]},
    )
    candidates = []
    for i, (email, kind) in enumerate(zip(emails, first, strict=True)):
        if isinstance(kind, int):
            fake.fail_for(email, status=kind)
        bad = kind == "refused_validation"
        candidates.append(Candidate(email=email, candidate_id=str(i), expires="not a date" if bad else None))
    before = fake.client().issue_bulk(candidates, product_code=GTX, max_workers=2)
    buffer = io.StringIO()
    before.write_csv(buffer)
    sent_first = Counter(json.loads(r.body)["email"] for r in fake.requests)
    fixed = [Candidate(email=c.email, candidate_id=c.candidate_id) for c in candidates]
    again = FakeItep(
        api_key=API_KEY,
        signature_header=HEADER,
        inventory={"Academic-Plus": [f"Q{n:05d}AP" for n in range(40)]},
    )
    after = again.client().issue_bulk(fixed, product_code=GTX, resume=io.StringIO(buffer.getvalue()))
    sent_again = Counter(json.loads(r.body)["email"] for r in again.requests)
    expected_again = {e for e, k in zip(emails, first, strict=True) if k in (400, "refused_validation")}
    assert set(sent_again) == expected_again
    assert set(sent_again.values()) <= {1}
    for email, kind, outcome in zip(emails, first, after, strict=True):
        if kind == "ok":
            assert outcome.earlier
            assert outcome.test_id == before.outcomes[emails.index(email)].test_id
        if kind == 500:
            assert outcome.status is OutcomeStatus.CHECK_IN_ITEP
    assert sum(sent_first.values()) == sum(1 for k in first if k != "refused_validation")


# -- stop early when iTEP is down -----------------------------------------------------------------------


def test_stops_after_consecutive_refused_connections() -> None:
    report = refused_client().issue_bulk(cohort(), product_code=GTX, max_workers=1, stop_after=2)
    assert [o.status for o in report] == [OutcomeStatus.FAILED] * 2 + [OutcomeStatus.NOT_ATTEMPTED] * 4
    assert report.stopped is not None
    assert "2 transport failures in a row" in report.stopped
    assert all("nothing was sent" in o.error_message for o in report.failed)
    assert report.summary().endswith(
        "4 not attempted; stopped: 2 transport failures in a row (iTEP cannot be reached); the "
        "candidates not yet started were not attempted"
    )


def test_stops_after_stalled_answers_and_sends_no_more() -> None:
    with itep_server() as server:
        for email in EMAILS:
            server.behaviour[email] = "stall"
        report = server.client().issue_bulk(cohort(), product_code=GTX, max_workers=1)  # default: 3
        assert sum(server.received.values()) == 3
    assert [o.status for o in report][:3] == [OutcomeStatus.FAILED] * 3
    assert [o.status for o in report][3:] == [OutcomeStatus.NOT_ATTEMPTED] * 3
    assert [o.allocated for o in report] == ["maybe"] * 3 + ["no"] * 3


def test_a_success_resets_the_count_and_none_never_stops() -> None:
    with itep_server() as server:
        server.behaviour.update(
            {EMAILS[0]: "stall", EMAILS[1]: "stall", EMAILS[3]: "stall", EMAILS[4]: "stall"}
        )
        report = server.client().issue_bulk(cohort(), product_code=GTX, max_workers=1, stop_after=3)
        assert server.received == Counter(EMAILS)  # never three in a row
    assert report.stopped is None
    never = refused_client().issue_bulk(cohort(), product_code=GTX, max_workers=2, stop_after=None)
    assert [o.status for o in never] == [OutcomeStatus.FAILED] * 6
    with pytest.raises(ConfigurationError):
        refused_client().issue_bulk(cohort(), stop_after=0)


# -- dry run ---------------------------------------------------------------------------------------------


def test_dry_run_validates_every_row_and_sends_nothing() -> None:
    source = io.StringIO(
        "candidate_id,First_Name,Last_Name,email,Gender,product_code\n"
        "1,Ann,Lee,ann@example.com,female,\n"
        "2,Bob,Ray,not-an-email,,\n"
        "3,Cy,Oh,cy@example.com,robot,\n"
        "4,Di,Xu,di@example.com,,STX-Academic-Plus\n"
    )
    with itep_server() as server:
        report = server.client().issue_bulk(read_candidates_csv(source), product_code=GTX, dry_run=True)
        assert sum(server.received.values()) == 0
    assert report.dry_run
    assert [o.status for o in report] == [
        OutcomeStatus.VALID,
        OutcomeStatus.FAILED,
        OutcomeStatus.FAILED,
        OutcomeStatus.VALID,
    ]
    assert report.outcomes[0].body is not None
    assert json.loads(report.outcomes[0].body) == {
        "product-code": GTX,
        "email": "ann@example.com",
        "assigned-to": {"student-name": "Ann Lee", "email": "ann@example.com", "customer-candidate-id": "1"},
        # The vendor's registration table lists Gender as Male / Female: sent in its spelling.
        "registration": {"First_Name": "Ann", "Last_Name": "Lee", "Gender": "Female"},
    }
    assert report.outcomes[3].body is not None
    assert json.loads(report.outcomes[3].body)["product-code"] == "STX-Academic-Plus"
    assert report.outcomes[1].error_field == "assigned-to.email"
    assert "Invalid Gender [robot]" in report.outcomes[2].error_message  # the vendor's words
    assert [o.allocated for o in report] == ["no"] * 4
    assert report.summary() == "4 candidates: 2 valid, 2 invalid (dry run: nothing was sent)"


# -- the outcomes file is never replaced by accident -----------------------------------------------------


def test_write_csv_never_replaces_an_existing_file_unless_asked(tmp_path: Path) -> None:
    report = FakeItep(
        api_key=API_KEY, signature_header=HEADER, inventory={"Academic-Plus": ["X1AP0001"]}
    ).client()
    done = report.issue_bulk(cohort(EMAILS[:1]), product_code=GTX)
    target = tmp_path / "outcomes.csv"
    target.write_text("the only record of yesterday's test IDs\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="already exists") as info:
        done.write_csv(target)
    assert info.value.setting == "destination"
    assert target.read_text(encoding="utf-8") == "the only record of yesterday's test IDs\n"
    done.write_csv(target, overwrite=True)
    assert rows_of(target)[0]["test_id"] == "X1AP0001"
    fresh = tmp_path / "fresh.csv"
    done.write_csv(fresh, encoding="utf-8-sig")
    assert fresh.read_bytes().startswith(b"\xef\xbb\xbfemail,")
    with pytest.raises(ConfigurationError):
        done.write_csv(tmp_path / "x.csv", overwrite="yes")  # type: ignore[arg-type]
    assert not (tmp_path / "x.csv").exists()


# -- an unreadable expiry date in a custom column is reported on its row ----------------------------------


def test_unreadable_date_in_a_custom_expiry_column_fails_its_row_and_sends_nothing() -> None:
    columns = CandidateColumns(expires="valid_until")
    source = io.StringIO(
        "candidate_id,name,email,valid_until\n"
        "1,Ann Lee,ann@example.com,31/12/2026\n"
        "2,Bob Ray,bob@example.com,2026-12-31\n"
    )
    candidates = read_candidates_csv(source, columns=columns)
    assert candidates[0].expires == "31/12/2026"
    with itep_server() as server:
        report = server.client().issue_bulk(candidates, product_code=GTX, columns=columns, max_workers=1)
        assert server.received == Counter({"bob@example.com": 1})
        assert server.bodies[0]["assigned-to"]["expire"] == "2026-12-31"
    bad = report.outcomes[0]
    assert bad.status is OutcomeStatus.FAILED
    assert isinstance(bad.error, ValidationError)
    assert bad.error_field == "assigned-to.expire"
    assert "'31/12/2026' is not an ISO date" in bad.error_message
    assert report.outcomes[1].status is OutcomeStatus.ISSUED
