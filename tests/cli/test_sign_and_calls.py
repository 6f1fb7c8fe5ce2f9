"""``examkit sign`` (checked by the real verifiers) and the real-call commands against the fakes."""

from __future__ import annotations

import csv
import http.server
import io
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from examkit.assessio import AssessioWebhookVerifier, AssessmentSubmittedEvent
from examkit.cli import _calls as calls
from examkit.cli import main
from examkit.core.clock import FixedClock, SystemClock
from examkit.core.webhook import WebhookRequest
from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier
from examkit.testing.integrity_advocate import (
    DEMO_API_KEY,
    DEMO_APP_ID,
    FakeIntegrityAdvocate,
    make_participant,
)
from examkit.testing.itep import FAKE_ENDPOINT, FakeItep
from examkit.testpress import TestpressWebhookVerifier

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv, stdin=io.BytesIO(b""))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def parse_signed(out: str) -> tuple[str, str, dict[str, str], bytes, str]:
    head, _, rest = out.partition("\n\n")
    body, _, curl = rest.rstrip("\n").rpartition("\n\n")
    request_line, *header_lines = head.splitlines()
    method, url = request_line.split(" ", 1)
    headers = dict(line.split(": ", 1) for line in header_lines)
    return method, url, headers, body.encode(), curl


def test_sign_testpress_verifies_with_the_real_verifier(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PUBLIC_KEY", "pub-1")
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PRIVATE_KEY", "priv-secret-1")
    code, out, err = run(["sign", "testpress"], capsys)
    assert code == 0, err
    method, url, headers, body, curl = parse_signed(out)
    assert (method, url) == ("POST", "http://127.0.0.1:8000/webhooks/testpress")
    event = TestpressWebhookVerifier(public_key="pub-1", private_key="priv-secret-1").verify(
        WebhookRequest(body=body, headers=headers)
    )
    assert event.attempt_id == 130  # the sample payload's attempt
    assert "priv-secret-1" not in out + err
    words = shlex.split(curl)
    assert words[:6] == ["curl", "--fail-with-body", "-sS", "-X", "POST", url]
    assert words[words.index("--data-binary") + 1].encode() == body


def test_sign_then_verify_round_trip_for_ia(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMKIT_IA_APP_ID", DEMO_APP_ID)
    monkeypatch.setenv("EXAMKIT_IA_API_KEY", DEMO_API_KEY)
    url = "https://hooks.example.com/ia?x=1"
    body_file = tmp_path / "body.json"
    argv = [
        "sign",
        "ia",
        "--url",
        url,
        "--timestamp",
        "1700000000",
        "--nonce",
        "abc",
        "--body-out",
        str(body_file),
    ]
    code, out, _ = run(argv, capsys)
    assert code == 0
    _, _, headers, body, curl = parse_signed(out)
    assert body_file.read_bytes() == body
    assert f"--data-binary @{body_file}" in curl
    verifier = IntegrityAdvocateWebhookVerifier(
        app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, clock=FixedClock(1_700_000_000)
    )
    callback = verifier.verify(WebhookRequest(body=body, headers=headers, url=url))
    assert callback.participant.participant_identifier == "participant-1"
    code, out, _ = run(
        [
            "verify",
            "ia",
            "--body",
            str(body_file),
            "--url",
            url,
            "--now",
            "1700000000",
            "-H",
            f"Authorization: {headers['Authorization']}",
        ],
        capsys,
    )
    assert code == 0, out


def test_sign_keeps_plain_secrets_in_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMKIT_ASSESSIO_API_KEY", "assessio-key-value")
    monkeypatch.setenv("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", "assessio-secret-value")
    code, out, err = run(["sign", "assessio", "--require-signature", "--timestamp", "1700000000"], capsys)
    assert code == 0
    _, _, headers, body, curl = parse_signed(out)
    assert headers["integrator-api-key"] == "$EXAMKIT_ASSESSIO_API_KEY"
    assert '-H "integrator-api-key: $EXAMKIT_ASSESSIO_API_KEY"' in curl
    assert "assessio-key-value" not in out + err
    assert "assessio-secret-value" not in out + err
    assert headers["Signature"].startswith("t=1700000000,signature=")
    assert err == ""  # the variable is exported, so no note
    # With the value substituted as the shell would, the request verifies (signature included).
    monkeypatch.delenv("EXAMKIT_ASSESSIO_API_KEY")
    headers["integrator-api-key"] = "assessio-key-value"
    event = AssessioWebhookVerifier(
        api_key="assessio-key-value",
        signature_secret="assessio-secret-value",
        clock=FixedClock(1_700_000_000),
    ).verify(WebhookRequest(body=body, headers=headers))
    assert isinstance(event, AssessmentSubmittedEvent)
    assert event.order_reference_id == "order-1"


def test_sign_itep_token_notes_the_missing_variable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["sign", "itep", "--auth", "token", "--auth-header", "X-Token"], capsys)
    assert code == 0
    _, _, headers, body, _ = parse_signed(out)
    assert headers["X-Token"] == "$EXAMKIT_ITEP_WEBHOOK_TOKEN"
    assert body.startswith(b"data=%7B%22OID%22")
    assert "export EXAMKIT_ITEP_WEBHOOK_TOKEN" in err


def test_sign_rejects_a_body_that_is_not_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PUBLIC_KEY", "p")
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PRIVATE_KEY", "q")
    bad = tmp_path / "bad"
    bad.write_bytes(b"not json")
    code, _, err = run(["sign", "testpress", "--body", str(bad)], capsys)
    assert code == 2
    assert err == "examkit: error: --body must hold the exam webhook payload as JSON\n"


# -- itep issue -------------------------------------------------------------------------------------


@pytest.fixture
def fake_itep(monkeypatch: pytest.MonkeyPatch) -> FakeItep:
    fake = FakeItep(
        api_key="cli-api-key",
        signature_header="X-Itep-Signature",
        inventory={"Academic-Plus": [f"ID{n:04d}AP" for n in range(1, 20)]},
    )
    monkeypatch.setattr(calls, "session_factory", fake.session)
    monkeypatch.setenv("EXAMKIT_ITEP_API_KEY", "cli-api-key")
    monkeypatch.setenv("EXAMKIT_ITEP_SIGNATURE_HEADER", "X-Itep-Signature")
    return fake


def test_itep_issue_one(fake_itep: FakeItep, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["itep", "issue", "--product-code", "GTX-Academic-Plus", "--endpoint", FAKE_ENDPOINT]
    code, out, err = run(
        [*argv, "--email", "a@example.com", "--name", "Ada", "--candidate-id", "c-1"], capsys
    )
    assert code == 0, err
    assert out == "ID0001AP\n"
    sent = json.loads(fake_itep.requests[0].body)
    assert sent["product-code"] == "GTX-Academic-Plus"
    assert sent["assigned-to"]["customer-candidate-id"] == "c-1"


def test_itep_issue_wrong_key_is_an_api_failure(
    fake_itep: FakeItep, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMKIT_ITEP_API_KEY", "wrong-key")
    code, out, err = run(
        ["itep", "issue", "--product-code", "GTX-Academic-Plus", "--endpoint", FAKE_ENDPOINT], capsys
    )
    assert code == 3
    assert out == ""
    assert err.startswith("examkit: error: AuthenticationError: ")
    assert err.count("\n") == 1
    assert "wrong-key" not in err
    assert fake_itep.issued == []


def test_itep_issue_invalid_input_is_a_usage_error(
    fake_itep: FakeItep, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        ["itep", "issue", "--product-code", "Academic-Plus", "--endpoint", FAKE_ENDPOINT], capsys
    )
    assert code == 2
    assert err.startswith("examkit: error: ")
    assert fake_itep.requests == []


def test_itep_issue_from_csv(fake_itep: FakeItep, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "outcomes.csv"
    argv = ["itep", "issue", "--csv", str(ROOT / "examples" / "itep_candidates.csv"), "--output", str(target)]
    code, out, err = run([*argv, "--product-code", "GTX-Academic-Plus", "--endpoint", FAKE_ENDPOINT], capsys)
    rows = list(csv.DictReader(target.read_text(encoding="utf-8").splitlines()))
    by_email = {row["email"]: row for row in rows}
    # The file: Michael's birthday has month 13 and George's e-mail is not an address; both are
    # refused before any request, so the run "fails a check" (1), not the API (3).
    assert code == 1, out + err
    assert len(rows) == 5
    assert by_email["michael.banks@example.com"]["status"] == "failed"
    assert by_email["not-an-email"]["status"] == "failed"
    issued = [row for row in rows if row["status"] == "issued"]
    assert sorted(row["test_id"] for row in issued) == sorted(i.test_id for i in fake_itep.issued)
    assert "5 candidates: 3 issued, 2 failed" in out
    assert "5/5" in err  # the progress bar


def test_itep_issue_csv_with_an_api_failure_exits_3(
    fake_itep: FakeItep, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_itep.fail_for("jane.banks@example.com", status=503)
    argv = [
        "itep",
        "issue",
        "--csv",
        str(ROOT / "examples" / "itep_candidates.csv"),
        "--output",
        str(tmp_path / "o.csv"),
    ]
    code, out, _ = run(
        [*argv, "--product-code", "GTX-Academic-Plus", "--endpoint", FAKE_ENDPOINT, "--no-progress"], capsys
    )
    assert code == 3
    assert "jane.banks@example.com: failed" in out


def test_itep_issue_without_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["itep", "issue", "--product-code", "GTX-Academic-Plus"], capsys)
    assert code == 2
    assert err.startswith("examkit: error: EXAMKIT_ITEP_API_KEY is not set")


def test_itep_issue_transport_failure(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("EXAMKIT_ITEP_API_KEY", "k")
    monkeypatch.setenv("EXAMKIT_ITEP_SIGNATURE_HEADER", "X-Sig")
    argv = [
        "itep",
        "issue",
        "--product-code",
        "GTX-Academic-Plus",
        "--endpoint",
        f"http://127.0.0.1:{port}/x",
    ]
    code, _, err = run(argv, capsys)
    assert code == 3
    assert err.startswith("examkit: error: TransportError: ")
    assert "Traceback" not in err


# -- ia participants --------------------------------------------------------------------------------


@pytest.fixture
def fake_ia(monkeypatch: pytest.MonkeyPatch) -> FakeIntegrityAdvocate:
    fake = FakeIntegrityAdvocate(clock=SystemClock())
    fake.add_participants(
        make_participant(f"p-{n}", "course-7", first_name=name, status="Valid")
        for n, name in enumerate(["Ana", "Bo", "Cy"])
    )
    fake.add_participant(make_participant("p-x", "other-course"))
    monkeypatch.setattr(calls, "session_factory", fake.session)
    monkeypatch.setenv("EXAMKIT_IA_APP_ID", DEMO_APP_ID)
    monkeypatch.setenv("EXAMKIT_IA_API_KEY", DEMO_API_KEY)
    return fake


@pytest.mark.usefixtures("fake_ia")
def test_ia_participants_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["ia", "participants", "--course", "course-7", "--format", "json", "--page-size", "2"], capsys
    )
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["participant_identifier"], r["first_name"], r["status"]) for r in rows] == [
        ("p-0", "Ana", "Valid"),
        ("p-1", "Bo", "Valid"),
        ("p-2", "Cy", "Valid"),
    ]
    assert err == "3 participants in course course-7\n"


@pytest.mark.usefixtures("fake_ia")
def test_ia_participants_table_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ia", "participants", "--course", "course-7"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == list(calls.PARTICIPANT_COLUMNS)
    assert set(lines[1]) <= {"-", " "}
    assert [line.split()[0] for line in lines[2:]] == ["p-0", "p-1", "p-2"]
    code, out, _ = run(["ia", "participants", "--course", "course-7", "--format", "csv"], capsys)
    rows = list(csv.DictReader(out.splitlines()))
    assert [r["email"] for r in rows] == ["p-0@example.org", "p-1@example.org", "p-2@example.org"]


@pytest.mark.usefixtures("fake_ia")
def test_ia_participants_unknown_course_is_an_api_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["ia", "participants", "--course", "nope"], capsys)
    assert code == 3
    assert out == ""
    assert err.startswith("examkit: error: NotFoundError")
    assert DEMO_API_KEY not in err


def test_ia_participants_bad_app_id(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMKIT_IA_APP_ID", "not-a-guid")
    monkeypatch.setenv("EXAMKIT_IA_API_KEY", DEMO_API_KEY)
    code, _, err = run(["ia", "participants", "--course", "c"], capsys)
    assert code == 2
    assert "EXAMKIT_IA_APP_ID is not a GUID" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["verify", "nosuchvendor"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["ia", "participants"])
    assert info.value.code == 2
    capsys.readouterr()


def test_sign_never_writes_control_characters_to_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMKIT_ASSESSIO_API_KEY", "assessio-key-value")
    body = tmp_path / "body"
    body.write_bytes(b'{"eventType":"\x1b[2J\x1b]0;owned\x07"}')
    code, out, err = run(["sign", "assessio", "--body", str(body)], capsys)
    assert code == 2
    assert "\x1b" not in out + err
    assert "pass --body-out FILE" in err
    sent = tmp_path / "sent"
    code, out, err = run(["sign", "assessio", "--body", str(body), "--body-out", str(sent)], capsys)
    assert code == 0
    assert "\x1b" not in out + err
    assert '{"eventType":"\\x1b[2J\\x1b]0;owned\\x07"}' in out
    assert sent.read_bytes() == body.read_bytes()  # the bytes sent are the bytes given


# -- itep issue --csv: interrupted runs, what was sent, spreadsheet-safe outcomes -------------------


class _SlowItep(http.server.BaseHTTPRequestHandler):
    """A slow iTEP stand-in: allocates a test ID on receipt, answers it after a pause."""

    allocated: ClassVar[list[str]] = []
    lock: ClassVar[threading.Lock] = threading.Lock()
    delay: ClassVar[float] = 0.4

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.lock:
            test_id = f"SLOW{len(self.allocated) + 1:04d}"
            self.allocated.append(test_id)
        time.sleep(self.delay)
        body = json.dumps({"TestID": test_id}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def test_itep_issue_csv_interrupted_twice_writes_every_allocated_id(tmp_path: Path) -> None:
    source = tmp_path / "cohort.csv"
    source.write_text(
        "candidate_id,name,email\n" + "".join(f"c-{n},Cand {n},c{n}@example.com\n" for n in range(40)),
        encoding="utf-8",
    )
    target = tmp_path / "outcomes.csv"
    _SlowItep.allocated = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SlowItep)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXAMKIT_")}
    env.update({"EXAMKIT_ITEP_API_KEY": "cli-api-key", "EXAMKIT_ITEP_SIGNATURE_HEADER": "X-Itep-Signature"})
    argv = [
        sys.executable,
        "-m",
        "examkit",
        "itep",
        "issue",
        "--csv",
        str(source),
        "--output",
        str(target),
        "--product-code",
        "GTX-Academic-Plus",
        "--endpoint",
        f"http://127.0.0.1:{server.server_address[1]}/fulfil",
        "--workers",
        "4",
        "--no-progress",
    ]
    try:
        proc = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while len(_SlowItep.allocated) < 5 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert len(_SlowItep.allocated) >= 5, "the command never reached the server"
        proc.send_signal(signal.SIGINT)
        time.sleep(0.1)  # the calls in flight are still being answered
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        server.shutdown()
        server.server_close()
    assert proc.returncode == 130, err.decode()
    with open(target, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 40
    assert sorted(r["test_id"] for r in rows if r["test_id"]) == sorted(_SlowItep.allocated)
    assert {r["status"] for r in rows if r["test_id"]} == {"issued"}
    assert {r["status"] for r in rows if not r["test_id"]} == {"not_attempted"}
    assert b"Traceback" not in err


def test_itep_issue_csv_with_no_connection_says_nothing_was_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("EXAMKIT_ITEP_API_KEY", "k")
    monkeypatch.setenv("EXAMKIT_ITEP_SIGNATURE_HEADER", "X-Sig")
    source = tmp_path / "c.csv"
    source.write_text("email\na@example.com\n", encoding="utf-8")
    argv = ["itep", "issue", "--csv", str(source), "--output", str(tmp_path / "o.csv"), "--no-progress"]
    code, out, _ = run(
        [*argv, "--product-code", "GTX-Academic-Plus", "--endpoint", f"http://127.0.0.1:{port}/x"], capsys
    )
    assert code == 3
    assert "a@example.com: failed" in out
    assert "nothing was sent" in out
    assert "may have been allocated" not in out


def test_itep_issue_csv_outcomes_are_spreadsheet_safe(
    fake_itep: FakeItep, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "c.csv"
    source.write_text('email,name\na@example.com,"=HYPERLINK(""http://x"",""y"")"\n', encoding="utf-8")
    base = ["itep", "issue", "--csv", str(source), "--product-code", "GTX-Academic-Plus", "--no-progress"]
    safe, raw, excel = tmp_path / "safe.csv", tmp_path / "raw.csv", tmp_path / "excel.csv"
    assert run([*base, "--endpoint", FAKE_ENDPOINT, "--output", str(safe)], capsys)[0] == 0
    assert run([*base, "--endpoint", FAKE_ENDPOINT, "--output", str(raw), "--keep-formulas"], capsys)[0] == 0
    assert run([*base, "--endpoint", FAKE_ENDPOINT, "--output", str(excel), "--excel"], capsys)[0] == 0
    with open(safe, encoding="utf-8", newline="") as handle:
        assert next(csv.DictReader(handle))["name"] == '\'=HYPERLINK("http://x","y")'
    with open(raw, encoding="utf-8", newline="") as handle:
        assert next(csv.DictReader(handle))["name"] == '=HYPERLINK("http://x","y")'
    assert excel.read_bytes().startswith(b"\xef\xbb\xbfemail,name,test_id,")


@pytest.fixture
def hostile_ia(monkeypatch: pytest.MonkeyPatch) -> FakeIntegrityAdvocate:
    fake = FakeIntegrityAdvocate(clock=SystemClock())
    fake.add_participant(
        make_participant("p-1", "course-9", first_name="=1+2", last_name="Ev\x1b[2Jil\u202e", status="Valid")
    )
    fake.add_participant(make_participant("p-2", "course-9", first_name="Zoë\u009b31m", last_name="@x"))
    monkeypatch.setattr(calls, "session_factory", fake.session)
    monkeypatch.setenv("EXAMKIT_IA_APP_ID", DEMO_APP_ID)
    monkeypatch.setenv("EXAMKIT_IA_API_KEY", DEMO_API_KEY)
    return fake


def _raw_controls(text: str) -> list[str]:
    return [c for c in text if not c.isprintable() and c != "\n"]


@pytest.mark.usefixtures("hostile_ia")
def test_ia_participants_never_write_vendor_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("table", "csv", "json"):
        code, out, err = run(["ia", "participants", "--course", "course-9", "--format", fmt], capsys)
        assert code == 0, err
        assert _raw_controls(out) == [], fmt
    code, out, _ = run(["ia", "participants", "--course", "course-9"], capsys)
    assert "Ev\\x1b[2Jil\\u202e" in out
    code, out, _ = run(["ia", "participants", "--course", "course-9", "--format", "json"], capsys)
    rows = json.loads(out)
    assert rows[0]["last_name"] == "Ev\x1b[2Jil\u202e"  # JSON escapes keep the value exact
    assert rows[1]["first_name"] == "Zoë\u009b31m"


@pytest.mark.usefixtures("hostile_ia")
def test_ia_participants_csv_is_spreadsheet_safe(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["ia", "participants", "--course", "course-9", "--format", "csv"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [(r["participant_identifier"], r["first_name"], r["last_name"]) for r in rows] == [
        ("p-1", "'=1+2", "Ev\\x1b[2Jil\\u202e"),
        ("p-2", "Zoë\\x9b31m", "'@x"),
    ]
    code, out, _ = run(
        ["ia", "participants", "--course", "course-9", "--format", "csv", "--keep-formulas", "--excel"],
        capsys,
    )
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"), newline="")))
    assert out.startswith("\ufeffparticipant_identifier,")
    assert [r["first_name"] for r in rows] == ["=1+2", "Zoë\\x9b31m"]


def test_itep_issue_csv_stopped_run_exits_130_with_its_outcomes(
    fake_itep: FakeItep, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from examkit.itep.bulk import BulkIssueInterrupted, BulkReport
    from examkit.itep.client import ItepClient

    real = ItepClient.issue_bulk

    def stopped(self: ItepClient, *args: Any, **kwargs: Any) -> BulkReport:
        # A run that ends in BulkIssueInterrupted with every candidate done (e.g. SystemExit in a worker).
        raise BulkIssueInterrupted(real(self, *args, **kwargs))

    monkeypatch.setattr(ItepClient, "issue_bulk", stopped)
    target = tmp_path / "o.csv"
    argv = ["itep", "issue", "--csv", str(ROOT / "examples" / "itep_candidates.csv"), "--output", str(target)]
    code, _, err = run([*argv, "--product-code", "GTX-Academic-Plus", "--endpoint", FAKE_ENDPOINT], capsys)
    assert code == 130
    assert "examkit: interrupted: 5 candidates: 3 issued, 2 failed" in err
    with open(target, encoding="utf-8", newline="") as handle:
        ids = [r["test_id"] for r in csv.DictReader(handle) if r["test_id"]]
    assert sorted(ids) == sorted(i.test_id for i in fake_itep.issued)
