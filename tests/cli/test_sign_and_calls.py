"""``examkit sign`` (checked by the real verifiers) and the real-call commands against the fakes."""

from __future__ import annotations

import csv
import io
import json
import shlex
from pathlib import Path

import pytest

from examkit.assessio import AssessioWebhookVerifier, AssessmentSubmittedEvent
from examkit.cli import calls, main
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
