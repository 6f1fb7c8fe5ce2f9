"""The review callback verifier."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.clock import FixedClock
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    PayloadError,
    PayloadTooLargeError,
    ReplayedRequestError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
    WebhookVerificationError,
)
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.integrity_advocate import (
    LOWER_THEN_ENCODE_WITH_QUERY,
    CanonicalForm,
    IntegrityAdvocateWebhookVerifier,
    ParticipantStatus,
)
from tests.integrity_advocate.samples import REVIEW_CALLBACK

APP_ID = "00000000-1111-2222-3333-444444444444"
API_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
KEY = bytes(range(32))
NOW = 1_700_000_000
CALLBACK = "https://LMS.example.org/ia/Review?agency_id=Ab%3D&x=1"


def hand_header(canonical: str, *, ts: int = NOW, nonce: str = "n0nce", method: str = "POST") -> str:
    """Build the header by hand from the documented recipe."""
    message = (APP_ID + method + canonical + str(ts) + nonce).encode()
    signature = base64.b64encode(hmac.new(KEY, message, hashlib.sha256).digest()).decode()
    return f"amx {APP_ID}:{signature}:{nonce}:{ts}"


def without_query() -> str:
    return urllib.parse.quote_plus(CALLBACK.split("?", maxsplit=1)[0], safe="").lower()


def with_query() -> str:
    return urllib.parse.quote_plus(CALLBACK, safe="").lower()


def request(
    header: str | None,
    *,
    body: bytes = REVIEW_CALLBACK,
    name: str = "Authorization",
    url: str | None = CALLBACK,
) -> WebhookRequest:
    headers = {} if header is None else {name: header}
    return WebhookRequest(body=body, headers=headers, url=url)


def verifier(**kw: object) -> IntegrityAdvocateWebhookVerifier:
    kw.setdefault("clock", FixedClock(NOW))
    return IntegrityAdvocateWebhookVerifier(app_id=APP_ID, api_key=API_KEY, **kw)  # type: ignore[arg-type]


def test_accepts_url_without_query() -> None:
    callback = verifier().verify(request(hand_header(without_query())))
    assert callback.participant.participant_identifier == "XXXXXXXXXXXXX"
    assert callback.participant.status is ParticipantStatus.INVALID_ID
    assert callback.authorization.nonce == "n0nce"
    assert callback.body == REVIEW_CALLBACK


def test_accepts_url_with_query_by_default() -> None:
    verifier().verify(request(hand_header(with_query())))


def test_url_forms_are_a_setting() -> None:
    upper = urllib.parse.quote(CALLBACK.lower(), safe="!'()*")
    encode_then_lower = [CanonicalForm(), CanonicalForm(include_query=True)]
    with pytest.raises(SignatureMismatchError):
        verifier(url_forms=encode_then_lower).verify(request(hand_header(upper)))
    verifier(url_forms=[LOWER_THEN_ENCODE_WITH_QUERY]).verify(request(hand_header(upper)))
    with pytest.raises(SignatureMismatchError):
        verifier(url_forms=[LOWER_THEN_ENCODE_WITH_QUERY]).verify(request(hand_header(without_query())))


def test_redirect_header_is_read() -> None:
    header = hand_header(without_query())
    verifier().verify(request(header, name="Redirect-Http-Authorization"))
    with pytest.raises(MissingSignatureError):
        verifier(accept_redirect_header=False).verify(request(header, name="Redirect-Http-Authorization"))
    both = WebhookRequest(
        body=REVIEW_CALLBACK,
        url=CALLBACK,
        headers={"Authorization": "Basic dTpw", "Redirect-Http-Authorization": header},
    )
    verifier().verify(both)


def test_callback_url_setting_overrides_request_url() -> None:
    header = hand_header(without_query())
    verifier(callback_url=CALLBACK).verify(request(header, url="http://10.0.0.5:8000/ia/review"))
    with pytest.raises(SignatureMismatchError):
        verifier().verify(request(header, url="http://10.0.0.5:8000/ia/review"))
    with pytest.raises(MissingSignatureError):
        verifier().verify(request(header, url=None))


def test_time_window_both_ways() -> None:
    for ts in (NOW - 301, NOW + 301):
        with pytest.raises(TimestampOutsideToleranceError):
            verifier().verify(request(hand_header(without_query(), ts=ts)))
    verifier(tolerance=600).verify(request(hand_header(without_query(), ts=NOW - 599)))


def test_replay_guard() -> None:
    guard = InMemoryReplayGuard(clock=FixedClock(NOW))
    v = verifier(replay_guard=guard)
    v.verify(request(hand_header(without_query())))
    with pytest.raises(ReplayedRequestError):
        v.verify(request(hand_header(without_query())))
    v.verify(request(hand_header(without_query(), nonce="other")))


def test_replay_guard_untouched_by_bad_signature() -> None:
    guard = InMemoryReplayGuard(clock=FixedClock(NOW))
    bad = (
        hand_header(without_query())
        .replace(":n0nce:", ":n0nce:")
        .replace("amx " + APP_ID + ":", "amx " + APP_ID + ":A")
    )
    with pytest.raises(MalformedSignatureError):
        verifier(replay_guard=guard).verify(request(bad))
    assert len(guard) == 0


def test_body_is_not_covered_by_the_signature() -> None:
    # Documented limitation: the vendor signs no body hash; confirm_callback() exists for this.
    data = json.loads(REVIEW_CALLBACK)
    data["Status"] = "Valid"
    callback = verifier().verify(request(hand_header(without_query()), body=json.dumps(data).encode()))
    assert callback.participant.status is ParticipantStatus.VALID


def test_verify_then_parse() -> None:
    with pytest.raises(SignatureMismatchError):
        verifier().verify(
            request(
                hand_header(without_query(), nonce="x") + "",
                body=b"\xff not json",
                url=CALLBACK.replace("Review", "Other"),
            )
        )
    with pytest.raises(PayloadError):
        verifier().verify(request(hand_header(without_query()), body=b"\xff not json"))
    with pytest.raises(PayloadError):
        verifier().verify(request(hand_header(without_query()), body=b'{"Status": "Valid"}'))


def test_body_size_limit() -> None:
    with pytest.raises(PayloadTooLargeError):
        verifier(max_body_size=100).verify(request(hand_header(without_query())))


def test_rotation() -> None:
    other = base64.b64encode(bytes(range(100, 132))).decode()
    v = IntegrityAdvocateWebhookVerifier(app_id=APP_ID, api_key=[other, API_KEY], clock=FixedClock(NOW))
    v.verify(request(hand_header(without_query())))


def test_configuration_errors_and_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError):
        IntegrityAdvocateWebhookVerifier(app_id="nope", api_key=API_KEY)
    with pytest.raises(ConfigurationError):
        IntegrityAdvocateWebhookVerifier(app_id=APP_ID, api_key="short")
    with pytest.raises(ConfigurationError):
        IntegrityAdvocateWebhookVerifier(app_id=APP_ID, api_key=API_KEY, tolerance=-1)
    with pytest.raises(ConfigurationError):
        IntegrityAdvocateWebhookVerifier(app_id=APP_ID, api_key=API_KEY, url_forms=[])
    monkeypatch.delenv("EXAMKIT_IA_APP_ID", raising=False)
    with pytest.raises(ConfigurationError) as info:
        IntegrityAdvocateWebhookVerifier.from_env()
    assert info.value.setting == "EXAMKIT_IA_APP_ID"
    monkeypatch.setenv("EXAMKIT_IA_APP_ID", APP_ID)
    monkeypatch.setenv("EXAMKIT_IA_API_KEY", API_KEY)
    v = IntegrityAdvocateWebhookVerifier.from_env(clock=FixedClock(NOW))
    v.verify(request(hand_header(without_query())))
    assert API_KEY not in repr(v)


@given(
    headers=st.dictionaries(
        st.sampled_from(["Authorization", "Redirect-Http-Authorization", "X-Other"]),
        st.text(max_size=120),
        max_size=3,
    )
)
def test_garbage_headers_raise_only_verification_errors(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookVerificationError):
        verifier().verify(WebhookRequest(body=REVIEW_CALLBACK, headers=headers, url=CALLBACK))


@given(body=st.binary(max_size=200))
def test_any_body_after_good_signature_is_payload_or_parsed(body: bytes) -> None:
    with contextlib.suppress(PayloadError):
        verifier().verify(request(hand_header(without_query()), body=body))


# -- issue 14: which key matched, freshness at arrival; issue 18: the public receiver's form ----------


def test_the_public_receivers_form_is_tried_by_default() -> None:
    # The full URL lower-cased, then encodeURIComponent (escapes stay upper-case), computed here.
    upper = urllib.parse.quote(CALLBACK.lower(), safe="!'()*")
    assert "%3F" in upper
    assert upper != with_query()
    callback = verifier().verify(request(hand_header(upper)))
    assert callback.participant.participant_identifier == "XXXXXXXXXXXXX"


def test_verify_detailed_names_the_matching_key() -> None:
    other = base64.b64encode(bytes(range(100, 132))).decode()
    both = IntegrityAdvocateWebhookVerifier(app_id=APP_ID, api_key=[other, API_KEY], clock=FixedClock(NOW))
    detailed = both.verify_detailed(request(hand_header(without_query())))
    assert (detailed.key_index, detailed.key_count) == (1, 2)
    assert detailed.rotation_note == "secret 2 of 2 matched"
    assert detailed.event.participant.participant_identifier == "XXXXXXXXXXXXX"
    first = verifier().verify_detailed(request(hand_header(without_query())))
    assert (first.key_index, first.key_count) == (0, 1)
    with pytest.raises(SignatureMismatchError):
        IntegrityAdvocateWebhookVerifier(app_id=APP_ID, api_key=other, clock=FixedClock(NOW)).verify_detailed(
            request(hand_header(without_query()))
        )


def test_freshness_is_judged_when_the_request_was_received() -> None:
    late = FixedClock(NOW + 3600)  # verified an hour later, from a queue
    queued = WebhookRequest(
        body=REVIEW_CALLBACK,
        headers={"Authorization": hand_header(without_query())},
        url=CALLBACK,
        received_at=NOW + 10,
    )
    verifier(clock=late).verify(queued)
    with pytest.raises(TimestampOutsideToleranceError):
        verifier(clock=late).verify(request(hand_header(without_query())))
    stale = WebhookRequest(
        body=REVIEW_CALLBACK,
        headers={"Authorization": hand_header(without_query())},
        url=CALLBACK,
        received_at=NOW + 301,
    )
    with pytest.raises(TimestampOutsideToleranceError):
        verifier(clock=FixedClock(NOW)).verify(stale)


def test_default_tolerance_is_the_documented_300_seconds() -> None:
    verifier(clock=FixedClock(NOW + 300)).verify(request(hand_header(without_query())))
    with pytest.raises(TimestampOutsideToleranceError):
        verifier(clock=FixedClock(NOW + 301)).verify(request(hand_header(without_query(), nonce="n2")))


class _NaNClock:
    """A clock that answers NaN: no timestamp can be judged fresh against it."""

    def time(self) -> float:
        return float("nan")


def test_a_clock_that_answers_nan_refuses_even_an_authentic_header() -> None:
    # NaN compares false with everything, so "more than the tolerance away" was false too: an
    # authentic header was taken as fresh. Twice: the second call takes the cached-URL fast path.
    broken = verifier(clock=_NaNClock())
    for _ in range(2):
        with pytest.raises(TimestampOutsideToleranceError):
            broken.verify(request(hand_header(without_query())))
    assert verifier().verify(request(hand_header(without_query()))).authorization.nonce == "n0nce"
