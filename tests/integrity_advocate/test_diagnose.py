"""explain(): a secret-free account of why a review callback does or does not verify."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse

import pytest

from examkit.core.clock import FixedClock
from examkit.core.diagnosis import Diagnosis, Outcome
from examkit.core.errors import ConfigurationError, ValidationError
from examkit.core.webhook import WebhookRequest
from examkit.integrity_advocate import explain
from tests.integrity_advocate.samples import REVIEW_CALLBACK

APP_ID = "00000000-1111-2222-3333-444444444444"
API_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
KEY = bytes(range(32))
NOW = 1_700_000_000
URL = "https://lms.example.org/ia/review"


def header(canonical: str, key: bytes = KEY, *, url_nonce: str = "n-1") -> tuple[str, str]:
    """The header (from the documented recipe) and the base64 signature it carries."""
    message = f"{APP_ID}POST{canonical}{NOW}{url_nonce}".encode()
    signature = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    return f"amx {APP_ID}:{signature}:{url_nonce}:{NOW}", signature


def canonical(url: str) -> str:
    return urllib.parse.quote_plus(url, safe="").lower()


def request(value: str, url: str = URL, **kw: object) -> WebhookRequest:
    return WebhookRequest(body=REVIEW_CALLBACK, headers={"Authorization": value}, url=url, **kw)  # type: ignore[arg-type]


def everything(diagnosis: Diagnosis) -> str:
    return diagnosis.render() + json.dumps(diagnosis.to_dict(), default=str)


def test_a_good_callback_is_ok_and_shows_the_signed_string() -> None:
    value, _ = header(canonical(URL))
    diagnosis = explain(request(value), app_id=APP_ID, api_key=API_KEY, clock=FixedClock(NOW + 5))
    assert diagnosis.outcome is Outcome.OK
    assert diagnosis.verdict == "OK: review callback for participant XXXXXXXXXXXXX (status Invalid (ID))"
    text = diagnosis.render()
    assert f"{APP_ID}POST{canonical(URL)}{NOW}n-1" in text
    assert "5 s old (tolerance 300 s)" in text
    assert API_KEY not in everything(diagnosis)


def test_a_wrong_key_names_no_secret_and_no_expected_signature() -> None:
    # Signed with another key: the signature the configured key would give is computed here, and must
    # appear nowhere in the diagnosis (nor in hex), and neither must the key.
    other = bytes(range(50, 82))
    value, _ = header(canonical(URL), other)
    _, expected = header(canonical(URL), KEY)
    diagnosis = explain(request(value), app_id=APP_ID, api_key=API_KEY, clock=FixedClock(NOW))
    assert diagnosis.outcome is Outcome.FAILED
    assert "SignatureMismatchError" in diagnosis.verdict
    text = everything(diagnosis)
    for secret in (API_KEY, expected, base64.b64decode(expected).hex(), KEY.hex()):
        assert secret not in text
    assert "no URL form and key reproduce the signature: check api_key" in text


def test_the_key_text_used_as_the_key_is_named() -> None:
    value, _ = header(canonical(URL), API_KEY.encode())
    diagnosis = explain(request(value), app_id=APP_ID, api_key=API_KEY, clock=FixedClock(NOW))
    assert diagnosis.outcome is Outcome.FAILED
    assert any("the API key's text as the HMAC key" in h for h in diagnosis.hints)


def test_a_proxy_that_changed_the_scheme_is_named() -> None:
    value, _ = header(canonical(URL))
    seen = URL.replace("https://", "http://")
    diagnosis = explain(request(value, seen), app_id=APP_ID, api_key=API_KEY, clock=FixedClock(NOW))
    assert diagnosis.outcome is Outcome.FAILED
    assert any("the vendor signed the https:// URL" in h for h in diagnosis.hints)
    # ... and callback_url, the verifier's setting, is the fix
    fixed = explain(
        request(value, seen), app_id=APP_ID, api_key=API_KEY, clock=FixedClock(NOW), callback_url=URL
    )
    assert fixed.outcome is Outcome.OK


def test_freshness_is_judged_at_received_at() -> None:
    value, _ = header(canonical(URL))
    late = FixedClock(NOW + 7200)
    queued = request(value, received_at=NOW + 2)
    diagnosis = explain(queued, app_id=APP_ID, api_key=API_KEY, clock=late)
    assert diagnosis.outcome is Outcome.OK
    assert "2 s old" in diagnosis.render()
    assert explain(request(value), app_id=APP_ID, api_key=API_KEY, clock=late).outcome is Outcome.FAILED


def test_labels_name_the_settings_and_a_bad_key_cannot_verify() -> None:
    value, _ = header(canonical(URL))
    diagnosis = explain(
        request(value),
        app_id=APP_ID,
        api_key="too-short-key",
        clock=FixedClock(NOW),
        labels={"api_key": "EXAMKIT_IA_API_KEY"},
    )
    assert diagnosis.outcome is Outcome.CANNOT_VERIFY
    assert "EXAMKIT_IA_API_KEY has 13 characters" in diagnosis.render()
    assert "too-short-key" not in everything(diagnosis)


def test_hostile_arguments_raise_examkit_errors() -> None:
    with pytest.raises(ValidationError):
        explain(b"body", app_id=APP_ID, api_key=API_KEY)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        explain(request("amx x"), app_id=APP_ID, api_key=API_KEY, labels=["api_key"])  # type: ignore[arg-type]
