"""``examkit verify``: the verdict, which check failed, the signed strings and the hints.

Every valid request here is signed by hand with :mod:`hmac` from the vendor's documented recipe, never
with examkit's own signers, so a wrong signed string in examkit makes these tests fail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from pathlib import Path

import pytest

from examkit.cli import main
from examkit.cli._common import CliError, SecretSource

ITEP_SECRET = "itep-webhook-secret-0123"
IA_APP_ID = "00000000-1111-2222-3333-444444444444"
IA_KEY_BYTES = bytes(range(32))
IA_API_KEY = base64.b64encode(IA_KEY_BYTES).decode()
ASSESSIO_API_KEY = "assessio-integrator-api-key"
ASSESSIO_SECRET = "assessio-integrator-secret"
ASSESSIO_PROVIDER = "assessio-provider-key"
TESTPRESS_PUBLIC = "pub key"
TESTPRESS_PRIVATE = "testpress-private-key"
NOW = 1_700_000_000

# The vendor's results sample, form-encoded as iTEP posts it (data=<percent-encoded JSON>).
ITEP_BODY = (
    b"data=%7B%22TestID%22%3A%223279B035APR%22%2C%22Overall_cefr%22%3A%22C1%22%2C"
    b"%22Status%22%3A%22Complete%22%7D"
)


def run(
    argv: list[str], capsys: pytest.CaptureFixture[str], stdin: bytes | None = None
) -> tuple[int, str, str]:
    code = main(argv, stdin=io.BytesIO(stdin) if stdin is not None else io.BytesIO(b""))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path: Path, body: bytes, name: str = "body") -> str:
    path = tmp_path / name
    path.write_bytes(body)
    return str(path)


def no_secret_in(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


# -- iTEP -------------------------------------------------------------------------------------------


@pytest.fixture
def itep_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMKIT_ITEP_WEBHOOK_SECRET", ITEP_SECRET)
    monkeypatch.setenv("EXAMKIT_ITEP_SIGNATURE_HEADER", "X-Itep-Signature")


def itep_signature(body: bytes, secret: str = ITEP_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.usefixtures("itep_env")
def test_itep_hmac_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = write(tmp_path, ITEP_BODY)
    code, out, err = run(
        ["verify", "itep", "--body", body, "-H", f"X-Itep-Signature: {itep_signature(ITEP_BODY)}"], capsys
    )
    assert code == 0, out + err
    assert "result: OK: results for test ID 3279B035APR (status Complete)" in out
    assert "[MATCH] the body exactly as captured, EXAMKIT_ITEP_WEBHOOK_SECRET as UTF-8 text" in out
    assert "authentication: hmac" in out  # guessed from EXAMKIT_ITEP_WEBHOOK_SECRET
    no_secret_in(out + err, ITEP_SECRET)


@pytest.mark.usefixtures("itep_env")
def test_itep_trailing_newline_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The capture gained a newline that the sender did not sign.
    body = write(tmp_path, ITEP_BODY + b"\n")
    code, out, _ = run(
        ["verify", "itep", "--body", body, "-H", f"X-Itep-Signature: {itep_signature(ITEP_BODY)}"], capsys
    )
    assert code == 1
    assert "FAILED (SignatureMismatchError)" in out
    assert "[MATCH] the body without its trailing newline" in out
    assert "trailing newline: the capture" in out


@pytest.mark.usefixtures("itep_env")
def test_itep_tampered_body_and_shapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = write(tmp_path, ITEP_BODY.replace(b"C1", b"C2"))
    signature = itep_signature(ITEP_BODY).upper()
    code, out, _ = run(["verify", "itep", "--body", body, "-H", f"X-Itep-Signature: {signature}"], capsys)
    assert code == 1
    assert "signature format: upper-case hex, 32 bytes" in out
    assert "[MATCH]" not in out
    code, out, _ = run(["verify", "itep", "--body", body, "-H", "X-Itep-Signature: nonsense"], capsys)
    assert code == 1
    assert "[FAIL] signature format: neither 64 hex digits" in out
    assert "MalformedSignatureError" in out


@pytest.mark.usefixtures("itep_env")
def test_itep_missing_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["verify", "itep", "--body", write(tmp_path, ITEP_BODY)], capsys)
    assert code == 1
    assert "[FAIL] X-Itep-Signature header missing" in out
    assert "MissingSignatureError" in out


def test_itep_token_with_an_unexpected_bearer_word(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMKIT_ITEP_WEBHOOK_TOKEN", "tok-123456")
    argv = [
        "verify",
        "itep",
        "--auth",
        "token",
        "--auth-header",
        "X-Token",
        "--body",
        write(tmp_path, ITEP_BODY),
    ]
    code, out, err = run([*argv, "-H", "X-Token: Bearer tok-123456"], capsys)
    assert code == 1
    assert "set the prefix to 'Bearer '" in out
    no_secret_in(out + err, "tok-123456")
    code, out, _ = run([*argv, "--prefix", "Bearer ", "-H", "X-Token: Bearer tok-123456"], capsys)
    assert code == 0, out


def test_itep_basic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMKIT_ITEP_WEBHOOK_USERNAME", "itep")
    monkeypatch.setenv("EXAMKIT_ITEP_WEBHOOK_PASSWORD", "pa55word")
    wrong = base64.b64encode(b"itep:other").decode()
    argv = ["verify", "itep", "--auth", "basic", "--body", write(tmp_path, ITEP_BODY)]
    code, out, err = run([*argv, "-H", f"Authorization: Basic {wrong}"], capsys)
    assert code == 1
    assert "[ok]   user name sent: 'itep'" in out
    assert "[FAIL] password does not match" in out
    no_secret_in(out + err, "pa55word")
    right = base64.b64encode(b"itep:pa55word").decode()
    assert run([*argv, "-H", f"Authorization: Basic {right}"], capsys)[0] == 0


def test_itep_fulfillment_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMKIT_ITEP_API_KEY", "api-key-xyz")
    monkeypatch.setenv("EXAMKIT_ITEP_SIGNATURE_HEADER", "X-Sig")
    body = b'{"product-code":"GTX-Academic-Plus"}'
    signature = hmac.new(b"api-key-xyz", body, hashlib.sha256).hexdigest()
    argv = ["verify", "itep", "--auth", "fulfillment", "--body", write(tmp_path, body)]
    assert run([*argv, "-H", f"X-Sig: {signature}"], capsys)[0] == 0
    assert run([*argv, "-H", f"X-Sig: {signature[:-1]}0"], capsys)[0] in (1,)


def test_itep_without_any_auth_setting_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["verify", "itep"], capsys)
    assert code == 2
    assert err.startswith("examkit: error: iTEP webhooks are authenticated")
    assert err.count("\n") == 1
    assert "Traceback" not in err


# -- Integrity Advocate ----------------------------------------------------------------------------


@pytest.fixture
def ia_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMKIT_IA_APP_ID", IA_APP_ID)
    monkeypatch.setenv("EXAMKIT_IA_API_KEY", IA_API_KEY)


def amx(canonical: str, *, timestamp: int = NOW, nonce: str = "n-1", key: bytes = IA_KEY_BYTES) -> str:
    message = f"{IA_APP_ID}POST{canonical}{timestamp}{nonce}".encode()
    signature = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    return f"amx {IA_APP_ID}:{signature}:{nonce}:{timestamp}"


# The documented canonical form of https://hooks.example.com/ia/callback: PHP urlencode, lower-cased.
IA_CANONICAL = "https%3a%2f%2fhooks.example.com%2fia%2fcallback"
IA_BODY = b'{"ParticipantIdentifier":"p-1","Course_Id":"c-1","Status":"Valid"}'


@pytest.mark.usefixtures("ia_env")
def test_ia_valid_with_the_alias(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "verify",
        "ia",
        "--body",
        write(tmp_path, IA_BODY),
        "--url",
        "https://hooks.example.com/ia/callback",
    ]
    code, out, err = run([*argv, "-H", f"Authorization: {amx(IA_CANONICAL)}", "--now", str(NOW + 5)], capsys)
    assert code == 0, out
    assert "result: OK: review callback for participant p-1 (status Valid)" in out
    assert f"  {IA_APP_ID}POST{IA_CANONICAL}{NOW}n-1\n" in out  # the exact signed string
    assert "timestamp 1700000000: 5 s old (tolerance 300 s)" in out
    no_secret_in(out + err, IA_API_KEY)


@pytest.mark.usefixtures("ia_env")
def test_ia_proxy_changing_the_scheme_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The vendor called https://..., a TLS-terminating proxy handed http://... to the app.
    argv = ["verify", "integrity-advocate", "--body", write(tmp_path, IA_BODY)]
    argv += ["--url", "http://hooks.example.com/ia/callback", "--now", str(NOW)]
    code, out, _ = run([*argv, "-H", f"Authorization: {amx(IA_CANONICAL)}"], capsys)
    assert code == 1
    assert "FAILED (SignatureMismatchError)" in out
    assert "the vendor signed the https:// URL: a proxy" in out
    assert (
        "[no match] encode_then_lower, php_urlencode, without query (tried by default): http%3a%2f%2f" in out
    )


@pytest.mark.usefixtures("ia_env")
def test_ia_stale_and_future(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "verify",
        "ia",
        "--body",
        write(tmp_path, IA_BODY),
        "--url",
        "https://hooks.example.com/ia/callback",
    ]
    argv += ["-H", f"Authorization: {amx(IA_CANONICAL)}"]
    code, out, _ = run([*argv, "--now", str(NOW + 301)], capsys)
    assert code == 1
    assert "TimestampOutsideToleranceError" in out
    assert "[FAIL] timestamp 1700000000: 301 s old (tolerance 300 s)" in out
    code, out, _ = run([*argv, "--now", str(NOW - 400)], capsys)
    assert code == 1
    assert "400 s in the future" in out
    assert run([*argv, "--now", str(NOW + 301), "--tolerance", "600"], capsys)[0] == 0


@pytest.mark.usefixtures("ia_env")
def test_ia_key_text_used_instead_of_decoded_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = amx(IA_CANONICAL, key=IA_API_KEY.encode())
    argv = [
        "verify",
        "ia",
        "--body",
        write(tmp_path, IA_BODY),
        "--url",
        "https://hooks.example.com/ia/callback",
    ]
    code, out, _ = run([*argv, "-H", f"Authorization: {header}", "--now", str(NOW)], capsys)
    assert code == 1
    assert "the sender used the API key's text as the HMAC key" in out


@pytest.mark.usefixtures("ia_env")
def test_ia_query_signed_in_a_non_default_form(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://hooks.example.com/ia/callback?Id=7"
    # lower-case the URL without its query, then encode (escapes stay upper-case): not a default form
    header = amx("https%3A%2F%2Fhooks.example.com%2Fia%2Fcallback")
    argv = ["verify", "ia", "--body", write(tmp_path, IA_BODY), "--url", url, "--now", str(NOW)]
    code, out, _ = run([*argv, "-H", f"Authorization: {header}"], capsys)
    assert code == 1
    assert "[MATCH] lower_then_encode, php_urlencode, without query:" in out
    assert "a form examkit does not try by default" in out


@pytest.mark.usefixtures("ia_env")
def test_ia_lower_then_encode_with_query_is_tried_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The public receiver's form (issue 18): the full URL lower-cased, then encodeURIComponent-encoded.
    url = "https://hooks.example.com/ia/callback?Id=7"
    header = amx("https%3A%2F%2Fhooks.example.com%2Fia%2Fcallback%3Fid%3D7")
    argv = ["verify", "ia", "--body", write(tmp_path, IA_BODY), "--url", url, "--now", str(NOW)]
    code, out, err = run([*argv, "-H", f"Authorization: {header}"], capsys)
    assert code == 0, out
    assert "result: OK: review callback for participant p-1 (status Valid)" in out
    assert "[MATCH] lower_then_encode, php_urlencode, with query:" in out
    assert "does not try by default" not in out
    no_secret_in(out + err, IA_API_KEY)


def test_ia_malformed_api_key_cannot_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMKIT_IA_APP_ID", IA_APP_ID)
    monkeypatch.setenv("EXAMKIT_IA_API_KEY", "too-short-key")
    argv = [
        "verify",
        "ia",
        "--body",
        write(tmp_path, IA_BODY),
        "--url",
        "https://hooks.example.com/ia/callback",
    ]
    code, out, err = run([*argv, "-H", f"Authorization: {amx(IA_CANONICAL)}", "--now", str(NOW)], capsys)
    assert code == 2
    assert "result: CANNOT VERIFY (ConfigurationError)" in out
    assert "EXAMKIT_IA_API_KEY has 13 characters" in out
    no_secret_in(out + err, "too-short-key")


@pytest.mark.usefixtures("ia_env")
def test_ia_needs_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["verify", "ia", "-H", f"Authorization: {amx(IA_CANONICAL)}"], capsys)
    assert code == 2
    assert "--url is required" in err


# -- Assessio ---------------------------------------------------------------------------------------

ASSESSIO_BODY = (
    b'{"eventType":"ASSESSMENT_SUBMITTED","payload":{"orderReferenceId":"ord-9","assessmentType":"MAP"}}'
)


@pytest.fixture
def assessio_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMKIT_ASSESSIO_API_KEY", ASSESSIO_API_KEY)
    monkeypatch.setenv("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", ASSESSIO_SECRET)
    monkeypatch.setenv("EXAMKIT_ASSESSIO_PROVIDER_KEY", ASSESSIO_PROVIDER)


def assessio_signature(body: bytes, timestamp: int = NOW, secret: str = ASSESSIO_SECRET) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},signature={digest}"


@pytest.mark.usefixtures("assessio_env")
def test_assessio_valid_signed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["verify", "assessio", "--body", write(tmp_path, ASSESSIO_BODY), "--now", str(NOW + 1)]
    argv += [
        "-H",
        f"integrator-api-key: {ASSESSIO_API_KEY}",
        "-H",
        f"Signature: {assessio_signature(ASSESSIO_BODY)}",
    ]
    code, out, err = run(argv, capsys)
    assert code == 0, out
    assert "result: OK: ASSESSMENT_SUBMITTED event for order ord-9" in out
    assert '  1700000000.{"eventType"' in out  # the signed string <t>.<body>
    no_secret_in(out + err, ASSESSIO_API_KEY, ASSESSIO_SECRET, ASSESSIO_PROVIDER)


@pytest.mark.usefixtures("assessio_env")
def test_assessio_signed_with_the_provider_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    signature = assessio_signature(ASSESSIO_BODY, secret=ASSESSIO_PROVIDER)
    argv = ["verify", "assessio", "--body", write(tmp_path, ASSESSIO_BODY), "--now", str(NOW)]
    argv += ["-H", f"integrator-api-key: {ASSESSIO_API_KEY}", "-H", f"Signature: {signature}"]
    code, out, _ = run(argv, capsys)
    assert code == 1
    assert "[MATCH] the body exactly as captured, EXAMKIT_ASSESSIO_PROVIDER_KEY" in out
    assert "signed with the provider key, not the integrator-secret" in out


@pytest.mark.usefixtures("assessio_env")
def test_assessio_wrong_key_stale_and_unsigned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = write(tmp_path, ASSESSIO_BODY)
    code, out, _ = run(["verify", "assessio", "--body", body, "-H", "integrator-api-key: guess"], capsys)
    assert code == 1
    assert "[FAIL] token does not match" in out
    stale = ["-H", f"Signature: {assessio_signature(ASSESSIO_BODY)}", "--now", str(NOW + 1000)]
    code, out, _ = run(
        ["verify", "assessio", "--body", body, "-H", f"integrator-api-key: {ASSESSIO_API_KEY}", *stale],
        capsys,
    )
    assert code == 1
    assert "TimestampOutsideToleranceError" in out
    code, out, _ = run(["verify", "assessio", "--body", body], capsys)
    assert code == 1
    assert "MissingSignatureError" in out


# -- Testpress --------------------------------------------------------------------------------------


def signed_testpress_body(*, encode: str = "quote") -> bytes:
    payload = {
        "attempt_id": 130,
        "correct_answers_count": 7,
        "incorrect_answers_count": 2,
        "unanswered_answers_count": 1,
        "percentage": "70.00",
        "score": "7.00",
        "user_id": 2,
        "key": TESTPRESS_PUBLIC,
        "attempt_state": "completed",
        "email": "s@example.com",
    }
    # The documented order, with the private key in fourth place; the public key "pub key" is the
    # only value an encoding changes: Python quote writes pub%20key, PHP urlencode pub+key.
    key_text = "pub%20key" if encode == "quote" else "pub+key"
    hashed = f"{key_text}|130|7|{TESTPRESS_PRIVATE}|2|1|70.00|7.00|2"
    payload["hash"] = hmac.new(TESTPRESS_PRIVATE.encode(), hashed.encode(), hashlib.sha512).hexdigest()
    return json.dumps(payload).encode()


@pytest.fixture
def testpress_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PUBLIC_KEY", TESTPRESS_PUBLIC)
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PRIVATE_KEY", TESTPRESS_PRIVATE)


@pytest.mark.usefixtures("testpress_env")
def test_testpress_valid_from_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["verify", "testpress", "--body", "-"], capsys, stdin=signed_testpress_body())
    assert code == 0, out
    assert "result: OK: exam webhook for attempt 130 (score 7.00)" in out
    assert "  pub%20key|130|7|<private_key>|2|1|70.00|7.00|2\n" in out
    no_secret_in(out + err, TESTPRESS_PRIVATE)


@pytest.mark.usefixtures("testpress_env")
def test_testpress_other_encoding_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["verify", "testpress", "--body", write(tmp_path, signed_testpress_body(encode="php"))], capsys
    )
    assert code == 1
    assert "[MATCH] php_urlencode, the private key as UTF-8 text" in out
    assert "set encoding=PercentEncoding.PHP_URLENCODE on TestpressWebhookVerifier" in out


@pytest.mark.usefixtures("testpress_env")
def test_testpress_tampered_and_unsigned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tampered = signed_testpress_body().replace(b'"score": "7.00"', b'"score": "9.00"')
    code, out, _ = run(["verify", "testpress", "--body", write(tmp_path, tampered)], capsys)
    assert code == 1
    assert "SignatureMismatchError" in out
    unsigned = json.dumps({"key": TESTPRESS_PUBLIC, "attempt_id": 1}).encode()
    code, out, _ = run(["verify", "testpress", "--body", write(tmp_path, unsigned, "u")], capsys)
    assert code == 1
    assert "[FAIL] the payload has a hash" in out


# -- secrets ----------------------------------------------------------------------------------------


def test_missing_secret_is_one_line_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["verify", "testpress", "--body", write(tmp_path, signed_testpress_body())], capsys)
    assert code == 2
    assert err == (
        "examkit: error: EXAMKIT_TESTPRESS_PUBLIC_KEY is not set: export it (the Testpress public institute "
        "key); examkit asks for it only when run in a terminal\n"
    )


def test_insecure_secret_option_works_and_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["verify", "testpress", "--body", write(tmp_path, signed_testpress_body())]
    argv += ["--insecure-secret", f"EXAMKIT_TESTPRESS_PUBLIC_KEY={TESTPRESS_PUBLIC}"]
    argv += ["--insecure-secret", f"EXAMKIT_TESTPRESS_PRIVATE_KEY={TESTPRESS_PRIVATE}"]
    code, out, err = run(argv, capsys)
    assert code == 0
    assert "shell history" in err
    no_secret_in(out + err, TESTPRESS_PRIVATE)
    code, _, err = run(["verify", "testpress", "--insecure-secret", "PATH=/bin"], capsys)
    assert code == 2


def test_secret_source_prompts_only_when_interactive() -> None:
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "typed-secret"

    interactive = SecretSource(environ={}, interactive=True, prompt=prompt)
    assert interactive.require("EXAMKIT_IA_API_KEY", "the key") == "typed-secret"
    assert asked == ["the key (EXAMKIT_IA_API_KEY): "]
    assert interactive.require("EXAMKIT_IA_API_KEY", "the key") == "typed-secret"  # asked once
    assert len(asked) == 1
    with pytest.raises(CliError) as info:
        SecretSource(environ={}, interactive=False, prompt=prompt).require("EXAMKIT_IA_API_KEY", "the key")
    assert info.value.code == 2
    assert (
        SecretSource(environ={"EXAMKIT_IA_API_KEY": "env"}, interactive=True, prompt=prompt).require(
            "EXAMKIT_IA_API_KEY", "the key"
        )
        == "env"
    )


def test_a_terminal_gets_a_prompt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.BytesIO):
        def isatty(self) -> bool:
            return True

    answers = {
        "EXAMKIT_TESTPRESS_PUBLIC_KEY": TESTPRESS_PUBLIC,
        "EXAMKIT_TESTPRESS_PRIVATE_KEY": TESTPRESS_PRIVATE,
    }
    monkeypatch.setattr("getpass.getpass", lambda text: next(v for k, v in answers.items() if k in text))
    code = main(["verify", "testpress", "--body", write(tmp_path, signed_testpress_body())], stdin=Terminal())
    out = capsys.readouterr().out
    assert code == 0, out
    no_secret_in(out, TESTPRESS_PRIVATE)


def test_bad_header_line_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["verify", "testpress", "-H", "no colon here"], capsys)
    assert code == 2
    assert "'Name: value'" in err


# -- hints only for failing requests, and only hints that fix them -----------------------------------


def valid_request(vendor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Set the vendor's variables and return the argv of a request that verifies as of NOW."""
    if vendor == "itep":
        monkeypatch.setenv("EXAMKIT_ITEP_WEBHOOK_SECRET", ITEP_SECRET)
        monkeypatch.setenv("EXAMKIT_ITEP_SIGNATURE_HEADER", "X-Itep-Signature")
        return ["--body", write(tmp_path, ITEP_BODY), "-H", f"X-Itep-Signature: {itep_signature(ITEP_BODY)}"]
    if vendor == "ia":
        monkeypatch.setenv("EXAMKIT_IA_APP_ID", IA_APP_ID)
        monkeypatch.setenv("EXAMKIT_IA_API_KEY", IA_API_KEY)
        url = "https://hooks.example.com/ia/callback"
        return ["--body", write(tmp_path, IA_BODY), "--url", url, "-H", f"Authorization: {amx(IA_CANONICAL)}"]
    if vendor == "assessio":
        monkeypatch.setenv("EXAMKIT_ASSESSIO_API_KEY", ASSESSIO_API_KEY)
        monkeypatch.setenv("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", ASSESSIO_SECRET)
        signature = assessio_signature(ASSESSIO_BODY)
        return [
            "--body",
            write(tmp_path, ASSESSIO_BODY),
            "-H",
            f"integrator-api-key: {ASSESSIO_API_KEY}",
            "-H",
            f"Signature: {signature}",
        ]
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PUBLIC_KEY", TESTPRESS_PUBLIC)
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PRIVATE_KEY", TESTPRESS_PRIVATE)
    return ["--body", write(tmp_path, signed_testpress_body())]


@pytest.mark.parametrize("vendor", ["itep", "ia", "assessio", "testpress"])
def test_a_valid_request_gets_no_hint(
    vendor: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(
        ["verify", vendor, *valid_request(vendor, tmp_path, monkeypatch), "--now", str(NOW)], capsys
    )
    assert code == 0, out
    assert "hints:" not in out
    assert "set encoding=" not in out


@pytest.mark.usefixtures("testpress_env")
def test_testpress_hash_right_but_key_wrong_names_no_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hash matches with the default encoding; the request fails for another reason (the payload's
    # key is not ours), which no encoding setting would fix.
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PUBLIC_KEY", "another key")
    code, out, _ = run(["verify", "testpress", "--body", write(tmp_path, signed_testpress_body())], capsys)
    assert code == 1
    assert "[MATCH] python_quote, the private key as UTF-8 text" in out
    assert "set encoding=" not in out


@pytest.mark.usefixtures("ia_env")
def test_ia_stale_but_correctly_signed_names_no_url_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://hooks.example.com/ia/callback"
    argv = ["verify", "ia", "--body", write(tmp_path, IA_BODY), "--url", url, "--now", str(NOW + 900)]
    code, out, _ = run([*argv, "-H", f"Authorization: {amx(IA_CANONICAL)}"], capsys)
    assert code == 1
    assert "TimestampOutsideToleranceError" in out
    assert "url_forms" not in out
    assert "the timestamp is outside the tolerance" in out  # the one hint that fixes it


@pytest.mark.usefixtures("itep_env")
def test_both_fixes_are_named_when_both_are_needed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Signed without the capture's trailing newline, with the secret's whitespace removed.
    monkeypatch_secret = f" {ITEP_SECRET} "
    argv = ["verify", "itep", "--body", write(tmp_path, ITEP_BODY + b"\n")]
    argv += ["-H", f"X-Itep-Signature: {itep_signature(ITEP_BODY)}"]
    code, out, _ = run(
        [*argv, "--insecure-secret", f"EXAMKIT_ITEP_WEBHOOK_SECRET={monkeypatch_secret}"], capsys
    )
    assert code == 1
    hint = next(line for line in out.splitlines() if "trailing newline: the capture" in line)
    assert "surrounding whitespace" in hint


# -- vendor text is shown, never obeyed by the terminal ---------------------------------------------


@pytest.mark.usefixtures("itep_env")
def test_control_characters_from_the_request_are_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = b"data=\x1b[2J\x1b]0;owned\x07\xe2\x80\xae"  # clear screen, set title, right-to-left override
    argv = ["verify", "itep", "--body", write(tmp_path, body), "--url", "https://x.example/\x1b[31mred"]
    code, out, err = run([*argv, "-H", "X-Itep-Signature: 00"], capsys)
    assert code == 1
    assert "\x1b" not in out + err
    assert "\x07" not in out + err
    assert "\u202e" not in out + err
    assert "data=\\x1b[2J\\x1b]0;owned\\x07\\u202e" in out
    assert "https://x.example/\\x1b[31mred" in out


def test_the_sha256_prefix_hint_fixes_a_fulfillment_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXAMKIT_ITEP_API_KEY", "api-key-xyz")
    monkeypatch.setenv("EXAMKIT_ITEP_SIGNATURE_HEADER", "X-Sig")
    body = b'{"product-code":"GTX-Academic-Plus"}'
    signature = "sha256=" + hmac.new(b"api-key-xyz", body, hashlib.sha256).hexdigest()
    argv = [
        "verify",
        "itep",
        "--auth",
        "fulfillment",
        "--body",
        write(tmp_path, body),
        "-H",
        f"X-Sig: {signature}",
    ]
    code, out, _ = run(argv, capsys)
    assert code == 1
    assert "set the prefix to 'sha256='" in out
    code, out, _ = run([*argv, "--prefix", "sha256="], capsys)  # the hint, taken
    assert code == 0, out


def test_the_insecure_secret_error_names_every_name_it_takes(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["verify", "ia", "--insecure-secret", "NOPE=1"], capsys)
    assert code == 2
    assert "EXAMKIT_IA_APP_ID" in err  # a setting it accepts, so the message must list it


def test_interrupting_the_demo_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import examkit.demo

    def interrupted(*_: object, **__: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(examkit.demo, "run", interrupted)
    try:
        code = main(["demo"])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C in the demo escaped main() as a traceback")
    assert code == 130
    assert capsys.readouterr().err == "examkit: interrupted\n"


@pytest.mark.usefixtures("assessio_env")
@pytest.mark.parametrize("scheme", ["Bearer ", ""])
def test_the_assessio_header_hint_verifies_when_taken(
    scheme: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET")
    argv = ["verify", "assessio", "--body", write(tmp_path, ASSESSIO_BODY), "--now", str(NOW)]
    argv += ["-H", f"Authorization: {scheme}{ASSESSIO_API_KEY}"]
    code, out, _ = run(argv, capsys)
    assert code == 1
    hint = next(line for line in out.splitlines() if "try --api-key-header" in line)
    suggested = hint.split("try ", 1)[1].split()
    code, out, _ = run([*argv, *suggested], capsys)  # the hint, taken as printed
    assert code == 0, out
