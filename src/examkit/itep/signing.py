"""The signature on iTEP fulfillment requests: HMAC-SHA256 of the exact body bytes (API key).

iTEP's documentation says a "special HTTP header" carries an HMAC-SHA256 signature that confirms the
body's integrity, identifies the sender and prevents replays. The copy examkit works from names
neither the header nor the exact string signed, nor the digest's encoding. examkit therefore signs
the raw body bytes (the compact JSON that is sent, serialised once), writes the digest as lower-case
hex by default, and makes the header name a required setting. An optional sequence number source
puts an increasing ``sequence`` field into the body (the vendor's example carries one), so that the
signed bytes differ from one call to the next. All three points are unconfirmed; see the iTEP guide.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal, TypeAlias

from examkit.core.errors import (
    MalformedSignatureError,
    MissingSignatureError,
    ValidationError,
)
from examkit.core.signing import (
    Secret,
    SecretInput,
    hmac_sha256,
    secrets_from,
    to_base64,
    verify_signature,
)

__all__ = ["sign_body"]

_VENDOR: Final = "itep"

DigestEncoding: TypeAlias = Literal["hex", "HEX", "base64"]
"""How the signature is written: lower-case hex (default), upper-case hex, or padded base64."""


def key_of(api_key: SecretInput) -> Secret:
    """The API key as a masked :class:`~examkit.core.Secret` (checked once)."""
    if isinstance(api_key, Secret):
        return api_key
    return secrets_from(api_key, name="api_key", vendor=_VENDOR)[0]


def body_bytes(body: object) -> bytes:
    """The body as bytes, or a :class:`~examkit.ValidationError` when it is not bytes."""
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    if not isinstance(body, bytes):
        raise ValidationError(
            f"body must be the exact bytes that are sent, not {type(body).__name__}",
            field="body",
            reason="not bytes",
            vendor=_VENDOR,
        )
    return body


def encode_digest(digest: bytes, encoding: DigestEncoding) -> str:
    """Write an HMAC digest as lower-case hex, upper-case hex or padded base64."""
    if encoding == "base64":
        return to_base64(digest)
    text = digest.hex()
    return text.upper() if encoding == "HEX" else text


def sign_body(*, api_key: SecretInput, body: bytes) -> str:
    """Return the HMAC-SHA256 of ``body`` under ``api_key`` as lower-case hex.

    Sign the exact bytes you send: serialise the JSON once and reuse those bytes.

    >>> sign_body(api_key="key", body=b'{"product-code":"GTX-Academic-Plus"}')[:16]
    'c0a1cb0fc717ec49'

    Args:
        api_key: The API key from the PRODUCT CODES screen (its UTF-8 bytes are the HMAC key).
        body: The request body bytes.

    Raises:
        ConfigurationError: The API key is empty or not text or bytes.
        ValidationError: The body is not bytes.
    """
    api_key = key_of(api_key)  # masked from here on: no raw key in this frame's locals
    return hmac_sha256(api_key.key, body_bytes(body)).hex()


def verify_body(
    *,
    api_key: SecretInput | Sequence[SecretInput],
    body: bytes,
    signature: str | None,
    encoding: DigestEncoding = "hex",
    header: str | None = None,
) -> None:
    """Check that ``signature`` is the HMAC-SHA256 of ``body`` under ``api_key`` (or one of them).

    The comparison is on the decoded digest bytes and in constant time; hex is accepted in either
    case. Used by :mod:`examkit.testing.itep` and handy for checking your own requests.

    Raises:
        MissingSignatureError: No signature.
        MalformedSignatureError: The signature cannot be decoded.
        SignatureMismatchError: It does not match.
    """
    keys = secrets_from(api_key, name="api_key", vendor=_VENDOR)
    del api_key  # only the masked form stays among this frame's locals
    given: object = signature
    if given is not None and not isinstance(given, str | bytes):
        raise MalformedSignatureError(
            f"the signature must be text, not {type(given).__name__}",
            vendor=_VENDOR,
            reason="not text",
            header=header,
        )
    if signature is None or not signature.strip():
        raise MissingSignatureError(
            "the request carries no signature" + (f" in {header}" if header else ""),
            vendor=_VENDOR,
            reason="missing signature",
            header=header,
        )
    verify_signature(
        secrets=keys,
        message=body_bytes(body),
        signature=signature,
        algorithm="sha256",
        encoding="base64" if encoding == "base64" else "hex",
        vendor=_VENDOR,
        header=header,
    )


def signature(api_key: Secret, body: bytes, encoding: DigestEncoding = "hex") -> str:
    """Return the signature of ``body`` under the masked ``api_key``, written in ``encoding``."""
    return encode_digest(hmac_sha256(api_key.key, body_bytes(body)), encoding)
