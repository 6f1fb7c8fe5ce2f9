"""KeyRing.hmac_index_per_key: each key with its own message, every key tried, the position returned."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.signing import KeyRing

KEYS = st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=6, unique=True)


@given(keys=KEYS, data=st.data())
def test_the_position_is_the_first_key_whose_own_message_gives_the_candidate(
    keys: list[bytes], data: st.DataObject
) -> None:
    messages = data.draw(st.lists(st.binary(max_size=60), min_size=len(keys), max_size=len(keys)))
    signer = data.draw(st.integers(min_value=0, max_value=len(keys) - 1))
    # Written independently with hashlib's HMAC object, not hmac.digest.
    candidate = hmac.new(keys[signer], messages[signer], hashlib.sha512).digest()
    expected = next(
        i
        for i, (k, m) in enumerate(zip(keys, messages, strict=True))
        if hmac.new(k, m, "sha512").digest() == candidate
    )
    assert KeyRing(keys).hmac_index_per_key(candidate, messages, "sha512") == expected


@given(keys=KEYS, data=st.data())
def test_a_key_with_another_keys_message_does_not_match(keys: list[bytes], data: st.DataObject) -> None:
    if len(keys) < 2:
        return
    messages = [b"message for key %d" % i for i in range(len(keys))]
    signer = data.draw(st.integers(min_value=0, max_value=len(keys) - 1))
    other = (signer + 1) % len(keys)
    candidate = hmac.new(keys[signer], messages[other], hashlib.sha256).digest()
    assert KeyRing(keys).hmac_index_per_key(candidate, messages) is None


def test_every_key_is_tried_even_after_a_match() -> None:
    compared: list[tuple[bytes, bytes]] = []
    keys = [b"first", b"second", b"third"]
    messages = [b"m1", b"m2", b"m3"]
    candidate = hmac.digest(b"first", b"m1", "sha256")
    original = hmac.compare_digest

    def compare(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return original(a, b)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("examkit.core.signing.hmac.compare_digest", compare)
        assert KeyRing(keys).hmac_index_per_key(candidate, messages) == 0
    # No early exit: the match on the first key does not stop the loop; each key's own digest is compared.
    assert [b for _, b in compared] == [
        hmac.digest(k, m, "sha256") for k, m in zip(keys, messages, strict=True)
    ]


def test_one_message_per_key_is_required() -> None:
    with pytest.raises(ValueError, match="2 messages for 3 keys"):
        KeyRing([b"a", b"b", b"c"]).hmac_index_per_key(b"x" * 32, [b"1", b"2"])
