"""Create-attempt forms, review links, and the completion response."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.clock import FixedClock
from examkit.core.errors import (
    ConfigurationError,
    ExamkitError,
    MalformedSignatureError,
    MissingSignatureError,
    PayloadError,
    SignatureMismatchError,
    ValidationError,
)
from examkit.testpress import (
    PUBLIC_KEY,
    AttemptStatus,
    CompletionHmacScheme,
    TestpressAttempts,
    TestpressCompletionVerifier,
)
from examkit.testpress.webhooks import parse_unverified_attempt_result

NOW = 1_700_000_000


def _attempts(**kw: object) -> TestpressAttempts:
    return TestpressAttempts(public_key="pub", secret="sec", clock=FixedClock(NOW), **kw)  # type: ignore[arg-type]


def test_create_attempt_form_fields_and_validity() -> None:
    form = _attempts().create_attempt(
        exam_url="https://x.testpress.in/exams/e/start/",
        email="a b@x.org",
        first_name='Bo "<b>" & Co',
        institute_attempt_id="7",
        surl="https://me.example/done?x=1&y=2",
    )
    assert list(form.fields) == [
        "email",
        "first_name",
        "institute_attempt_id",
        "key",
        "time",
        "hmac",
        "surl",
    ]
    message = "a%20b%40x.org|Bo%20%22%3Cb%3E%22%20%26%20Co|7|pub|1700000000"
    assert form.fields["hmac"] == hmac.new(b"sec", message.encode(), hashlib.sha256).hexdigest()
    assert form.fields["time"] == "1700000000"
    assert form.issued_at == datetime.fromtimestamp(NOW, tz=timezone.utc)
    assert (form.expires_at - form.issued_at).total_seconds() == 1800
    page = form.to_html(nonce="n1")
    assert 'value="Bo &quot;&lt;b&gt;&quot; &amp; Co"' in page
    assert 'value="https://me.example/done?x=1&amp;y=2"' in page
    assert "<b>" not in page
    assert '<script nonce="n1">' in page


def test_pre_encoded_surl() -> None:
    form = _attempts(pre_encode_surl=True).create_attempt(
        exam_url="https://x.example/e",
        email="a@b.c",
        first_name="A",
        institute_attempt_id="1",
        surl="https://me.example/done?x=1",
    )
    assert form.fields["surl"] == "https%3A%2F%2Fme.example%2Fdone%3Fx%3D1"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", ""),
        ("email", "no-at-sign"),
        ("first_name", ""),
        ("institute_attempt_id", ""),
        ("exam_url", "ftp://x"),
        ("surl", ""),
        ("surl", "/relative"),
    ],
)
def test_create_attempt_validation(field: str, value: str) -> None:
    values = {
        "exam_url": "https://x.example/e",
        "email": "a@b.c",
        "first_name": "A",
        "institute_attempt_id": "1",
        "surl": "https://me.example/done",
    }
    values[field] = value
    with pytest.raises(ValidationError) as info:
        _attempts().create_attempt(**values)
    assert info.value.field == field


def test_review_url_default_and_table_query() -> None:
    url = _attempts().review_url(base_url="https://x.example", attempt_id=93, institute_attempt_id="o/1")
    expected = hmac.new(b"sec", b"93|o/1|pub|1700000000", hashlib.sha256).hexdigest()
    assert url == f"https://x.example/exams/attempts/?id=93&hmac={expected}&time=1700000000"
    legacy = _attempts(
        review_path="/attempts/", review_query=("id", "institute_attempt_id", "key", "time", "hmac")
    ).review_url(base_url="https://x.example/", attempt_id="93", institute_attempt_id="o/1")
    parts = urlsplit(legacy)
    assert parts.path == "/attempts/"
    assert dict(parse_qsl(parts.query))["institute_attempt_id"] == "o/1"


@pytest.mark.parametrize(
    "settings", [{"review_path": "x"}, {"review_query": ("id",)}, {"encoding": "rfc3986"}]
)
def test_attempts_bad_settings(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        _attempts(**settings)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PUBLIC_KEY", "pub")
    monkeypatch.delenv("EXAMKIT_TESTPRESS_PRIVATE_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="EXAMKIT_TESTPRESS_PRIVATE_KEY"):
        TestpressAttempts.from_env()
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PRIVATE_KEY", "pa55w0rd-xyz")
    attempts = TestpressAttempts.from_env(clock=FixedClock(NOW))
    assert "pa55w0rd" not in repr(attempts)


# --- completion response ----------

RESPONSE = {
    "email": "a@b.c",
    "first_name": "Ana",
    "attempt_id": "93",
    "institute_attempt_id": "o/1",
    "total_count": "10",
    "correct_count": "7",
    "incorrect_count": "2",
    "unanswered_count": "1",
    "score": "7.50",
    "max_score": "10",
    "rank": "",
    "max_rank": "40",
    "percentage": "75.00",
    "status": "completed",
}
SCHEME = CompletionHmacScheme(fields=(PUBLIC_KEY, "attempt_id", "institute_attempt_id", "score"))


def _signed(data: dict[str, str]) -> dict[str, str]:
    message = f"pub|{data['attempt_id']}|o/1|{data['score']}".encode()
    return {**data, "hmac": hmac.new(b"sec", message, hashlib.sha256).hexdigest()}


def test_completion_verified_with_explicit_scheme() -> None:
    verifier = TestpressCompletionVerifier(scheme=SCHEME, secret="sec", public_key="pub")
    result = verifier.verify(_signed(RESPONSE))
    assert result.verified
    assert result.status is AttemptStatus.COMPLETED
    assert result.score == Decimal("7.50")
    assert result.correct_count == 7
    assert result.rank is None
    assert result.max_rank == 40


def test_completion_from_form_bytes_and_errors() -> None:
    verifier = TestpressCompletionVerifier(scheme=SCHEME, secret="sec", public_key="pub")
    signed = _signed(RESPONSE)
    body = "&".join(f"{k}={v}" for k, v in signed.items()).replace("/", "%2F").encode()
    assert verifier.verify(body).verified
    with pytest.raises(SignatureMismatchError):
        verifier.verify({**signed, "score": "9.50"})
    with pytest.raises(MissingSignatureError):
        verifier.verify(RESPONSE)
    with pytest.raises(MalformedSignatureError):
        verifier.verify({**signed, "hmac": "zz"})
    with pytest.raises(MalformedSignatureError):
        verifier.verify(b"\xff")
    bad_status = _signed({**RESPONSE, "total_count": "ten"})
    with pytest.raises(PayloadError):
        verifier.verify(bad_status)


def test_unverified_needs_the_explicit_function_and_says_so() -> None:
    result = parse_unverified_attempt_result({**RESPONSE, "status": "weird", "verified": "yes"})
    assert result.verified is False
    assert result.status == "weird"
    assert result.extra["verified"] == "yes"
    with pytest.raises(ConfigurationError):
        TestpressCompletionVerifier(scheme=None, secret="sec")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        CompletionHmacScheme(fields=())
    with pytest.raises(ConfigurationError):
        TestpressCompletionVerifier(scheme=SCHEME, secret="sec")


@given(st.binary(max_size=200))
def test_completion_arbitrary_bytes_raise_only_examkit_errors(body: bytes) -> None:
    verifier = TestpressCompletionVerifier(scheme=SCHEME, secret="sec", public_key="pub")
    for call in (verifier.verify, parse_unverified_attempt_result):
        with contextlib.suppress(ExamkitError):
            call(body)


@given(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20))
def test_completion_round_trip_any_unicode(name: str) -> None:
    scheme = CompletionHmacScheme(fields=("first_name", "attempt_id"), algorithm="sha512", encoding=None)
    message = f"{name}|93".encode()
    data = {
        **RESPONSE,
        "first_name": name,
        "hmac": hmac.new(b"sec", message, hashlib.sha512).hexdigest(),
    }
    result = TestpressCompletionVerifier(scheme=scheme, secret="sec").verify(data)
    assert result.first_name == name
