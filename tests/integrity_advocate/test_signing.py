"""amx signing: the research sheet's vector, hand-built HMACs, credential checks and properties."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.clock import FixedClock
from examkit.core.encoding import PercentEncoding
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    ReplayedRequestError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
    ValidationError,
    WebhookVerificationError,
)
from examkit.core.webhook import InMemoryReplayGuard
from examkit.integrity_advocate import AmxVerifier, CanonicalForm, CanonicalStyle, sign_request
from examkit.integrity_advocate.signing import (
    _fast_canonical,
    _fast_parse,
    _general_canonical,
    canonical_uri,
    parse_authorization,
)
from examkit.integrity_advocate.webhooks import verify_authorization

# Test vector from shared/research/integrity-advocate.md §2 (from the vendor plugin's steps).
APP_ID = "00000000-1111-2222-3333-444444444444"
API_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
URL = "https://ca.integrityadvocateserver.com/api/course/6120/participants"
VECTOR_CANONICAL = "https%3a%2f%2fca.integrityadvocateserver.com%2fapi%2fcourse%2f6120%2fparticipants"
VECTOR_SIGNATURE = "5Vd/DzGOB8f/MlDwDpFhbwv8R4V7a+TKWfnCVrMBUKU="
VECTOR_UPPER_ESCAPES = "ro7HUWCn0NtxN5nnZrp0AyxuHWyQ/127gz5GSfG82yk="
NOW = 1_700_000_000
KEY_BYTES = bytes(range(32))


def hand_signature(message: str, key: bytes = KEY_BYTES) -> str:
    return base64.b64encode(hmac.new(key, message.encode(), hashlib.sha256).digest()).decode()


def test_research_sheet_vector() -> None:
    header = sign_request(
        app_id=APP_ID,
        api_key=API_KEY,
        method="GET",
        url=URL,
        timestamp=1700000000,
        nonce="1700000000123456",
    )
    assert header == f"amx {APP_ID}:{VECTOR_SIGNATURE}:1700000000123456:1700000000"


def test_research_sheet_canonical_uri() -> None:
    assert canonical_uri(URL) == VECTOR_CANONICAL


def test_research_sheet_upper_case_escape_vector() -> None:
    form = CanonicalForm(
        style=CanonicalStyle.LOWER_THEN_ENCODE, encoding=PercentEncoding.ENCODE_URI_COMPONENT
    )
    header = sign_request(
        app_id=APP_ID,
        api_key=API_KEY,
        method="GET",
        url=URL,
        timestamp=1700000000,
        nonce="1700000000123456",
        form=form,
    )
    assert header.split(":")[1] == VECTOR_UPPER_ESCAPES


def test_query_string_is_not_signed() -> None:
    header = sign_request(
        app_id=APP_ID,
        api_key=API_KEY,
        method="get",
        url=URL + "?limit=5&nexttoken=%7B%22a%22%7D",
        timestamp=1700000000,
        nonce="1700000000123456",
    )
    assert header == f"amx {APP_ID}:{VECTOR_SIGNATURE}:1700000000123456:1700000000"


def test_hand_built_patch_signature() -> None:
    url = "https://ca.integrityadvocateserver.com/api/participant/Ab~1-C%202"
    canonical = "https%3a%2f%2fca.integrityadvocateserver.com%2fapi%2fparticipant%2fab%7e1-c%25202"
    expected = hand_signature(APP_ID + "PATCH" + canonical + "1700000123" + "n-1")
    header = sign_request(
        app_id=APP_ID, api_key=API_KEY, method="PATCH", url=url, timestamp=1700000123, nonce="n-1"
    )
    assert header == f"amx {APP_ID}:{expected}:n-1:1700000123"


def test_lower_only_form() -> None:
    form = CanonicalForm(style=CanonicalStyle.LOWER_ONLY)
    expected = hand_signature(APP_ID + "GET" + URL.lower() + "1700000000" + "x")
    assert (
        sign_request(
            app_id=APP_ID,
            api_key=API_KEY,
            method="GET",
            url=URL,
            timestamp=NOW,
            nonce="x",
            form=form,
        ).split(":")[1]
        == expected
    )


def test_sign_request_is_pure_the_time_and_nonce_are_given() -> None:
    # signing.py holds pure functions: no clock and no random source behind the caller's back.
    import inspect

    parameters = inspect.signature(sign_request).parameters
    assert parameters["timestamp"].default is inspect.Parameter.empty
    assert parameters["nonce"].default is inspect.Parameter.empty

    def sign(nonce: str) -> str:
        return sign_request(
            app_id=APP_ID, api_key=API_KEY, method="GET", url=URL, timestamp=1_700_000_000, nonce=nonce
        )

    assert sign("n-1") == sign("n-1")
    assert sign("n-1") != sign("n-2")
    auth = parse_authorization(sign("n-1"))
    assert (auth.nonce, auth.timestamp) == ("n-1", 1_700_000_000)


@pytest.mark.parametrize(
    "app_id",
    [
        "",
        "not-a-guid",
        "00000000-1111-2222-3333-44444444444",
        "g0000000-1111-2222-3333-444444444444",
    ],
)
def test_bad_app_id_is_configuration_error(app_id: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        sign_request(app_id=app_id, api_key=API_KEY, method="GET", url=URL, timestamp=NOW, nonce="n")
    assert info.value.setting == "app_id"


def test_app_id_forms_accepted() -> None:
    for form in (
        "{00000000-1111-2222-3333-444444444444}",
        "00000000111122223333444444444444",
        "ABCDEF00-1111-2222-3333-444444444444",
    ):
        sign_request(app_id=form, api_key=API_KEY, method="GET", url=URL, timestamp=NOW, nonce="n")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd",  # 40 characters: too short
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=AAECAwQF",  # 52 characters: too long
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",  # missing padding
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd-h8=",  # URL-safe alphabet
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8*",
    ],
)
def test_bad_api_key_is_configuration_error_without_the_key(key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        sign_request(app_id=APP_ID, api_key=key, method="GET", url=URL, timestamp=NOW, nonce="n")
    assert info.value.setting == "api_key"
    if key:
        assert key not in str(info.value)


@pytest.mark.parametrize("nonce", ["", "a:b", " a", "é", "a\nb"])
def test_bad_nonce_is_validation_error(nonce: str) -> None:
    with pytest.raises(ValidationError):
        sign_request(app_id=APP_ID, api_key=API_KEY, method="GET", url=URL, timestamp=NOW, nonce=nonce)


@pytest.mark.parametrize("timestamp", [-1, 10**12, True, 1.5])
def test_bad_timestamp_is_validation_error(timestamp: Any) -> None:
    with pytest.raises(ValidationError):
        sign_request(app_id=APP_ID, api_key=API_KEY, method="GET", url=URL, timestamp=timestamp, nonce="n")


def verify(header: str | None, *, method: str = "GET", url: str = URL, **kw: object) -> object:
    return verify_authorization(
        header,
        app_id=APP_ID,
        api_key=API_KEY,
        method=method,
        url=url,
        clock=FixedClock(NOW),
        **kw,  # type: ignore[arg-type]
    )


def test_verify_accepts_the_vector_at_its_time() -> None:
    auth = verify(f"amx {APP_ID}:{VECTOR_SIGNATURE}:1700000000123456:1700000000")
    assert auth.nonce == "1700000000123456"  # type: ignore[attr-defined]
    assert auth.timestamp == NOW  # type: ignore[attr-defined]


def test_verify_errors() -> None:
    good = f"amx {APP_ID}:{VECTOR_SIGNATURE}:1700000000123456:1700000000"
    with pytest.raises(MissingSignatureError):
        verify(None)
    with pytest.raises(MalformedSignatureError):
        verify("Bearer abc")
    with pytest.raises(MalformedSignatureError):
        verify(good + ":extra")
    with pytest.raises(SignatureMismatchError):
        verify(good, method="POST")
    with pytest.raises(SignatureMismatchError):
        verify(good.replace("0000-1111", "0000-1112"))
    with pytest.raises(TimestampOutsideToleranceError):
        verify_authorization(
            good, app_id=APP_ID, api_key=API_KEY, method="GET", url=URL, clock=FixedClock(NOW + 301)
        )
    with pytest.raises(TimestampOutsideToleranceError):
        verify_authorization(
            good, app_id=APP_ID, api_key=API_KEY, method="GET", url=URL, clock=FixedClock(NOW - 301)
        )
    verify_authorization(
        good, app_id=APP_ID, api_key=API_KEY, method="GET", url=URL, clock=FixedClock(NOW + 300)
    )


def test_verify_rotation_and_replay() -> None:
    other = base64.b64encode(bytes(range(1, 33))).decode()
    good = f"amx {APP_ID}:{VECTOR_SIGNATURE}:1700000000123456:1700000000"
    guard = InMemoryReplayGuard(clock=FixedClock(NOW))
    verifier = AmxVerifier(app_id=APP_ID, api_key=[other, API_KEY], clock=FixedClock(NOW), replay_guard=guard)
    verifier.verify(good, method="GET", url=URL)
    with pytest.raises(ReplayedRequestError):
        verifier.verify(good, method="GET", url=URL)
    with pytest.raises(SignatureMismatchError):
        AmxVerifier(app_id=APP_ID, api_key=other, clock=FixedClock(NOW)).verify(good, method="GET", url=URL)


# -- properties ---------------------------------------------------------------------------------

methods = st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE", "get", "Patch"])
path_text = st.text(alphabet=string.ascii_letters + string.digits + "-._~%!*'() éü", min_size=0, max_size=30)
urls = st.builds(
    lambda host, path, query: f"https://{host}/api/{path}" + (f"?{query}" if query else ""),
    st.sampled_from(["ca.integrityadvocateserver.com", "lms.example.org:8443"]),
    path_text,
    st.text(alphabet=string.ascii_letters + "=&%", max_size=20),
)
nonces = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
    min_size=1,
    max_size=40,
)
timestamps = st.integers(min_value=NOW - 300, max_value=NOW + 300)


@given(method=methods, url=urls, nonce=nonces, timestamp=timestamps)
def test_sign_then_verify_round_trip(method: str, url: str, nonce: str, timestamp: int) -> None:
    header = sign_request(
        app_id=APP_ID, api_key=API_KEY, method=method, url=url, timestamp=timestamp, nonce=nonce
    )
    auth = verify(header, method=method, url=url)
    assert auth.nonce == nonce  # type: ignore[attr-defined]


@given(method=methods, url=urls, nonce=nonces, timestamp=timestamps, data=st.data())
def test_any_change_is_rejected(
    method: str, url: str, nonce: str, timestamp: int, data: st.DataObject
) -> None:
    header = sign_request(
        app_id=APP_ID, api_key=API_KEY, method=method, url=url, timestamp=timestamp, nonce=nonce
    )
    scheme_app, signature, _, _ = header.split(":")
    what = data.draw(st.sampled_from(["app_id", "method", "path", "timestamp", "nonce"]))
    if what == "app_id":
        tampered = header.replace(APP_ID, APP_ID[:-1] + "5")
        with pytest.raises(SignatureMismatchError):
            verify(tampered, method=method, url=url)
        return
    if what == "method":
        other = data.draw(st.sampled_from(["GET", "POST", "PATCH"]).filter(lambda m: m != method.upper()))
        with pytest.raises(SignatureMismatchError):
            verify(header, method=other, url=url)
        return
    if what == "path":
        base, _, query = url.partition("?")
        changed = base + data.draw(st.sampled_from(["x", "/", "Z9"])) + ("?" + query if query else "")
        with pytest.raises(SignatureMismatchError):
            verify(header, method=method, url=changed)
        return
    if what == "timestamp":
        delta = data.draw(st.integers(min_value=-5, max_value=5).filter(bool))
        tampered = f"{scheme_app}:{signature}:{nonce}:{timestamp + delta}"
    else:
        tampered = f"{scheme_app}:{signature}:{nonce}x:{timestamp}"
    with pytest.raises(SignatureMismatchError):
        verify(tampered, method=method, url=url)


@given(
    header=st.one_of(st.none(), st.text(max_size=200), st.binary(max_size=50).map(lambda b: "amx " + b.hex()))
)
def test_garbage_headers_raise_only_verification_errors(header: str | None) -> None:
    with pytest.raises(WebhookVerificationError):
        verify(header)


@given(
    app=st.text(max_size=40),
    sig=st.text(max_size=60),
    nonce=st.text(max_size=20),
    ts=st.text(max_size=14),
)
def test_garbage_amx_parts_raise_only_verification_errors(app: str, sig: str, nonce: str, ts: str) -> None:
    with pytest.raises(WebhookVerificationError):
        verify(f"amx {app}:{sig}:{nonce}:{ts}")


# -- the canonical-URI fast path agrees with the general one (issue 14) ---------------------------

ALL_FORMS = [
    CanonicalForm(include_query=q, style=style, encoding=encoding)
    for q in (False, True)
    for style in CanonicalStyle
    for encoding in PercentEncoding
]
URL_TEXT = st.text(
    alphabet=st.sampled_from("aZ09._-/:?=&#%+ ~!*'()@é\u2028") | st.characters(codec="utf-8"), max_size=60
)


@given(
    st.one_of(
        URL_TEXT,
        st.from_regex(r"\Ahttps?://[A-Za-z0-9.-]{1,20}(/[A-Za-z0-9._-]{0,8}){0,4}(\?[a-z=&0-9]{0,12})?\Z"),
    )
)
def test_fast_canonical_agrees_with_the_general_encoder(url: str) -> None:
    for form in ALL_FORMS:
        fast = _fast_canonical(url, form)
        assert fast is None or fast == _general_canonical(url, form), (url, form)


def test_fast_canonical_takes_the_usual_urls() -> None:
    # The property above must not be vacuous: ordinary callback URLs take the fast path.
    url = "https://LMS.example.org/ia/Review?id=7&x=1"
    for form in ALL_FORMS:
        if form.encoding is not PercentEncoding.PYTHON_QUOTE:
            assert _fast_canonical(url, form) is not None, form
    assert _fast_canonical(url, CanonicalForm()) == "https%3a%2f%2flms.example.org%2fia%2freview"
    assert _fast_canonical("https://x.org/a b", CanonicalForm()) is None


def test_public_enums_print_as_the_vendors_value() -> None:
    assert str(CanonicalStyle.LOWER_ONLY) == "lower_only"
    assert f"{CanonicalStyle.ENCODE_THEN_LOWER}" == "encode_then_lower"


# -- the header's fast parser agrees with the general one (issue 14) -----------------------------

HEADER_PARTS = st.text(alphabet=st.sampled_from("aA0-{}:;~ =+/\t"), min_size=0, max_size=12)


@given(
    app=st.one_of(st.just(APP_ID), HEADER_PARTS),
    digest=st.binary(min_size=31, max_size=33),
    nonce=HEADER_PARTS,
    timestamp=st.one_of(st.integers(min_value=-5, max_value=10**13).map(str), HEADER_PARTS),
    scheme=st.sampled_from(["amx", "AMX", "Amx", "amx ", "hmac"]),
)
def test_fast_header_parse_agrees_with_the_general_parser(
    app: str, digest: bytes, nonce: str, timestamp: str, scheme: str
) -> None:
    value = f"{scheme} {app}:{base64.b64encode(digest).decode()}:{nonce}:{timestamp}"
    fast = _fast_parse(value)
    if fast is not None:
        assert fast == parse_authorization(value)


def test_fast_header_parse_takes_a_signed_header() -> None:
    header = sign_request(app_id=APP_ID, api_key=API_KEY, method="GET", url=URL, timestamp=NOW, nonce="n-1")
    assert _fast_parse(header) == parse_authorization(header)
    assert _fast_parse(header) is not None


@given(position=st.integers(min_value=0, max_value=3), count=st.integers(min_value=1, max_value=4))
def test_verify_detailed_reports_the_position_of_the_key_that_signed(position: int, count: int) -> None:
    position %= count
    keys = [base64.b64encode(bytes([i + 1]) * 32).decode() for i in range(count)]
    header = sign_request(
        app_id=APP_ID, api_key=keys[position], method="GET", url=URL, timestamp=NOW, nonce="1700000000123456"
    )
    verified = AmxVerifier(app_id=APP_ID, api_key=keys, clock=FixedClock(NOW)).verify_detailed(
        header, method="GET", url=URL
    )
    assert (verified.key_index, verified.key_count) == (position, count)


def test_urls_that_differ_only_in_a_query_not_signed_share_one_cached_canonical_form() -> None:
    # Each page of a listing differs only in its query (nexttoken=...): without the query cut
    # before the cache, every page took an entry of the 512 and held its URL and encoded form.
    from examkit.integrity_advocate.signing import _canonicalize

    base = "https://ca.integrityadvocateserver.com/api/course/6120/participants"
    expected = "https%3a%2f%2fca.integrityadvocateserver.com%2fapi%2fcourse%2f6120%2fparticipants"
    canonical_uri(base)
    before = _canonicalize.cache_info()
    assert {canonical_uri(f"{base}?limit=10&nexttoken={n}") for n in range(600)} == {expected}
    after = _canonicalize.cache_info()
    assert after.currsize == before.currsize
    assert after.hits - before.hits == 600
