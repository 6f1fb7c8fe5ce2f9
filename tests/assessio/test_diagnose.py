"""explain(): a secret-free account of why an Assessio webhook verifies or fails."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.assessio import explain
from examkit.core.clock import FixedClock
from examkit.core.diagnosis import Diagnosis, Outcome
from examkit.core.errors import ValidationError
from examkit.core.webhook import WebhookRequest

NOW = 1_700_000_000
API_KEY = "assessio-api-key-0123"
SECRET = "assessio-integrator-secret-0123"
PROVIDER = "assessio-provider-key-0123"
BODY = b'{"eventType":"ASSESSMENT_SUBMITTED","payload":{"orderReferenceId":"ord-9","assessmentType":"MAP"}}'


def digest(body: bytes, t: int = NOW, secret: str = SECRET) -> str:
    """The vendor's recipe, written out here: hex HMAC-SHA256 of '<t>.<body>'."""
    return hmac.new(secret.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()


def request(
    body: bytes = BODY, *, key: str = API_KEY, signature: str | None = None, **kw: object
) -> WebhookRequest:
    headers = {"integrator-api-key": key}
    if signature is not None:
        headers["Signature"] = signature
    return WebhookRequest(body=body, headers=headers, **kw)  # type: ignore[arg-type]


def everything(diagnosis: Diagnosis) -> str:
    return diagnosis.render() + json.dumps(diagnosis.to_dict())


def test_a_valid_signed_request_is_ok_and_shows_the_signed_string() -> None:
    sig = digest(BODY)
    diagnosis = explain(
        request(signature=f"t={NOW},signature={sig}"),
        api_key=API_KEY,
        signature_secret=SECRET,
        clock=FixedClock(NOW + 1),
    )
    assert diagnosis.outcome is Outcome.OK
    assert diagnosis.verdict == "OK: ASSESSMENT_SUBMITTED event for order ord-9"
    assert diagnosis.event.order_reference_id == "ord-9"
    assert not diagnosis.hints
    assert ("signed string (<t>.<raw body>; no secret in it)", (f"{NOW}.{BODY.decode()}",)) in [
        (s.title, s.lines) for s in diagnosis.sections
    ]
    text = everything(diagnosis)
    for secret in (API_KEY, SECRET, sig):
        assert secret not in text


def test_a_wrong_key_fails_without_showing_either_key() -> None:
    diagnosis = explain(request(key="guess-the-key"), api_key=API_KEY, clock=FixedClock(NOW))
    assert diagnosis.outcome is Outcome.FAILED
    assert "SignatureMismatchError" in diagnosis.verdict
    assert (False, "token does not match") in [(c.passed, c.text) for c in diagnosis.checks]
    text = everything(diagnosis)
    assert API_KEY not in text
    assert "guess-the-key" not in text


def test_signed_with_the_provider_key_is_named_and_no_digest_shown() -> None:
    wrong = digest(BODY, secret=PROVIDER)
    right = digest(BODY)
    diagnosis = explain(
        request(signature=f"t={NOW},signature={wrong}"),
        api_key=API_KEY,
        signature_secret=SECRET,
        provider_key=PROVIDER,
        clock=FixedClock(NOW),
        labels={"provider_key": "the provider key"},
    )
    assert diagnosis.outcome is Outcome.FAILED
    assert "[MATCH] the body exactly as captured, the provider key" in diagnosis.render()
    assert any("signed with the provider key, not the integrator-secret" in h for h in diagnosis.hints)
    text = everything(diagnosis)
    for secret in (API_KEY, SECRET, PROVIDER, right):
        assert secret not in text


def test_a_trailing_newline_is_named() -> None:
    sig = digest(BODY)
    diagnosis = explain(
        request(BODY + b"\n", signature=f"t={NOW},signature={sig}"),
        api_key=API_KEY,
        signature_secret=SECRET,
        clock=FixedClock(NOW),
    )
    assert diagnosis.outcome is Outcome.FAILED
    assert (
        "[MATCH] the body without its trailing newline, signature_secret as UTF-8 text" in diagnosis.render()
    )


def test_freshness_is_judged_at_received_at() -> None:
    sig = f"t={NOW},signature={digest(BODY)}"
    later = FixedClock(NOW + 86_400)
    queued = explain(
        request(signature=sig, received_at=NOW + 5), api_key=API_KEY, signature_secret=SECRET, clock=later
    )
    assert queued.outcome is Outcome.OK, queued.render()
    assert any(c.text.startswith(f"timestamp {NOW}: 5 s old") for c in queued.checks)
    stale = explain(request(signature=sig), api_key=API_KEY, signature_secret=SECRET, clock=later)
    assert stale.outcome is Outcome.FAILED
    assert "TimestampOutsideToleranceError" in stale.verdict


def test_unusable_settings_cannot_verify() -> None:
    diagnosis = explain(request(), api_key="", clock=FixedClock(NOW))
    assert diagnosis.outcome is Outcome.CANNOT_VERIFY


def test_a_request_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValidationError):
        explain(BODY, api_key=API_KEY)  # type: ignore[arg-type]


@given(
    key=st.text(max_size=40).map(lambda s: "K3Y~" + s),
    secret=st.text(max_size=40).map(lambda s: "S3KR1T~" + s),
    sent=st.text(max_size=40),
    body=st.binary(max_size=80),
    t=st.integers(NOW - 1000, NOW + 1000),
)
def test_no_secret_or_expected_signature_ever_shows(
    key: str, secret: str, sent: str, body: bytes, t: int
) -> None:
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"integrator-api-key": sent, "Signature": f"t={t},signature={'0' * 64}"}
    diagnosis = explain(
        WebhookRequest(body=body, headers=headers),
        api_key=key,
        signature_secret=secret,
        clock=FixedClock(NOW),
    )
    assert diagnosis.outcome is not Outcome.OK
    text = everything(diagnosis)
    assert expected not in text
    shown = body.decode("utf-8", "backslashreplace") + sent  # what the request itself carries
    for value in (secret, key):
        if value not in shown:
            assert value not in text
