"""KeyRing's HMAC from padded key states prepared once: the same digests as RFC 4231 and hmac.digest."""

from __future__ import annotations

import hmac

import pytest

from examkit.core.signing import HashAlgorithm, KeyRing
from tests.core.test_signing import RFC4231


@pytest.mark.parametrize(("key", "data", "sha256", "sha512"), RFC4231)
def test_rfc4231_vectors_through_a_ring(key: bytes, data: bytes, sha256: str, sha512: str) -> None:
    ring = KeyRing([key])
    cases: tuple[tuple[HashAlgorithm, str], ...] = (("sha256", sha256), ("sha512", sha512))
    for algorithm, expected in cases:
        digest = bytes.fromhex(expected)
        for _ in range(2):  # the first call prepares the key, the second reuses what was prepared
            assert ring.hmac_index([digest], data, algorithm) == 0
            assert ring.hmac_matching([digest], data, algorithm) == digest
            assert ring.hmac_index_per_key(digest, [data], algorithm) == 0
        wrong = bytes([digest[0] ^ 1]) + digest[1:]
        assert ring.hmac_index([wrong], data, algorithm) is None


@pytest.mark.parametrize("split", [0, 1, 4, 27, 28])
def test_a_prefix_is_signed_as_if_joined_to_the_message(split: int) -> None:
    # RFC 4231 case 2, the data cut in two at ``split``: the same HMAC as the whole.
    data = b"what do ya want for nothing?"
    digest = bytes.fromhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    ring = KeyRing([b"Jefe"])
    assert ring.hmac_index([digest], data[split:], prefix=data[:split]) == 0
    assert ring.hmac_matching([digest], data[split:], prefix=data[:split]) == digest
    assert ring.hmac_index([digest], data[split:], prefix=data[:split] + b"x") is None


# Around each algorithm's block size (64 bytes for SHA-256, 128 for SHA-512), where HMAC either pads
# the key or hashes it first; and the empty key, which HMAC allows.
KEY_LENGTHS = (0, 1, 20, 63, 64, 65, 127, 128, 129, 300)


@pytest.mark.parametrize("algorithm", ["sha256", "sha512"])
def test_every_key_length_matches_the_standard_library(algorithm: HashAlgorithm) -> None:
    keys = [bytes((i * 7 + n) % 256 for i in range(n)) for n in KEY_LENGTHS]
    ring = KeyRing(keys)
    message = b"t=1700000000." + bytes(range(256)) * 9
    for position, key in enumerate(keys):
        digest = hmac.digest(key, message, algorithm)
        assert ring.hmac_index([b"\0" * len(digest), digest], message, algorithm) == position
        assert ring.hmac_index([digest], message[13:], algorithm, prefix=message[:13]) == position
        messages = [message + b"other"] * len(keys)
        messages[position] = message
        assert ring.hmac_index_per_key(digest, messages, algorithm) == position


def test_the_first_matching_key_is_reported_when_two_keys_are_equal() -> None:
    digest = hmac.digest(b"same", b"msg", "sha256")
    assert KeyRing([b"other", b"same", b"same"]).hmac_index([digest], b"msg") == 1


def test_the_prepared_states_do_not_show_the_keys() -> None:
    ring = KeyRing([b"a-secret-key-value"])
    ring.hmac_index([b"\0" * 32], b"msg")
    assert "a-secret-key-value" not in repr(ring)
    assert "a-secret-key-value" not in repr(vars(ring))
