"""Tests for examkit.core.signing: RFC 4231 vectors, strict decoding, rotation, secrets."""

from __future__ import annotations

import base64
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    SignatureMismatchError,
    WebhookVerificationError,
)
from examkit.core.signing import (
    HashAlgorithm,
    Secret,
    credential_fingerprint,
    credential_matches,
    decode_base64_key,
    decode_signature,
    hmac_digest,
    hmac_sha256,
    hmac_sha512,
    matches_any,
    secrets_from,
    sign,
    to_base64,
    to_hex,
    verify_signature,
)

# RFC 4231, "Identifiers and Test Vectors for HMAC-SHA-224, HMAC-SHA-256, HMAC-SHA-384, and
# HMAC-SHA-512", section 4. Keys, data and expected outputs copied from the RFC text.
RFC4231 = [
    pytest.param(
        b"\x0b" * 20,
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
        "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
        id="case-1",
    ),
    pytest.param(
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        id="case-2",
    ),
    pytest.param(
        b"\xaa" * 20,
        b"\xdd" * 50,
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
        "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
        id="case-3",
    ),
    pytest.param(
        bytes(range(1, 26)),
        b"\xcd" * 50,
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
        "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
        id="case-4",
    ),
    pytest.param(
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
        "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
        id="case-6",
    ),
    pytest.param(
        b"\xaa" * 131,
        b"This is a test using a larger than block-size key and a larger than block-size data. "
        b"The key needs to be hashed before being used by the HMAC algorithm.",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
        "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
        id="case-7",
    ),
]


@pytest.mark.parametrize(("key", "data", "sha256", "sha512"), RFC4231)
def test_rfc4231_vectors(key: bytes, data: bytes, sha256: str, sha512: str) -> None:
    assert hmac_sha256(key, data).hex() == sha256
    assert hmac_sha512(key, data).hex() == sha512
    assert hmac_digest(key, data, "sha256").hex() == sha256
    assert hmac_digest(key, data, "sha512").hex() == sha512
    assert sign(key, data, algorithm="sha512", encoding="hex") == sha512
    assert sign(key, data, encoding="base64") == base64.b64encode(bytes.fromhex(sha256)).decode()


def test_rfc4231_case_5_truncated_outputs() -> None:
    # Case 5 publishes only the first 128 bits of each output.
    key, data = b"\x0c" * 20, b"Test With Truncation"
    assert hmac_sha256(key, data).hex()[:32] == "a3b6167473100ee06e0c796c2955552b"
    assert hmac_sha512(key, data).hex()[:32] == "415fad6271580a531d4179bc891d87a6"


@pytest.mark.parametrize(("key", "data", "sha256", "sha512"), RFC4231)
def test_verify_accepts_rfc_vectors_in_any_case_and_encoding(
    key: bytes, data: bytes, sha256: str, sha512: str
) -> None:
    secret = Secret(key)
    verify_signature(secrets=[secret], message=data, signature=sha256)
    verify_signature(secrets=[secret], message=data, signature=sha256.upper())
    verify_signature(secrets=[secret], message=data, signature=sha512, algorithm="sha512")
    b64 = base64.b64encode(bytes.fromhex(sha512)).decode()
    verify_signature(secrets=[secret], message=data, signature=b64, algorithm="sha512", encoding="base64")


def test_encoders() -> None:
    assert to_hex(b"\x00\xff") == "00ff"
    assert to_base64(b"\x00\xff") == "AP8="


class TestDecodeSignature:
    def test_hex_any_case(self) -> None:
        assert decode_signature("AB" * 32, encoding="hex") == b"\xab" * 32
        assert decode_signature(b"ab" * 32, encoding="hex") == b"\xab" * 32

    def test_surrounding_whitespace_is_ignored(self) -> None:
        assert decode_signature(" " + "00" * 32 + "\n", encoding="hex") == b"\x00" * 32

    def test_base64_standard_and_urlsafe(self) -> None:
        digest = bytes([0xFB, 0xFF] * 16)
        assert decode_signature(base64.b64encode(digest).decode(), encoding="base64") == digest
        assert decode_signature(base64.urlsafe_b64encode(digest).decode(), encoding="base64") == digest

    @pytest.mark.parametrize(
        ("signature", "encoding", "reason"),
        [
            ("", "hex", "empty"),
            ("ab" * 31, "hex", "expected 64 hex characters, got 62"),
            ("zz" * 32, "hex", "not hex digits"),
            ("é" * 64, "hex", "non-ASCII"),
            ("0x" + "ab" * 31, "hex", "not hex digits"),
            ("AAAA", "base64", "expected 32 bytes once decoded, got 3"),
            ("A" * 43, "base64", "padding"),
            ("!!!!" * 11, "base64", "not base64"),
            ("ab+/_-" * 8, "base64", "not base64"),
        ],
    )
    def test_malformed(self, signature: str, encoding: str, reason: str) -> None:
        with pytest.raises(MalformedSignatureError) as info:
            decode_signature(signature, encoding=encoding, header="X-Sig")  # type: ignore[arg-type]
        assert reason in str(info.value)
        assert info.value.header == "X-Sig"
        assert "X-Sig" in str(info.value)

    def test_wrong_type(self) -> None:
        with pytest.raises(MalformedSignatureError, match="expected text"):
            decode_signature(123, encoding="hex")  # type: ignore[arg-type]

    def test_sha512_length(self) -> None:
        with pytest.raises(MalformedSignatureError, match="128 hex characters"):
            decode_signature("ab" * 32, encoding="hex", algorithm="sha512")


class TestVerifySignature:
    def test_mismatch_message_says_what_to_check_and_hides_expected(self) -> None:
        secret = Secret("s3cret-value")
        expected = sign(secret.key, b"body")
        with pytest.raises(SignatureMismatchError) as info:
            verify_signature(secrets=[secret], message=b"Body", signature=expected, vendor="itep")
        text = str(info.value)
        assert "secret" in text
        assert "exactly as received" in text
        assert sign(secret.key, b"Body") not in text
        assert "s3cret-value" not in text
        assert info.value.vendor == "itep"
        assert isinstance(info.value, ValueError)

    def test_rotation_any_secret_matches(self) -> None:
        old, new = Secret("old-secret"), Secret("new-secret")
        for signer in (old, new):
            verify_signature(secrets=[new, old], message=b"m", signature=sign(signer.key, b"m"))
        with pytest.raises(SignatureMismatchError):
            verify_signature(secrets=[new], message=b"m", signature=sign(old.key, b"m"))

    def test_matches_any_compares_all(self) -> None:
        assert matches_any(b"x", [b"a", b"x", b"b"])
        assert not matches_any(b"x", [b"a", b"b"])
        assert not matches_any(b"x", [])


class TestSecret:
    def test_never_shows_value(self) -> None:
        secret = Secret("top-secret-value", name="api_key")
        assert "top-secret-value" not in repr(secret)
        assert "top-secret-value" not in str(secret)
        assert "top-secret-value" not in f"{secret}"
        assert "top-secret-value" not in repr([secret])
        assert secret.reveal() == "top-secret-value"
        assert secret.key == b"top-secret-value"

    def test_not_picklable(self) -> None:
        with pytest.raises(ConfigurationError, match="cannot be pickled"):
            pickle.dumps(Secret("abcdef"))

    def test_equality_by_key(self) -> None:
        assert Secret("a1") == Secret(b"a1")
        assert Secret("a1") != Secret("a2")
        assert Secret("a1") != "a1"
        assert hash(Secret("a1")) == hash(Secret("a1"))

    @pytest.mark.parametrize("value", ["", b"", 5, None])
    def test_invalid(self, value: object) -> None:
        with pytest.raises(ConfigurationError):
            Secret(value)  # type: ignore[arg-type]

    def test_lone_surrogate_is_configuration_error(self) -> None:
        with pytest.raises(ConfigurationError, match="UTF-8"):
            Secret("\ud800")

    def test_bytes_not_utf8_cannot_be_revealed(self) -> None:
        with pytest.raises(ConfigurationError, match="UTF-8"):
            Secret(b"\xff\xfe").reveal()


class TestSecretsFrom:
    def test_one_or_many(self) -> None:
        assert len(secrets_from("a", name="k")) == 1
        assert len(secrets_from(["a", b"b", Secret("c")], name="k")) == 3

    @pytest.mark.parametrize("value", [None, [], (), 5, [5]])
    def test_invalid(self, value: object) -> None:
        with pytest.raises(ConfigurationError) as info:
            secrets_from(value, name="api_key", vendor="assessio")  # type: ignore[arg-type]
        assert info.value.setting == "api_key"


class TestDecodeBase64Key:
    def test_valid(self) -> None:
        raw = bytes(range(32))
        secret = decode_base64_key(base64.b64encode(raw).decode() + "\n", name="api_key", length=32)
        assert secret.key == raw
        assert secret.reveal() == base64.b64encode(raw).decode()

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("", "empty"),
            ("not base64!", "not a base64 string"),
            ("abc", "not a base64 string"),
            ("YWJj ZGVm", "not a base64 string"),
            ("YWJjZA", "not a base64 string"),
            (base64.b64encode(b"x" * 16).decode(), "decodes to 16 bytes, expected 32"),
        ],
    )
    def test_invalid_without_echo(self, value: str, message: str) -> None:
        with pytest.raises(ConfigurationError) as info:
            decode_base64_key(value, name="api_key", length=32)
        assert message in str(info.value)
        if value:
            assert value not in str(info.value)
        assert info.value.setting == "api_key"


# --- properties -------------------------------------------------------------------------------

keys = st.binary(min_size=1, max_size=200)
messages = st.binary(max_size=2048)
algorithms: st.SearchStrategy[HashAlgorithm] = st.sampled_from(["sha256", "sha512"])


@given(key=keys, message=messages, algorithm=algorithms, encoding=st.sampled_from(["hex", "base64"]))
def test_property_sign_then_verify(
    key: bytes, message: bytes, algorithm: HashAlgorithm, encoding: str
) -> None:
    signature = sign(key, message, algorithm=algorithm, encoding=encoding)  # type: ignore[arg-type]
    verify_signature(
        secrets=[Secret(key)],
        message=message,
        signature=signature,
        algorithm=algorithm,
        encoding=encoding,  # type: ignore[arg-type]
    )


@given(key=keys, message=messages.filter(bool), data=st.data())
def test_property_any_changed_message_byte_is_rejected(
    key: bytes, message: bytes, data: st.DataObject
) -> None:
    signature = sign(key, message)
    index = data.draw(st.integers(0, len(message) - 1))
    flip = data.draw(st.integers(1, 255))
    changed = bytearray(message)
    changed[index] ^= flip
    with pytest.raises(SignatureMismatchError):
        verify_signature(secrets=[Secret(key)], message=bytes(changed), signature=signature)


@given(key=keys, message=messages, algorithm=algorithms, data=st.data())
def test_property_any_changed_signature_byte_is_rejected(
    key: bytes, message: bytes, algorithm: HashAlgorithm, data: st.DataObject
) -> None:
    digest = bytearray(hmac_digest(key, message, algorithm))
    index = data.draw(st.integers(0, len(digest) - 1))
    digest[index] ^= data.draw(st.integers(1, 255))
    encoding = data.draw(st.sampled_from(["hex", "base64"]))
    text = to_hex(bytes(digest)) if encoding == "hex" else to_base64(bytes(digest))
    with pytest.raises(SignatureMismatchError):
        verify_signature(
            secrets=[Secret(key)],
            message=message,
            signature=text,
            algorithm=algorithm,
            encoding=encoding,  # type: ignore[arg-type]
        )


@given(
    signature=st.one_of(st.text(max_size=200), st.binary(max_size=200)),
    encoding=st.sampled_from(["hex", "base64"]),
)
def test_property_arbitrary_signature_raises_only_verification_errors(
    signature: str | bytes, encoding: str
) -> None:
    with pytest.raises(WebhookVerificationError):
        verify_signature(
            secrets=[Secret("k" * 32)],
            message=b"payload",
            signature=signature,
            encoding=encoding,  # type: ignore[arg-type]
        )


@given(value=st.one_of(st.text(max_size=100), st.binary(max_size=100)))
def test_property_key_decoding_raises_only_configuration_errors(value: str | bytes) -> None:
    try:
        secret = decode_base64_key(value, name="api_key")
    except ConfigurationError:
        return
    assert base64.b64encode(secret.key) == secret.reveal().encode()


def test_credentials_are_compared_as_fixed_length_fingerprints() -> None:
    import hashlib

    prints = [credential_fingerprint(b"token-one"), credential_fingerprint(b"a-much-longer-token-two")]
    assert prints[0] == hashlib.sha256(b"token-one").digest()
    assert all(len(p) == 32 for p in prints)
    assert credential_matches(b"a-much-longer-token-two", prints)
    assert not credential_matches(b"token-on", prints)
    assert not credential_matches(b"", prints)
