"""Assessio's results webhook: authentication, optional signature, parsing."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.assessio import (
    AssessioWebhookVerifier,
    AssessmentSubmittedEvent,
    AssessmentType,
    EventType,
    UnknownEvent,
)
from examkit.assessio.webhooks import parse_event
from examkit.core.clock import FixedClock
from examkit.core.errors import (
    ConfigurationError,
    ExamkitError,
    MalformedSignatureError,
    MissingSignatureError,
    PayloadError,
    PayloadTooLargeError,
    ReplayedRequestError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
    ValidationError,
)
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest

NOW = 1_700_000_000
KEY = "integrator-api-key-123"

# The vendor page's webhook example, as printed (pretty, with the list markers removed).
VENDOR_EXAMPLE = b"""{
    "eventType": "ASSESSMENT_SUBMITTED",
    "payload": {
        "orderReferenceId": "string",
        "assessmentType": "MAP",
        "assessmentScores": [
            {
                "type": "MAP_SCORE",
                "key": "EX",
                "value": 10,
                "subScores": [
                    {
                        "key": "EX1",
                        "value": 10
                    }
                ]
            }
        ]
    }
}"""


def req(body: bytes = VENDOR_EXAMPLE, **headers: str) -> WebhookRequest:
    return WebhookRequest(body=body, headers={k.replace("_", "-"): v for k, v in headers.items()})


def signed(body: bytes, secret: str, t: int) -> str:
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},signature={mac}"


def test_vendor_example_parses() -> None:
    event = AssessioWebhookVerifier(api_key=KEY).verify(req(integrator_api_key=KEY))
    assert isinstance(event, AssessmentSubmittedEvent)
    assert event.event_type is EventType.ASSESSMENT_SUBMITTED
    assert event.order_reference_id == "string"
    assert event.assessment_type is AssessmentType.MAP
    (score,) = event.scores
    assert (score.type, score.key, score.value) == ("MAP_SCORE", "EX", Decimal(10))
    (sub,) = score.sub_scores
    assert (sub.key, sub.value) == ("EX1", Decimal(10))


def test_unknown_keys_and_values_are_kept() -> None:
    body = json.dumps(
        {
            "eventType": "ASSESSMENT_SUBMITTED",
            "deliveryId": "d-1",
            "payload": {
                "orderReferenceId": "o-1",
                "assessmentType": "NEW_TYPE",
                "completedAt": "2024-01-01",
                "assessmentScores": [
                    {"type": "T", "key": "K", "value": 7.25, "band": "high"},
                ],
            },
        }
    ).encode()
    event = parse_event(body)
    assert isinstance(event, AssessmentSubmittedEvent)
    assert event.assessment_type == "NEW_TYPE"
    assert event.extra == {"deliveryId": "d-1"}
    assert event.payload.extra == {"completedAt": "2024-01-01"}
    assert event.scores[0].value == Decimal("7.25")
    assert event.scores[0].sub_scores == ()
    assert event.scores[0].extra == {"band": "high"}


def test_other_event_types_are_generic() -> None:
    body = b'{"eventType": "ASSESSMENT_EXPIRED", "payload": {"orderReferenceId": "x", "n": 1.5}}'
    event = AssessioWebhookVerifier(api_key=KEY).verify(req(body, integrator_api_key=KEY))
    assert isinstance(event, UnknownEvent)
    assert event.event_type == "ASSESSMENT_EXPIRED"
    assert event.payload == {"orderReferenceId": "x", "n": Decimal("1.5")}
    no_payload = parse_event(b'{"eventType": "PING", "other": true}')
    assert isinstance(no_payload, UnknownEvent)
    assert no_payload.payload is None
    assert no_payload.extra == {"other": True}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", None),
        (b"[1, 2]", None),
        (b'{"payload": {}}', "eventType"),
        (b'{"eventType": 5}', "eventType"),
        (b'{"eventType": "ASSESSMENT_SUBMITTED"}', "payload"),
        (
            b'{"eventType": "ASSESSMENT_SUBMITTED", "payload": {"assessmentType": "MAP"}}',
            "payload.orderReferenceId",
        ),
        (
            (
                b'{"eventType": "ASSESSMENT_SUBMITTED", "payload": {"orderReferenceId": "o",'
                b' "assessmentType": "MAP", "assessmentScores": [{"type": "T", "key": "K",'
                b' "value": "high"}]}}'
            ),
            "payload.assessmentScores[0].value",
        ),
        (b"\xff\xfe", None),
    ],
)
def test_authentic_but_malformed_is_payload_error(body: bytes, field: str | None) -> None:
    with pytest.raises(PayloadError) as info:
        AssessioWebhookVerifier(api_key=KEY).verify(req(body, integrator_api_key=KEY))
    assert info.value.field == field


def test_api_key_checked_before_body() -> None:
    verifier = AssessioWebhookVerifier(api_key=KEY)
    with pytest.raises(SignatureMismatchError):
        verifier.verify(req(b"not json", integrator_api_key="wrong"))
    with pytest.raises(MissingSignatureError):
        verifier.verify(req(b"not json"))
    with pytest.raises(MissingSignatureError):
        verifier.verify(req(b"{}", integrator_api_key="  "))


def test_api_key_header_is_case_insensitive_and_trimmed() -> None:
    verifier = AssessioWebhookVerifier(api_key=KEY)
    verifier.verify(WebhookRequest(body=VENDOR_EXAMPLE, headers={"Integrator-API-Key": f" {KEY} "}))


def test_api_key_prefix_or_extension_rejected() -> None:
    verifier = AssessioWebhookVerifier(api_key=KEY)
    for wrong in (KEY[:-1], KEY + "4", KEY.upper(), f"Bearer {KEY}"):
        with pytest.raises(SignatureMismatchError):
            verifier.verify(req(integrator_api_key=wrong))


def test_several_keys_for_rotation() -> None:
    verifier = AssessioWebhookVerifier(api_key=["old-key-1", KEY])
    verifier.verify(req(integrator_api_key=KEY))
    verifier.verify(req(integrator_api_key="old-key-1"))


def test_bearer_scheme_and_header_setting() -> None:
    verifier = AssessioWebhookVerifier(api_key=KEY, header="Authorization", scheme="bearer")
    verifier.verify(req(Authorization=f"Bearer {KEY}"))
    verifier.verify(req(Authorization=f"bearer   {KEY}"))
    with pytest.raises(MalformedSignatureError):
        verifier.verify(req(Authorization=KEY))
    with pytest.raises(MalformedSignatureError):
        verifier.verify(req(Authorization="Bearer "))
    with pytest.raises(SignatureMismatchError):
        verifier.verify(req(Authorization="Bearer nope"))
    with pytest.raises(MissingSignatureError):
        verifier.verify(req(integrator_api_key=KEY))


def test_conflicting_duplicate_key_headers() -> None:
    request = WebhookRequest(
        body=VENDOR_EXAMPLE,
        headers=[("integrator-api-key", KEY), ("integrator-api-key", "other")],
    )
    with pytest.raises(MalformedSignatureError):
        AssessioWebhookVerifier(api_key=KEY).verify(request)


def test_optional_signature_check() -> None:
    clock = FixedClock(NOW)
    verifier = AssessioWebhookVerifier(api_key=KEY, signature_secret="sig-secret", clock=clock)
    assert verifier.checks_signature
    good = signed(VENDOR_EXAMPLE, "sig-secret", NOW)
    event = verifier.verify(req(integrator_api_key=KEY, Signature=good))
    assert isinstance(event, AssessmentSubmittedEvent)
    with pytest.raises(MissingSignatureError):
        verifier.verify(req(integrator_api_key=KEY))
    with pytest.raises(SignatureMismatchError):
        verifier.verify(req(integrator_api_key=KEY, Signature=signed(VENDOR_EXAMPLE, "x", NOW)))
    with pytest.raises(SignatureMismatchError):
        verifier.verify(req(VENDOR_EXAMPLE + b" ", integrator_api_key=KEY, Signature=good))
    stale = signed(VENDOR_EXAMPLE, "sig-secret", NOW - 301)
    with pytest.raises(TimestampOutsideToleranceError):
        verifier.verify(req(integrator_api_key=KEY, Signature=stale))
    future = signed(VENDOR_EXAMPLE, "sig-secret", NOW + 301)
    with pytest.raises(TimestampOutsideToleranceError):
        verifier.verify(req(integrator_api_key=KEY, Signature=future))
    # The API key is still required when signatures are checked.
    with pytest.raises(SignatureMismatchError):
        verifier.verify(req(integrator_api_key="wrong", Signature=good))


def test_signature_checked_before_body_is_parsed() -> None:
    verifier = AssessioWebhookVerifier(api_key=KEY, signature_secret="s", clock=FixedClock(NOW))
    with pytest.raises(SignatureMismatchError):
        verifier.verify(req(b"garbage", integrator_api_key=KEY, Signature=signed(b"x", "s", NOW)))
    with pytest.raises(PayloadError):
        verifier.verify(req(b"garbage", integrator_api_key=KEY, Signature=signed(b"garbage", "s", NOW)))


def test_replay_guard() -> None:
    clock = FixedClock(NOW)
    guard = InMemoryReplayGuard(clock=clock)
    verifier = AssessioWebhookVerifier(api_key=KEY, signature_secret="s", clock=clock, replay_guard=guard)
    header = signed(VENDOR_EXAMPLE, "s", NOW)
    verifier.verify(req(integrator_api_key=KEY, Signature=header))
    with pytest.raises(ReplayedRequestError):
        verifier.verify(req(integrator_api_key=KEY, Signature=header))
    # Adding a decoy signature part does not get a replay past the guard.
    decoy = header + ",signature=" + "0" * 64
    with pytest.raises(ReplayedRequestError):
        verifier.verify(req(integrator_api_key=KEY, Signature=decoy))
    # A request that fails the signature check never reaches the guard.
    other = signed(b"{}", "s", NOW)
    with pytest.raises(SignatureMismatchError):
        verifier.verify(req(b"{ }", integrator_api_key=KEY, Signature=other))
    assert len(guard) == 1


def test_body_size_limit() -> None:
    verifier = AssessioWebhookVerifier(api_key=KEY, max_body_size=16)
    with pytest.raises(PayloadTooLargeError):
        verifier.verify(req(b"x" * 17, integrator_api_key="wrong"))


def test_settings_validated() -> None:
    with pytest.raises(ConfigurationError):
        AssessioWebhookVerifier(api_key=[])
    with pytest.raises(ConfigurationError):
        AssessioWebhookVerifier(api_key="")
    with pytest.raises(ConfigurationError):
        AssessioWebhookVerifier(api_key=KEY, scheme="basic")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        AssessioWebhookVerifier(api_key=KEY, header="")
    with pytest.raises(ConfigurationError):
        AssessioWebhookVerifier(api_key=KEY, replay_guard=InMemoryReplayGuard())
    with pytest.raises(ConfigurationError):
        AssessioWebhookVerifier(api_key=KEY, max_body_size=0)
    with pytest.raises(ConfigurationError):
        AssessioWebhookVerifier(api_key=KEY, tolerance=-1)
    with pytest.raises(ValidationError):
        AssessioWebhookVerifier(api_key=KEY).verify(b"{}")  # type: ignore[arg-type]


def test_keys_never_shown() -> None:
    verifier = AssessioWebhookVerifier(api_key=KEY, signature_secret="sig-secret-value")
    assert KEY not in repr(verifier)
    assert "sig-secret-value" not in repr(verifier)
    with pytest.raises(SignatureMismatchError) as info:
        AssessioWebhookVerifier(api_key=KEY).verify(req(integrator_api_key="other"))
    assert KEY not in str(info.value)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXAMKIT_ASSESSIO_API_KEY", raising=False)
    with pytest.raises(ConfigurationError) as info:
        AssessioWebhookVerifier.from_env()
    assert info.value.setting == "EXAMKIT_ASSESSIO_API_KEY"
    monkeypatch.setenv("EXAMKIT_ASSESSIO_API_KEY", KEY)
    AssessioWebhookVerifier.from_env().verify(req(integrator_api_key=KEY))
    monkeypatch.delenv("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", raising=False)
    with pytest.raises(ConfigurationError) as info:
        AssessioWebhookVerifier.from_env(check_signature=True)
    assert info.value.setting == "EXAMKIT_ASSESSIO_INTEGRATOR_SECRET"
    monkeypatch.setenv("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", "s")
    verifier = AssessioWebhookVerifier.from_env(check_signature=True, clock=FixedClock(NOW))
    verifier.verify(req(integrator_api_key=KEY, Signature=signed(VENDOR_EXAMPLE, "s", NOW)))


# --- properties -----------------------------------------------------------------------------


@given(token=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40))
def test_any_other_key_rejected(token: str) -> None:
    verifier = AssessioWebhookVerifier(api_key=KEY)
    headers = {"integrator-api-key": token}
    if token.strip() == KEY:
        verifier.verify(WebhookRequest(body=VENDOR_EXAMPLE, headers=headers))
        return
    with pytest.raises((SignatureMismatchError, MissingSignatureError)):
        verifier.verify(WebhookRequest(body=VENDOR_EXAMPLE, headers=headers))


@given(body=st.binary(max_size=300), data=st.data())
def test_signed_round_trip_and_tamper(body: bytes, data: st.DataObject) -> None:
    verifier = AssessioWebhookVerifier(api_key=KEY, signature_secret="s", clock=FixedClock(NOW))
    header = signed(body, "s", NOW)
    with contextlib.suppress(PayloadError):  # authentic, but maybe not a valid event body
        verifier.verify(req(body, integrator_api_key=KEY, Signature=header))
    if body:
        i = data.draw(st.integers(0, len(body) - 1))
        changed = body[:i] + bytes([body[i] ^ 0x01]) + body[i + 1 :]
        with pytest.raises(SignatureMismatchError):
            verifier.verify(req(changed, integrator_api_key=KEY, Signature=header))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(
    body=st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries(
            {"eventType": st.sampled_from(["ASSESSMENT_SUBMITTED", "X"]) | json_values},
            optional={"payload": json_values},
        ).map(lambda v: json.dumps(v).encode()),
    ),
    header=st.one_of(st.none(), st.text(max_size=120)),
    key=st.one_of(st.just(KEY), st.text(max_size=30)),
)
def test_garbage_raises_only_examkit_errors(body: bytes, header: str | None, key: str) -> None:
    headers = {"integrator-api-key": key}
    if header is not None:
        headers["Signature"] = header
    request = WebhookRequest(body=body, headers=headers)
    with contextlib.suppress(ExamkitError):
        AssessioWebhookVerifier(api_key=KEY).verify(request)
    signed_verifier = AssessioWebhookVerifier(api_key=KEY, signature_secret="s", clock=FixedClock(NOW))
    with contextlib.suppress(ExamkitError):
        signed_verifier.verify(request)


# -- which configured secret matched (rotation), and freshness at received_at ------------------------


@given(keys=st.integers(1, 4), data=st.data())
def test_verify_detailed_names_the_api_key_and_signature_secret_that_matched(
    keys: int, data: st.DataObject
) -> None:
    api_keys = [f"api-key-{i}" for i in range(keys)]
    secrets = [f"signature-secret-{i}" for i in range(data.draw(st.integers(1, 4)))]
    key_at = data.draw(st.integers(0, len(api_keys) - 1))
    secret_at = data.draw(st.integers(0, len(secrets) - 1))
    verifier = AssessioWebhookVerifier(api_key=api_keys, signature_secret=secrets, clock=FixedClock(NOW))
    request = req(
        integrator_api_key=api_keys[key_at], Signature=signed(VENDOR_EXAMPLE, secrets[secret_at], NOW)
    )
    verified = verifier.verify_detailed(request)
    assert (verified.key_index, verified.key_count) == (key_at, len(api_keys))
    assert (verified.signature_key_index, verified.signature_key_count) == (secret_at, len(secrets))
    assert verified.rotation_note == (
        f"api key {key_at + 1} of {len(api_keys)} matched; "
        f"signature secret {secret_at + 1} of {len(secrets)} matched"
    )
    assert verified.event == verifier.verify(request)
    assert verified.event.body_authenticated is True
    for secret in (*api_keys, *secrets):
        assert secret not in repr(verified)


def test_verify_detailed_without_a_signature_check() -> None:
    verified = AssessioWebhookVerifier(api_key=["old", KEY]).verify_detailed(req(integrator_api_key=KEY))
    assert (verified.key_index, verified.key_count) == (1, 2)
    assert (verified.signature_key_index, verified.signature_key_count) == (None, 0)
    assert verified.rotation_note == "api key 2 of 2 matched"
    assert verified.event.body_authenticated is False


def test_verify_detailed_refuses_like_verify() -> None:
    verifier = AssessioWebhookVerifier(api_key=KEY, signature_secret="s", clock=FixedClock(NOW))
    with pytest.raises(SignatureMismatchError):
        verifier.verify_detailed(req(integrator_api_key="other", Signature=signed(VENDOR_EXAMPLE, "s", NOW)))
    with pytest.raises(SignatureMismatchError):
        verifier.verify_detailed(req(integrator_api_key=KEY, Signature=signed(VENDOR_EXAMPLE, "x", NOW)))


def test_freshness_is_judged_at_received_at() -> None:
    # Verified from a queue a day later: the request was fresh when it arrived.
    late = AssessioWebhookVerifier(api_key=KEY, signature_secret="s", clock=FixedClock(NOW + 86_400))
    headers = {"integrator-api-key": KEY, "Signature": signed(VENDOR_EXAMPLE, "s", NOW)}
    queued = WebhookRequest(body=VENDOR_EXAMPLE, headers=headers, received_at=NOW + 300)
    event = late.verify(queued)
    assert isinstance(event, AssessmentSubmittedEvent)
    assert event.order_reference_id == "string"
    with pytest.raises(TimestampOutsideToleranceError):
        late.verify(WebhookRequest(body=VENDOR_EXAMPLE, headers=headers))
    # And a request that arrived stale stays stale, whatever the clock says now.
    on_time = AssessioWebhookVerifier(api_key=KEY, signature_secret="s", clock=FixedClock(NOW))
    with pytest.raises(TimestampOutsideToleranceError):
        on_time.verify(WebhookRequest(body=VENDOR_EXAMPLE, headers=headers, received_at=NOW + 301))
