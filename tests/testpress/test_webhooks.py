"""The exam webhook verifier."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.encoding import PercentEncoding
from examkit.core.errors import (
    ConfigurationError,
    ExamkitError,
    MalformedSignatureError,
    MissingSignatureError,
    PayloadError,
    PayloadTooLargeError,
    ReplayedRequestError,
    SignatureMismatchError,
)
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.testing.testpress import sample_exam_webhook_payload, sign_exam_webhook
from examkit.testpress import PRIVATE_KEY, AttemptState, ExamWebhookEvent, TestpressWebhookVerifier
from examkit.testpress.signing import DEFAULT_WEBHOOK_HASH_FIELDS

PUB = "sxe7uKykEUT7WSnh"
PRIV = "private-key-1"

# The vendor's 2019 sample, verbatim (its hash is a 91-character placeholder).
SAMPLE_2019 = (
    b'{"username": "test_user","hash": "815aad5656f99ac131ab1ab57f1044c6c1c656b2a7f13b41feca74fd4'
    b'8a603f94a7024d6835204e463fbd79f6a4","exam": {"duration": "0:30:00",'
    b'"start_date": "2019-01-21T12:52:41.075Z","id": 2,"end_date": "2019-03-21T12:52:41.075Z",'
    b'"title": "test_exam"},"partial_correct_answers_count": "0","attempt_id": "93",'
    b'"key": "sxe7uKykEUT7WSnh","speed": "960","percentage": "100",'
    b'"correct_answers_count": "50","user_id": "3","score": "50","unanswered_answers_count": "0",'
    b'"incorrect_answers_count": "0","email": "[email\xc2\xa0protected]","accuracy": "100"}'
)

# The 2023 "End Exam Webhook Response" sample of the current documentation (key changed to PUB).
SAMPLE_2023_END: dict[str, Any] = {
    "username": "student",
    "accuracy": 0,
    "exam": {
        "id": 27,
        "title": "File type exam",
        "duration": None,
        "start_date": "2023-03-15T12:04:32+05:30",
        "end_date": None,
    },
    "subject_stats": [
        {
            "subject_name": "Quantitative",
            "parent_subject_id": None,
            "correct_answers_count": 0,
            "incorrect_answers_count": 0,
            "partial_correct_answers_count": 0,
            "unanswered_count": 1,
            "answered_count": 0,
            "total_count": 1,
            "score": "0.00",
        }
    ],
    "email": "karthiktest51@gmail.com",
    "partial_correct_answers_count": 0,
    "attempt_id": 130,
    "attempt_state": "completed",
    "incorrect_answers_count": 0,
    "difficulty_level_stats": {
        "uncategorized": {
            "correct_answers_count": 0,
            "incorrect_answers_count": 0,
            "partial_correct_answers_count": 0,
            "unanswered_count": 1,
            "total_count": 1,
        }
    },
    "completed_on": "2023-03-31T16:27:41.151586+05:30",
    "unanswered_answers_count": 1,
    "key": PUB,
    "attempt_start_time": "2023-03-31T10:55:54.968829Z",
    "user_id": 2,
    "percentage": "0.00",
    "score": "0.00",
    "speed": 0,
    "institute_attempt_id": None,
    "correct_answers_count": 0,
}


def _hand_hash(message: str, key: str = PRIV) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha512).hexdigest()


def _with_hash(body: bytes, digest: str) -> bytes:
    data = json.loads(body)
    data["hash"] = digest
    return json.dumps(data).encode()


def _verifier(**kw: Any) -> TestpressWebhookVerifier:
    return TestpressWebhookVerifier(public_key=PUB, private_key=PRIV, **kw)


def test_2019_sample_verifies_with_a_hand_computed_hash() -> None:
    # The placeholder hash is replaced by one computed here by the documented recipe.
    body = SAMPLE_2019.replace(
        b'"815aad5656f99ac131ab1ab57f1044c6c1c656b2a7f13b41feca74fd48a603f94a7024d6835204e463fbd79f6a4"',
        json.dumps(_hand_hash(f"{PUB}|93|50|{PRIV}|0|0|100|50|3")).encode(),
    )
    event = _verifier().verify(WebhookRequest(body=body))
    assert event.attempt_id == 93
    assert event.user.id == 3
    assert event.user.username == "test_user"
    assert event.score == Decimal("50")
    assert event.percentage == Decimal("100")
    assert event.attempt_state is None
    assert event.exam is not None
    assert event.exam.duration == timedelta(minutes=30)
    assert event.exam.start_date == datetime(2019, 1, 21, 12, 52, 41, 75000, tzinfo=timezone.utc)
    assert event.speed == Decimal("960")


def test_2019_sample_placeholder_hash_is_malformed() -> None:
    with pytest.raises(MalformedSignatureError):
        _verifier().verify(WebhookRequest(body=SAMPLE_2019))


def test_2023_sample_parses_with_typed_values() -> None:
    body = json.dumps(SAMPLE_2023_END).encode()
    body = _with_hash(body, _hand_hash(f"{PUB}|130|0|{PRIV}|0|1|0.00|0.00|2"))
    event = _verifier().verify(WebhookRequest(body=body))
    assert event.attempt_state is AttemptState.COMPLETED
    assert event.score == Decimal("0.00")
    assert str(event.percentage) == "0.00"
    assert event.exam is not None
    assert event.exam.duration is None
    assert event.exam.start_date is not None
    assert event.exam.start_date.utcoffset() == timedelta(hours=5, minutes=30)
    assert event.subject_stats[0].subject_name == "Quantitative"
    assert event.subject_stats[0].unanswered_count == 1
    assert event.difficulty_level_stats["uncategorized"].total_count == 1
    assert event.completed_on is not None
    assert event.institute_attempt_id is None
    assert event.is_authenticated("score")
    assert not event.is_authenticated("email")
    assert not event.is_authenticated("attempt_state")
    assert type(event.attempt_id) is int


def test_unknown_fields_and_states_are_kept() -> None:
    payload = dict(SAMPLE_2023_END, attempt_state="paused", new_field={"a": 1})
    body = sign_exam_webhook(payload, private_key=PRIV)
    event = _verifier().verify(WebhookRequest(body=body))
    assert event.attempt_state == "paused"
    assert event.extra["new_field"] == {"a": 1}


def test_hex_in_either_case_and_rotation() -> None:
    body = sign_exam_webhook(SAMPLE_2023_END, private_key=PRIV)
    data = json.loads(body)
    data["hash"] = data["hash"].upper()
    verifier = TestpressWebhookVerifier(public_key=PUB, private_key=["new-key", PRIV])
    assert verifier.verify(WebhookRequest(body=json.dumps(data).encode())).attempt_id == 130


def test_wrong_public_key_is_rejected() -> None:
    body = sign_exam_webhook(dict(SAMPLE_2023_END, key="other"), private_key=PRIV)
    with pytest.raises(SignatureMismatchError) as info:
        _verifier().verify(WebhookRequest(body=body))
    assert info.value.reason == "public key mismatch"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", MalformedSignatureError),
        (b"[1]", MalformedSignatureError),
        (b'{"key": "x"}', MissingSignatureError),
        (b'{"hash": 5}', MalformedSignatureError),
        (b'{"hash": "abc"}', MalformedSignatureError),
    ],
)
def test_unreadable_requests(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        _verifier().verify(WebhookRequest(body=body))


def test_hashed_field_missing_is_malformed() -> None:
    payload = {k: v for k, v in SAMPLE_2023_END.items() if k != "score"}
    body = json.dumps({**payload, "hash": "0" * 128}).encode()
    with pytest.raises(MalformedSignatureError):
        _verifier().verify(WebhookRequest(body=body))


def test_good_hash_bad_body_is_payload_error() -> None:
    payload = dict(SAMPLE_2023_END, exam={"id": "not a number", "title": "t"})
    body = sign_exam_webhook(payload, private_key=PRIV)
    with pytest.raises(PayloadError) as info:
        _verifier().verify(WebhookRequest(body=body))
    assert info.value.field == "exam.id"


def test_body_size_limit_and_replay_guard() -> None:
    body = sign_exam_webhook(SAMPLE_2023_END, private_key=PRIV)
    with pytest.raises(PayloadTooLargeError):
        _verifier(max_body_size=10).verify(WebhookRequest(body=body))
    verifier = _verifier(replay_guard=InMemoryReplayGuard())
    verifier.verify(WebhookRequest(body=body))
    with pytest.raises(ReplayedRequestError):
        verifier.verify(WebhookRequest(body=body))


def test_encoding_and_hash_fields_settings() -> None:
    payload = dict(SAMPLE_2023_END, key="a b")
    body = sign_exam_webhook(payload, private_key=PRIV, encoding=PercentEncoding.QUOTE_PLUS)
    assert json.loads(body)["hash"] == _hand_hash(f"a+b|130|0|{PRIV}|0|1|0.00|0.00|2")
    TestpressWebhookVerifier(public_key="a b", private_key=PRIV, encoding=PercentEncoding.QUOTE_PLUS).verify(
        WebhookRequest(body=body)
    )
    with pytest.raises(SignatureMismatchError):
        TestpressWebhookVerifier(public_key="a b", private_key=PRIV).verify(WebhookRequest(body=body))
    fields = tuple(f for f in DEFAULT_WEBHOOK_HASH_FIELDS if f != "user_id")
    custom = TestpressWebhookVerifier(public_key=PUB, private_key=PRIV, hash_fields=fields)
    body2 = _with_hash(json.dumps(SAMPLE_2023_END).encode(), _hand_hash(f"{PUB}|130|0|{PRIV}|0|1|0.00|0.00"))
    assert not custom.verify(WebhookRequest(body=body2)).is_authenticated("user_id")


@pytest.mark.parametrize(
    "settings",
    [
        {"public_key": ""},
        {"private_key": ""},
        {"private_key": []},
        {"hash_fields": ()},
        {"hash_fields": ("hash",)},
        {"encoding": "python_quote"},
        {"max_body_size": 0},
    ],
)
def test_bad_settings(settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        TestpressWebhookVerifier(**{"public_key": PUB, "private_key": PRIV, **settings})


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXAMKIT_TESTPRESS_PUBLIC_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="EXAMKIT_TESTPRESS_PUBLIC_KEY"):
        TestpressWebhookVerifier.from_env()
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PUBLIC_KEY", PUB)
    monkeypatch.setenv("EXAMKIT_TESTPRESS_PRIVATE_KEY", PRIV)
    verifier = TestpressWebhookVerifier.from_env()
    assert PRIV not in repr(verifier)
    body = sign_exam_webhook(SAMPLE_2023_END, private_key=PRIV)
    assert verifier.verify(WebhookRequest(body=body)).attempt_id == 130


def test_secret_never_in_errors() -> None:
    body = sign_exam_webhook(SAMPLE_2023_END, private_key="other")
    with pytest.raises(SignatureMismatchError) as info:
        _verifier().verify(WebhookRequest(body=body))
    assert PRIV not in str(info.value)
    assert PRIV not in repr(info.value)


# --- properties ----------

names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20)
# A blank public key is refused as a setting; the key may be any other text.
keys = names.filter(str.strip)
HASHED = [f for f in DEFAULT_WEBHOOK_HASH_FIELDS if f not in (PRIVATE_KEY, "key")]


@given(key=keys, email=names, score=st.decimals(places=2, allow_nan=False, allow_infinity=False))
def test_webhook_round_trip_for_any_unicode(key: str, email: str, score: Decimal) -> None:
    payload = sample_exam_webhook_payload(public_key=key, email=email, score=str(score))
    body = sign_exam_webhook(payload, private_key=PRIV)
    event = TestpressWebhookVerifier(public_key=key, private_key=PRIV).verify(WebhookRequest(body=body))
    assert event.email == email
    assert event.score == score


@given(field=st.sampled_from(HASHED), delta=st.integers(min_value=1, max_value=99))
def test_any_change_to_a_hashed_field_is_rejected(field: str, delta: int) -> None:
    body = sign_exam_webhook(sample_exam_webhook_payload(public_key=PUB), private_key=PRIV)
    data = json.loads(body)
    value = data[field]
    data[field] = str(int(Decimal(value)) + delta) if isinstance(value, str) else value + delta
    with pytest.raises(SignatureMismatchError):
        _verifier().verify(WebhookRequest(body=json.dumps(data).encode()))


@given(field=st.sampled_from(["email", "username", "attempt_state", "speed", "completed_on"]))
def test_a_change_to_an_unhashed_field_is_accepted_and_flagged(field: str) -> None:
    body = sign_exam_webhook(sample_exam_webhook_payload(public_key=PUB), private_key=PRIV)
    data = json.loads(body)
    data[field] = {"speed": 5, "completed_on": None}.get(field, "started")
    event: ExamWebhookEvent = _verifier().verify(WebhookRequest(body=json.dumps(data).encode()))
    assert not event.is_authenticated(field)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_examkit_errors(body: bytes) -> None:
    with contextlib.suppress(ExamkitError):
        _verifier().verify(WebhookRequest(body=body))


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10))


@given(st.dictionaries(st.sampled_from([*HASHED, "key", "hash", "exam"]), scalars | st.lists(scalars)))
def test_arbitrary_json_objects_raise_only_examkit_errors(data: dict[str, Any]) -> None:
    try:
        body = json.dumps(data).encode()
    except (TypeError, ValueError):
        return
    with contextlib.suppress(ExamkitError):
        _verifier().verify(WebhookRequest(body=body))
