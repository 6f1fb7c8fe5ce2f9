"""Which secret matched (KeyRing positions, Verified), and freshness judged at a request's arrival."""

from __future__ import annotations

import hashlib
import hmac
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit import ValidationError, WebhookRequest
from examkit.core import FixedClock, Verified
from examkit.core.signing import KeyRing, credential_fingerprint
from examkit.core.webhook import verification_time

keys = st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=5, unique=True)


@given(keys, st.binary(max_size=200), st.data())
def test_hmac_index_names_the_key_that_signed(
    ring_keys: list[bytes], message: bytes, data: st.DataObject
) -> None:
    position = data.draw(st.integers(0, len(ring_keys) - 1))
    # Independent of KeyRing: the digest from hashlib's HMAC.
    digest = hmac.new(ring_keys[position], message, hashlib.sha256).digest()
    ring = KeyRing(ring_keys)
    found = ring.hmac_index([digest], message)
    # Two keys of a ring may give the same digest only by collision; the first matching position wins.
    assert found is not None
    assert hmac.new(ring_keys[found], message, hashlib.sha256).digest() == digest
    assert found <= position


@given(keys, st.binary(max_size=200))
def test_hmac_index_is_none_when_no_key_signed(ring_keys: list[bytes], message: bytes) -> None:
    wrong = hmac.new(b"\x00not-a-ring-key" * 3, message, hashlib.sha256).digest()
    assert KeyRing(ring_keys).hmac_index([wrong], message) is None


def test_index_of_finds_a_presented_credential_by_position() -> None:
    ring = KeyRing(credential_fingerprint(t) for t in (b"old-token", b"new-token"))
    assert ring.index_of(b"new-token") == 1
    assert ring.index_of(b"old-token") == 0
    assert ring.index_of(b"other") is None


def test_verified_says_which_secret_matched_without_holding_one() -> None:
    result = Verified(event={"id": 1}, key_index=1, key_count=2)
    assert result.rotation_note == "secret 2 of 2 matched"
    assert Verified(event=None).rotation_note == ""
    assert pickle.loads(pickle.dumps(result)) == result  # noqa: S301 - our own bytes


def test_freshness_is_judged_at_arrival_when_it_is_known() -> None:
    clock = FixedClock(2_000_000_000)
    assert verification_time(WebhookRequest(body=b"{}"), clock) == 2_000_000_000
    late = WebhookRequest(body=b"{}", received_at=1_700_000_000)
    assert verification_time(late, clock) == 1_700_000_000.0


@pytest.mark.parametrize("bad", ["1700000000", float("nan"), float("inf"), True, object()])
def test_received_at_must_be_a_finite_time(bad: object) -> None:
    with pytest.raises(ValidationError, match="received_at"):
        WebhookRequest(body=b"{}", received_at=bad)  # type: ignore[arg-type]
