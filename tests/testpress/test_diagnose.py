"""``examkit.testpress.explain``: a secret-free diagnosis, and ``verify_detailed`` (which key matched)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from examkit.core.diagnosis import Diagnosis, Outcome
from examkit.core.encoding import PercentEncoding
from examkit.core.webhook import WebhookRequest
from examkit.testpress import (
    AttemptState,
    AttemptStatus,
    CompletionHmacScheme,
    TestpressCompletionVerifier,
    TestpressWebhookVerifier,
    explain,
)

PUB = "pub key"  # the space is the only character the encodings treat differently
PRIV = "the-private-key-123"

PAYLOAD: dict[str, Any] = {
    "attempt_id": 130,
    "correct_answers_count": 7,
    "incorrect_answers_count": 2,
    "unanswered_answers_count": 1,
    "percentage": "70.00",
    "score": "7.00",
    "user_id": 2,
    "key": PUB,
}


def _signed(*, key_text: str = "pub%20key", private: str = PRIV, hmac_key: str | None = None) -> bytes:
    """The documented hashed string, written out by hand; ``key_text`` is the encoded public key."""
    hashed = f"{key_text}|130|7|{private}|2|1|70.00|7.00|2"
    digest = hmac.new((hmac_key or private).encode(), hashed.encode(), hashlib.sha512).hexdigest()
    return json.dumps({**PAYLOAD, "hash": digest}).encode()


def _shown(diagnosis: Diagnosis) -> str:
    return diagnosis.render() + json.dumps(diagnosis.to_dict())


def _no_secret(text: str, body: bytes) -> None:
    assert PRIV not in text
    sent = json.loads(body)["hash"]
    # The received hash may be shown as part of the body; no expected digest under any variant is.
    for encoded in ("pub%20key", "pub+key", "pub key"):
        for key in (PRIV, f" {PRIV} "):
            hashed = f"{encoded}|130|7|{key}|2|1|70.00|7.00|2"
            expected = hmac.new(key.encode(), hashed.encode(), hashlib.sha512).hexdigest()
            if expected != sent:
                assert expected not in text
                assert expected[:32] not in text


def test_a_valid_webhook_is_ok_and_shows_the_signed_string_masked() -> None:
    body = _signed()
    diagnosis = explain(WebhookRequest(body=body), public_key=PUB, private_key=PRIV)
    assert diagnosis.outcome is Outcome.OK
    assert diagnosis.verdict == "OK: exam webhook for attempt 130 (score 7.00)"
    assert diagnosis.event.attempt_id == 130
    section = next(s for s in diagnosis.sections if s.title.startswith("signed string"))
    assert section.lines == ("pub%20key|130|7|<private_key>|2|1|70.00|7.00|2",)
    assert not diagnosis.hints
    _no_secret(_shown(diagnosis), body)


def test_another_encoding_is_named_with_the_setting_that_fixes_it() -> None:
    body = _signed(key_text="pub+key")  # PHP's urlencode writes a space as +
    diagnosis = explain(WebhookRequest(body=body), public_key=PUB, private_key=PRIV)
    assert diagnosis.outcome is Outcome.FAILED
    lines = next(s for s in diagnosis.sections if s.title == "encodings tried").lines
    assert "[MATCH] php_urlencode, the private key as UTF-8 text" in lines
    assert "[no match] python_quote, the private key as UTF-8 text" in lines
    # quote_plus writes a space as + too: both settings would fix it, and both are named.
    assert set(diagnosis.hints) == {
        (
            "the hash matches with php_urlencode: set encoding=PercentEncoding.PHP_URLENCODE on "
            "TestpressWebhookVerifier"
        ),
        (
            "the hash matches with quote_plus: set encoding=PercentEncoding.QUOTE_PLUS on "
            "TestpressWebhookVerifier"
        ),
    }
    _no_secret(_shown(diagnosis), body)


def test_the_configured_encoding_is_tried_first_and_then_the_default() -> None:
    body = _signed()
    diagnosis = explain(
        WebhookRequest(body=body), public_key=PUB, private_key=PRIV, encoding=PercentEncoding.PHP_URLENCODE
    )
    assert diagnosis.outcome is Outcome.FAILED
    lines = next(s for s in diagnosis.sections if s.title == "encodings tried").lines
    assert lines[0].endswith("php_urlencode, the private key as UTF-8 text")
    assert any(
        "set encoding=PercentEncoding.PYTHON_QUOTE on TestpressWebhookVerifier" in h for h in diagnosis.hints
    )
    assert not any("PHP_URLENCODE" in h for h in diagnosis.hints)


def test_a_private_key_with_whitespace_is_found_in_the_hashed_string_too() -> None:
    # Testpress hashed with the key without the whitespace: in the HMAC key AND in the hashed string.
    body = _signed()
    diagnosis = explain(WebhookRequest(body=body), public_key=PUB, private_key=f" {PRIV} ")
    assert diagnosis.outcome is Outcome.FAILED
    lines = next(s for s in diagnosis.sections if s.title == "encodings tried").lines
    assert "[MATCH] python_quote, the private key without surrounding whitespace" in lines
    assert any("surrounding whitespace" in h for h in diagnosis.hints)
    _no_secret(_shown(diagnosis), body)


def test_labels_name_the_settings_and_the_key_check_fails_on_another_institute() -> None:
    body = _signed()
    diagnosis = explain(
        WebhookRequest(body=body),
        public_key="another key",
        private_key=PRIV,
        labels={"public_key": "MY_PUBLIC", "private_key": "MY_PRIVATE"},
    )
    assert diagnosis.outcome is Outcome.FAILED
    texts = [c.text for c in diagnosis.checks]
    assert f"MY_PRIVATE: {len(PRIV)} characters" in texts
    assert "payload key 'pub key' equals MY_PUBLIC 'another key'" in texts
    assert not any(h.startswith("the hash matches with") for h in diagnosis.hints)


def test_unreadable_bodies_and_missing_hashes_fail_with_a_check() -> None:
    for body, text in [
        (b"not json", "the body is not JSON"),
        (b"[1]", "the body is not a JSON object"),
        (json.dumps(PAYLOAD).encode(), "the payload has a hash"),
        (b'{"a": "\\ud800", "hash": "00"}', "the body is not JSON"),
    ]:
        diagnosis = explain(WebhookRequest(body=body), public_key=PUB, private_key=PRIV)
        assert diagnosis.outcome is Outcome.FAILED
        assert any(c.passed is False and c.text.startswith(text) for c in diagnosis.checks), body


def test_settings_the_verifier_refuses_cannot_verify() -> None:
    body = _signed()
    diagnosis = explain(WebhookRequest(body=body), public_key=PUB, private_key=PRIV, hash_fields=["hash"])
    assert diagnosis.outcome is Outcome.CANNOT_VERIFY
    assert "ConfigurationError" in diagnosis.verdict
    diagnosis = explain(WebhookRequest(body=body), public_key=PUB, private_key="")
    assert diagnosis.outcome is Outcome.CANNOT_VERIFY


def test_several_private_keys_are_each_tried() -> None:
    body = _signed()
    diagnosis = explain(WebhookRequest(body=body), public_key=PUB, private_key=["old-key", PRIV])
    assert diagnosis.outcome is Outcome.OK
    lines = next(s for s in diagnosis.sections if s.title == "encodings tried").lines
    assert "[MATCH] python_quote, private key 2 as UTF-8 text" in lines
    assert "[no match] python_quote, private key 1 as UTF-8 text" in lines
    _no_secret(_shown(diagnosis), body)


# -- verify_detailed: which key matched -----------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(count=st.integers(min_value=1, max_value=4), data=st.data())
def test_property_verify_detailed_names_the_matching_key(count: int, data: st.DataObject) -> None:
    keys = [f"key-{i}" for i in range(count)]
    position = data.draw(st.integers(min_value=0, max_value=count - 1))
    body = _signed(private=keys[position])
    verifier = TestpressWebhookVerifier(public_key=PUB, private_key=keys)
    result = verifier.verify_detailed(WebhookRequest(body=body))
    assert result.key_index == position
    assert result.key_count == count
    assert result.rotation_note == f"secret {position + 1} of {count} matched"
    assert result.event == verifier.verify(WebhookRequest(body=body))


def test_completion_verify_detailed_names_the_matching_secret() -> None:
    scheme = CompletionHmacScheme(fields=("attempt_id", "status"))
    fields = {"email": "a@b.c", "first_name": "A", "attempt_id": "9", "institute_attempt_id": "r1"}
    fields["status"] = "completed"
    fields["hmac"] = hmac.new(b"new", b"9|completed", hashlib.sha256).hexdigest()
    verifier = TestpressCompletionVerifier(scheme=scheme, secret=["old", "new"])
    result = verifier.verify_detailed(fields)
    assert (result.key_index, result.key_count) == (1, 2)
    assert result.event.verified is True
    assert result.event.status is AttemptStatus.COMPLETED


# -- str-valued enums -----------------------------------------------------------------------------


def test_enums_are_the_vendors_strings() -> None:
    completed: str = AttemptState.COMPLETED
    assert completed == "completed"
    assert f"{AttemptState.STARTED}" == "started"
    assert json.dumps({"s": AttemptStatus.CANCELLED}) == '{"s": "cancelled"}'
    assert isinstance(AttemptStatus.PENDING, str)
