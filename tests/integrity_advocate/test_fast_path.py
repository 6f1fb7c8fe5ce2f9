"""The amx verifier's one-pass fast path accepts only what the general path accepts, with the same result."""

from __future__ import annotations

import base64
import pickle

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from examkit.core.clock import FixedClock
from examkit.core.errors import ValidationError, WebhookVerificationError
from examkit.integrity_advocate import AmxAuthorization, AmxVerifier, sign_request
from examkit.integrity_advocate.webhooks import _authorization

APP_ID = "00000000-1111-2222-3333-444444444444"
KEY = base64.b64encode(bytes(range(32))).decode("ascii")
OTHER_KEY = base64.b64encode(bytes(range(1, 33))).decode("ascii")
URL = "https://lms.example.edu/examkit/ia/review-callback"
NOW = 1_700_000_000


class _GeneralOnly(AmxVerifier):
    """The same verifier with its fast path switched off."""

    __slots__ = ()

    def _fast_authentic(self, value: object, method: object, url: object, now: float) -> None:
        return None


def _general(keys: list[str], value: object, method: object, url: object) -> object:
    """The general path's verdict: the parsed header and key index, or the error's class and reason."""
    verifier = _GeneralOnly(app_id=APP_ID, api_key=keys, clock=FixedClock(NOW))
    try:
        return verifier._authentic(value, method=method, url=url, header="Authorization", now=NOW)  # type: ignore[arg-type]
    except (WebhookVerificationError, ValidationError) as exc:
        return (type(exc), exc.reason)


def _verifier(keys: list[str]) -> AmxVerifier:
    verifier = AmxVerifier(app_id=APP_ID, api_key=keys, clock=FixedClock(NOW))
    verifier._canonical_forms(URL)  # what the first request does: the fast path needs the cached form
    return verifier


_header = st.builds(
    lambda key, method, url, ts, nonce: sign_request(
        app_id=APP_ID, api_key=key, method=method, url=url, timestamp=ts, nonce=nonce
    ),
    st.sampled_from([KEY, OTHER_KEY]),
    st.sampled_from(["POST", "GET", "post", "PUT"]),
    st.sampled_from([URL, URL + "?x=1", "https://other.example/cb"]),
    st.integers(NOW - 400, NOW + 400),
    st.sampled_from(["5e6f7a8b9c0d1e2f", "n", "abc-DEF_1"]),
)


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        _header,
        _header.map(lambda v: v.replace("amx", "AMX", 1)),
        _header.map(lambda v: v.replace(APP_ID, APP_ID.upper())),
        _header.map(lambda v: v[:-1]),
        _header.map(lambda v: v + " "),
        st.text(max_size=40),
        st.none(),
    ),
    method=st.one_of(st.sampled_from(["POST", "GET", "post", "PUT", "TRACE"]), st.just(["POST"])),
    url=st.sampled_from([URL, URL + "?x=1", "https://other.example/cb"]),
    keys=st.sampled_from([[KEY], [OTHER_KEY, KEY], [OTHER_KEY]]),
)
def test_fast_path_agrees_with_the_general_path(
    value: object, method: object, url: str, keys: list[str]
) -> None:
    verifier = _verifier(keys)
    fast = verifier._fast_authentic(value, method, url, NOW)
    general = _general(keys, value, method, url)
    if fast is not None:
        assert fast == general
        assert verifier._authentic(value, method=method, url=url, header="Authorization", now=NOW) == fast  # type: ignore[arg-type]


def test_fast_path_takes_the_common_request() -> None:
    verifier = _verifier([KEY])
    value = sign_request(app_id=APP_ID, api_key=KEY, method="POST", url=URL, timestamp=NOW, nonce="n1")
    fast = verifier._fast_authentic(value, "POST", URL, NOW)
    assert fast is not None
    auth, index = fast
    assert (auth.app_id, auth.nonce, auth.timestamp, auth.timestamp_text, index) == (
        APP_ID,
        "n1",
        NOW,
        str(NOW),
        0,
    )
    assert verifier.verify(value, method="POST", url=URL) == auth


@pytest.mark.parametrize("ts", [NOW - 301, NOW + 301])
def test_fast_path_leaves_a_stale_request_to_the_general_path(ts: int) -> None:
    verifier = _verifier([KEY])
    value = sign_request(app_id=APP_ID, api_key=KEY, method="POST", url=URL, timestamp=ts, nonce="n1")
    assert verifier._fast_authentic(value, "POST", URL, NOW) is None
    with pytest.raises(WebhookVerificationError):
        verifier.verify(value, method="POST", url=URL)


def test_the_fast_path_builds_the_same_parsed_header_as_the_class() -> None:
    digest = bytes(range(32))
    built = _authorization(APP_ID, digest, "5e6f7a8b9c0d1e2f", NOW, str(NOW))
    expected = AmxAuthorization(
        app_id=APP_ID, signature=digest, nonce="5e6f7a8b9c0d1e2f", timestamp=NOW, timestamp_text=str(NOW)
    )
    assert type(built) is AmxAuthorization
    assert built == expected
    assert hash(built) == hash(expected)
    assert repr(built) == repr(expected)
    assert attrs.asdict(built) == {
        "app_id": APP_ID,
        "signature": digest,
        "nonce": "5e6f7a8b9c0d1e2f",
        "timestamp": NOW,
        "timestamp_text": "1700000000",
    }
    assert pickle.loads(pickle.dumps(built)) == expected  # noqa: S301 - bytes this test made
    assert attrs.evolve(built, nonce="other").nonce == "other"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.nonce = "changed"  # type: ignore[misc]


def test_verify_returns_the_parsed_header() -> None:
    value = sign_request(app_id=APP_ID, api_key=KEY, method="POST", url=URL, timestamp=NOW, nonce="n-1")
    auth = _verifier([KEY]).verify(value, method="POST", url=URL)
    assert (auth.app_id, auth.nonce, auth.timestamp, auth.timestamp_text) == (
        APP_ID,
        "n-1",
        NOW,
        "1700000000",
    )
    assert auth.signature == base64.b64decode(value.split(":")[1])


@pytest.mark.parametrize("cached", [False, True], ids=["first request (general path)", "fast path"])
@pytest.mark.parametrize("key", [KEY, OTHER_KEY], ids=["matching key", "other key"])
def test_the_parsed_header_is_built_only_once_the_signature_matched(cached: bool, key: str) -> None:
    built: list[tuple[object, ...]] = []

    def counting(*fields: object) -> AmxAuthorization:
        built.append(fields)
        return _authorization(*fields)  # type: ignore[arg-type]

    value = sign_request(app_id=APP_ID, api_key=key, method="POST", url=URL, timestamp=NOW, nonce="n-2")
    verifier = (
        _verifier([KEY]) if cached else AmxVerifier(app_id=APP_ID, api_key=[KEY], clock=FixedClock(NOW))
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("examkit.integrity_advocate.webhooks._authorization", counting)
        if key == KEY:
            assert verifier.verify(value, method="POST", url=URL).nonce == "n-2"
            assert len(built) == 1
        else:
            with pytest.raises(WebhookVerificationError, match="the amx signature does not match"):
                verifier.verify(value, method="POST", url=URL)
            assert built == []
