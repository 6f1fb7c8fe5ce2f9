"""HMAC primitives shared by every vendor scheme.

Everything here works on bytes. Signatures arrive as text from headers or JSON; they are decoded
strictly (:func:`decode_signature`) into bytes before a constant-time comparison, so malformed input is
reported as :class:`~examkit.MalformedSignatureError` and never leaks a ``binascii.Error``,
``UnicodeEncodeError`` or ``TypeError``.

Secrets are wrapped in :class:`Secret`, whose ``repr`` and ``str`` never show the value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal, TypeAlias

from examkit.core._checks import argument_bytes, argument_choice, label
from examkit.core._repr import safe_repr
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    SignatureMismatchError,
    ValidationError,
)

__all__ = [
    "Secret",
    "SecretInput",
]

HashAlgorithm: TypeAlias = Literal["sha256", "sha512"]
"""The hash functions vendor schemes use with HMAC."""

SignatureEncoding: TypeAlias = Literal["hex", "base64"]
"""How a signature is written as text."""

DIGEST_SIZES: Final[dict[str, int]] = {"sha256": 32, "sha512": 64}
"""Digest length in bytes for each :data:`HashAlgorithm`."""

_HEX_RE: Final = re.compile(rb"\A[0-9a-fA-F]*\Z")
_BASE64_RE: Final = re.compile(rb"\A[A-Za-z0-9+/]*={0,2}\Z")
_BASE64URL_RE: Final = re.compile(rb"\A[A-Za-z0-9_-]*={0,2}\Z")


class Secret:
    """A secret value (API key, shared secret) that never shows itself.

    ``repr`` and ``str`` print ``Secret('***')``; the value is reached only through :meth:`reveal`
    (text) and :attr:`key` (the bytes used as an HMAC key). Two secrets compare equal when their
    values do (in constant time).

    Args:
        value: The secret as text or bytes. Text is used as its UTF-8 bytes unless ``key`` is given.
        key: The HMAC key bytes, when they differ from the UTF-8 bytes of the text (for example a
            base64-encoded API key whose decoded bytes are the key).
        name: The setting's name, used in error messages.

    Raises:
        ConfigurationError: The secret is empty, text that is only whitespace, or not text or bytes.
    """

    __slots__ = ("_key", "_name", "_value")

    def __init__(self, value: str | bytes, *, key: bytes | None = None, name: str = "secret") -> None:
        given_name: object = name
        if not isinstance(given_name, str) or not given_name.strip() or not given_name.isprintable():
            raise ConfigurationError("a secret's name must be non-empty printable text", setting="name")
        given_key: object = key
        if given_key is not None and (not isinstance(given_key, bytes) or not given_key):
            raise ConfigurationError(f"{name}: key must be non-empty bytes, or None", setting=name)
        if isinstance(value, bytes | bytearray):
            value = bytes(value)
            text_key = value
        elif isinstance(value, str):
            try:
                text_key = value.encode("utf-8")
            except UnicodeEncodeError:
                raise ConfigurationError(
                    f"{name} contains characters that cannot be encoded as UTF-8",
                    setting=name,
                ) from None
        else:
            raise ConfigurationError(
                f"{name} must be text or bytes, not {type(value).__name__}", setting=name
            )
        if not value:
            raise ConfigurationError(
                f"{name} is empty: set it to the value the vendor gave you", setting=name
            )
        if isinstance(value, str) and not value.strip():
            # Text that is only whitespace is a blank setting; raw key bytes may be anything (the RFC 4231
            # test key is twenty 0x0b bytes).
            raise ConfigurationError(
                f"{name} is only whitespace: set it to the value the vendor gave you", setting=name
            )
        self._value: str | bytes = value
        self._key: bytes = text_key if key is None else key
        self._name = name

    @property
    def key(self) -> bytes:
        """The bytes used as the HMAC key."""
        return self._key

    @property
    def name(self) -> str:
        """The setting's name, for messages."""
        return self._name

    def reveal(self) -> str:
        """Return the secret as text (for headers that carry it verbatim).

        Raises:
            ConfigurationError: The secret was given as bytes that are not UTF-8.
        """
        if isinstance(self._value, str):
            return self._value
        try:
            return self._value.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigurationError(f"{self._name} is not valid UTF-8 text", setting=self._name) from None

    @safe_repr
    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash((Secret, len(self._key)))

    def __reduce__(self) -> str:
        # Secrets must not travel through pickle by accident (caches, multiprocessing payloads).
        raise ConfigurationError(
            "examkit secrets cannot be pickled: build the client or verifier in each process "
            "from its settings (for example with from_env()) instead of sending it",
            setting=getattr(self, "_name", None),
        )

    def __copy__(self) -> Secret:
        return self  # immutable: a copy is the same secret

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self


_TRANS_36: Final = bytes(x ^ 0x36 for x in range(256))
_TRANS_5C: Final = bytes(x ^ 0x5C for x in range(256))


def _hmac_pads(key: bytes, algorithm: str) -> tuple[Any, Any]:
    """The hash states after the inner and the outer padded key of HMAC (RFC 2104), for ``key``.

    Continuing a copy of the inner state with the message, then a copy of the outer state with the
    inner digest, gives ``hmac.digest(key, message, algorithm)``; preparing them once saves the key
    schedule (and OpenSSL's per-call set-up of a MAC) on every request.
    """
    inner = hashlib.new(algorithm)
    outer = hashlib.new(algorithm)
    block = inner.block_size
    if len(key) > block:  # a long key is hashed first, as HMAC defines
        key = hashlib.new(algorithm, key).digest()
    key = key.ljust(block, b"\0")
    inner.update(key.translate(_TRANS_36))
    outer.update(key.translate(_TRANS_5C))
    return inner, outer


def _prepared_mac(pads: tuple[Any, Any], prefix: bytes, message: bytes) -> bytes:
    """The HMAC of ``prefix + message`` from prepared pads, without joining the two (no copy of a body)."""
    inner = pads[0].copy()
    if prefix:
        inner.update(prefix)
    inner.update(message)
    outer = pads[1].copy()
    outer.update(inner.digest())
    digest: bytes = outer.digest()
    return digest


class KeyRing(tuple[bytes, ...]):
    """Key material prepared once for a hot path: a tuple of bytes whose ``repr`` hides the values.

    Verifiers keep derived keys (decoded bytes, expected credentials) ready for each request; held in
    a ``KeyRing``, they do not show up when a debugger or an error reporter prints the object's
    attributes. The HMAC methods prepare each key's padded hash states once per algorithm (kept in
    the ring, whose ``repr`` hides them too) and reuse them on every call.

    >>> KeyRing([b"k1", b"k2"])
    KeyRing(<2 keys>)
    """

    # No __slots__ (a tuple subclass cannot have non-empty ones): the instance dict holds the prepared
    # HMAC states, one entry per algorithm, built on first use.

    def _pads(self, algorithm: str) -> tuple[tuple[Any, Any], ...]:
        """Each key's prepared HMAC states for ``algorithm`` (built once; a race builds the same twice)."""
        prepared: tuple[tuple[Any, Any], ...] | None = self.__dict__.get(algorithm)
        if prepared is None:
            prepared = tuple(_hmac_pads(key, algorithm) for key in self)
            self.__dict__[algorithm] = prepared
        return prepared

    def hmac_matches(self, candidate: bytes, message: bytes, algorithm: HashAlgorithm = "sha256") -> bool:
        """Tell whether ``candidate`` is the HMAC of ``message`` under any of the keys.

        Every key is tried and compared in constant time. The keys and digests live only in this
        frame, which has returned before a caller raises, so an error reporter that captures frame
        locals never sees them.
        """
        return self.hmac_matching((candidate,), message, algorithm) != b""

    def hmac_index(
        self,
        candidates: Iterable[bytes],
        message: bytes,
        algorithm: HashAlgorithm = "sha256",
        *,
        prefix: bytes = b"",
    ) -> int | None:
        """Return the position of the key under which one of ``candidates`` is the HMAC of ``message``.

        Every key and candidate is compared in constant time (no early exit), so timing does not show
        which key matched; ``None`` when none does. Verifiers report the position so that an operator
        rotating secrets sees when the old one stops being used. With ``prefix``, the signed bytes are
        ``prefix + message``, hashed in two steps so that a large body is never copied.

        >>> import hmac
        >>> ring = KeyRing([b"old", b"new"])
        >>> ring.hmac_index([hmac.digest(b"new", b"msg", "sha256")], b"msg")
        1
        >>> ring.hmac_index([b"0" * 32], b"msg") is None
        True
        """
        pads = self.__dict__.get(algorithm) or self._pads(algorithm)
        if len(pads) == 1 and type(candidates) is tuple and len(candidates) == 1:
            # The usual case (one key, one signature) without the loops or calls: _prepared_mac inline.
            inner = pads[0][0].copy()
            if prefix:
                inner.update(prefix)
            inner.update(message)
            outer = pads[0][1].copy()
            outer.update(inner.digest())
            return 0 if hmac.compare_digest(candidates[0], outer.digest()) else None
        wanted = tuple(candidates)
        found: int | None = None
        for position, key_pads in enumerate(pads):
            digest = _prepared_mac(key_pads, prefix, message)
            for candidate in wanted:
                if hmac.compare_digest(candidate, digest) and found is None:
                    found = position
        return found

    def hmac_index_per_key(
        self, candidate: bytes, messages: Sequence[bytes], algorithm: HashAlgorithm = "sha256"
    ) -> int | None:
        """Return the position of the key whose HMAC of *its own* message is ``candidate``.

        For schemes where each key signs a different string (Testpress hashes the private key into
        the message): ``messages[i]`` goes with key ``i``. Every key is tried and compared in constant
        time (no early exit); ``None`` when none matches.

        >>> import hmac
        >>> ring = KeyRing([b"old", b"new"])
        >>> ring.hmac_index_per_key(hmac.digest(b"new", b"msg-new", "sha256"), [b"msg-old", b"msg-new"])
        1
        >>> ring.hmac_index_per_key(hmac.digest(b"new", b"msg-old", "sha256"), [b"msg-old", b"msg-new"])

        Raises:
            ValueError: ``messages`` does not hold exactly one message per key.
        """
        if len(messages) != len(self):
            raise ValueError(f"{len(messages)} messages for {len(self)} keys")
        found: int | None = None
        for position, (pads, message) in enumerate(zip(self._pads(algorithm), messages, strict=True)):
            if hmac.compare_digest(candidate, _prepared_mac(pads, b"", message)) and found is None:
                found = position
        return found

    def index_of(self, presented: bytes) -> int | None:
        """Return the position of the fingerprint that ``presented`` matches (see :func:`credential_matches`).

        For a ring of credential fingerprints: every one is compared in constant time; ``None`` when
        none matches.
        """
        fingerprint = credential_fingerprint(presented)
        found: int | None = None
        for position, expected in enumerate(self):
            if hmac.compare_digest(fingerprint, expected) and found is None:
                found = position
        return found

    def hmac_matching(
        self,
        candidates: Iterable[bytes],
        message: bytes,
        algorithm: HashAlgorithm = "sha256",
        *,
        prefix: bytes = b"",
    ) -> bytes:
        """Return the candidate that is the HMAC of ``message`` under one of the keys, or ``b""``.

        Like :meth:`hmac_matches`, for a header carrying several signatures: every key and candidate
        is compared in constant time. ``prefix`` is as in :meth:`hmac_index`.
        """
        wanted = tuple(candidates)
        matched = b""
        for pads in self._pads(algorithm):
            digest = _prepared_mac(pads, prefix, message)
            for candidate in wanted:
                if hmac.compare_digest(candidate, digest):
                    matched = candidate
        return matched

    @safe_repr
    def __repr__(self) -> str:
        return f"KeyRing(<{len(self)} keys>)"

    __str__ = __repr__

    def __reduce__(self) -> str:
        # Like Secret: key material must not travel through pickle by accident.
        raise ConfigurationError(
            "examkit key material cannot be pickled: build the client or verifier in each process "
            "from its settings (for example with from_env()) instead of sending it"
        )

    def __copy__(self) -> KeyRing:
        return self  # immutable: a copy is the same keys

    def __deepcopy__(self, memo: dict[int, object]) -> KeyRing:
        return self


SecretInput: TypeAlias = "str | bytes | Secret"
"""A secret as users pass it: text, bytes, or an already wrapped :class:`Secret`."""


def secrets_from(
    value: SecretInput | Sequence[SecretInput] | None,
    *,
    name: str,
    vendor: str | None = None,
) -> tuple[Secret, ...]:
    """Normalise one secret or several (for rotation) into a non-empty tuple of :class:`Secret`.

    Args:
        value: One secret, or a sequence of secrets where any one may match (old and new during a
            rotation).
        name: The setting's name, used in error messages.
        vendor: The vendor, for the error.

    Raises:
        ConfigurationError: No secret, an empty one, or a value of the wrong type.
    """
    if type(value) is Secret:
        return (value,)
    if value is None:
        raise ConfigurationError(f"{name} is required", setting=name, vendor=vendor)
    items: Iterable[object]
    if isinstance(value, str | bytes | bytearray | Secret):
        items = (value,)
    elif isinstance(value, Sequence):
        items = value
    else:
        raise ConfigurationError(
            f"{name} must be a secret or a sequence of secrets, not {type(value).__name__}",
            setting=name,
            vendor=vendor,
        )
    result: list[Secret] = []
    for item in items:
        if isinstance(item, Secret):
            result.append(item)
        elif isinstance(item, str | bytes | bytearray):
            result.append(Secret(bytes(item) if isinstance(item, bytearray) else item, name=name))
        else:
            raise ConfigurationError(
                f"{name} must contain text or bytes, not {type(item).__name__}",
                setting=name,
                vendor=vendor,
            )
    if not result:
        raise ConfigurationError(
            f"{name} is an empty sequence: give at least one secret", setting=name, vendor=vendor
        )
    return tuple(result)


def hmac_digest(key: bytes, message: bytes, algorithm: HashAlgorithm = "sha256") -> bytes:
    """Return the raw HMAC of ``message`` under ``key``.

    >>> hmac_digest(b"key", b"message").hex()[:16]
    '6e9ef29b75fffc5b'

    Raises:
        ValidationError: ``key`` or ``message`` is not bytes, or the algorithm is unknown.
    """
    algorithm = _algorithm(algorithm)
    return hmac.new(_bytes(key, "key"), _bytes(message, "message"), algorithm).digest()


def _bytes(value: object, field: str) -> bytes:
    return argument_bytes(value, field=field)


def _algorithm(value: object) -> HashAlgorithm:
    return argument_choice(value, DIGEST_SIZES, field="algorithm")  # type: ignore[return-value]


def _iterable(value: object) -> Iterable[object]:
    if isinstance(value, Sequence):
        return value
    raise ValidationError("secrets must be a sequence of Secret", field="secrets", reason="wrong type")


def _encoding(value: object) -> SignatureEncoding:
    return argument_choice(value, ("hex", "base64"), field="encoding")  # type: ignore[return-value]


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """Return the raw HMAC-SHA256 of ``message`` under ``key`` (32 bytes)."""
    return hmac.new(_bytes(key, "key"), _bytes(message, "message"), hashlib.sha256).digest()


def hmac_sha512(key: bytes, message: bytes) -> bytes:
    """Return the raw HMAC-SHA512 of ``message`` under ``key`` (64 bytes)."""
    return hmac.new(_bytes(key, "key"), _bytes(message, "message"), hashlib.sha512).digest()


def to_hex(digest: bytes) -> str:
    """Encode a digest as lower-case hex."""
    return _bytes(digest, "digest").hex()


def to_base64(digest: bytes) -> str:
    """Encode a digest as standard, padded base64."""
    return base64.b64encode(_bytes(digest, "digest")).decode("ascii")


def sign(
    key: bytes,
    message: bytes,
    *,
    algorithm: HashAlgorithm = "sha256",
    encoding: SignatureEncoding = "hex",
) -> str:
    """Return the HMAC of ``message`` as text in the given encoding (lower-case hex or base64)."""
    encoding = _encoding(encoding)
    digest = hmac_digest(key, message, algorithm)
    return to_hex(digest) if encoding == "hex" else to_base64(digest)


def decode_signature(
    signature: str | bytes,
    *,
    encoding: SignatureEncoding,
    algorithm: HashAlgorithm = "sha256",
    vendor: str | None = None,
    header: str | None = None,
) -> bytes:
    """Decode a signature from text into digest bytes, strictly.

    Hex is accepted in either case. Base64 must be standard base64 (URL-safe base64 is accepted too)
    with correct padding, in its canonical form (the unused bits of the last character zero). The
    decoded length must equal the algorithm's digest size.

    Raises:
        MalformedSignatureError: Not ASCII, not valid hex or base64, or the wrong length.
        ValidationError: ``encoding`` or ``algorithm`` is not one of the known names.
    """
    expected = DIGEST_SIZES[_algorithm(algorithm)]
    encoding = _encoding(encoding)
    header = label(header, "the header") if header is not None else None

    def malformed(reason: str) -> MalformedSignatureError:
        where = f" in {header}" if header else ""
        return MalformedSignatureError(
            f"the signature{where} is not a valid {encoding} {algorithm.upper()} HMAC: {reason}",
            vendor=vendor,
            reason=reason,
            header=header,
        )

    if isinstance(signature, str):
        if not signature.isascii():
            raise malformed("it contains non-ASCII characters")
        raw = signature.encode("ascii")
    elif isinstance(signature, bytes | bytearray):
        raw = bytes(signature)
    else:
        raise malformed(f"expected text, got {type(signature).__name__}")
    raw = raw.strip()
    if not raw:
        raise malformed("it is empty")
    if encoding == "hex":
        if len(raw) != 2 * expected:
            raise malformed(f"expected {2 * expected} hex characters, got {len(raw)}")
        if not _HEX_RE.match(raw):
            raise malformed("it contains characters that are not hex digits")
        return bytes.fromhex(raw.decode("ascii"))
    urlsafe = not _BASE64_RE.match(raw)
    if urlsafe and not _BASE64URL_RE.match(raw):
        raise malformed("it contains characters that are not base64")
    digest = canonical_b64decode(raw, urlsafe=urlsafe)
    if digest is None:
        raise malformed("its base64 padding is wrong, or it is not canonical (unused bits are set)")
    if len(digest) != expected:
        raise malformed(f"expected {expected} bytes once decoded, got {len(digest)}")
    return digest


def canonical_b64decode(raw: bytes, *, urlsafe: bool = False) -> bytes | None:
    """Decode padded base64 in its one canonical form; ``None`` for anything else.

    The standard decoder ignores the unused low bits of the last character, so several texts decode to
    the same bytes; only the one the encoder writes is accepted here, so a credential or signature cannot
    be re-written into another accepted form.
    """
    try:
        decoded = base64.urlsafe_b64decode(raw) if urlsafe else base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None
    if (base64.urlsafe_b64encode(decoded) if urlsafe else base64.b64encode(decoded)) != raw:
        return None
    return decoded


def credential_fingerprint(credential: bytes) -> bytes:
    """Return the fixed-length fingerprint (SHA-256) under which a shared credential is compared.

    Tokens, passwords and API keys have varying lengths, and comparing them directly reveals, through
    timing, whether a presented value has the right length. Compare fingerprints instead
    (:func:`credential_matches`).
    """
    return hashlib.sha256(_bytes(credential, "credential")).digest()


def credential_matches(presented: bytes, fingerprints: Iterable[bytes]) -> bool:
    """Tell whether ``presented`` is one of the credentials whose fingerprints are given.

    The comparison is constant-time and independent of the credentials' lengths, and every fingerprint
    is compared (so timing does not reveal which one matched).
    """
    return matches_any(credential_fingerprint(presented), fingerprints)


def matches_any(candidate: bytes, expected: Iterable[bytes]) -> bool:
    """Tell whether ``candidate`` equals any of ``expected``, comparing each in constant time.

    Every expected digest is compared (no early exit), so timing does not reveal which secret matched.

    Raises:
        ValidationError: ``candidate`` is not bytes, or ``expected`` not an iterable of bytes.
    """
    candidate = _bytes(candidate, "candidate")
    if isinstance(expected, str | bytes | bytearray | memoryview) or not isinstance(expected, Iterable):
        raise ValidationError(
            "expected must be an iterable of digests", field="expected", reason="wrong type"
        )
    found = False
    for digest in expected:
        found |= hmac.compare_digest(candidate, _bytes(digest, "expected"))
    return found


def verify_signature(
    *,
    secrets: Sequence[Secret],
    message: bytes,
    signature: str | bytes,
    algorithm: HashAlgorithm = "sha256",
    encoding: SignatureEncoding = "hex",
    vendor: str | None = None,
    header: str | None = None,
) -> None:
    """Verify that ``signature`` is the HMAC of ``message`` under any of ``secrets``.

    Args:
        secrets: The secrets to try (several during a rotation); each one's :attr:`Secret.key` is used.
        message: The exact bytes that were signed.
        signature: The signature as received (text).
        algorithm: The hash function.
        encoding: How the signature is written.
        vendor: The vendor, for errors.
        header: The header the signature came from, for errors.

    Raises:
        MalformedSignatureError: The signature cannot be decoded.
        SignatureMismatchError: It decodes but matches none of the secrets.
    """
    header = label(header, "the header") if header is not None else None
    message = _bytes(message, "message")
    if isinstance(secrets, str | bytes) or not all(isinstance(s, Secret) for s in _iterable(secrets)):
        raise ValidationError("secrets must be a sequence of Secret", field="secrets", reason="wrong type")
    candidate = decode_signature(
        signature, encoding=encoding, algorithm=algorithm, vendor=vendor, header=header
    )
    if not matches_any(candidate, (hmac_digest(s.key, message, algorithm) for s in secrets)):
        raise SignatureMismatchError(
            "the signature does not match: check that the secret is the one the vendor uses "
            "and that the body is passed exactly as received",
            vendor=vendor,
            reason="signature mismatch",
            header=header,
        )


def decode_base64_key(
    value: str | bytes | Secret,
    *,
    name: str,
    length: int | None = None,
    vendor: str | None = None,
) -> Secret:
    """Decode a base64-encoded key strictly and return it as a :class:`Secret` whose key is the bytes.

    Whitespace around the value is ignored; anything else that is not standard base64 with correct
    padding is refused. The message never repeats the value.

    Args:
        value: The key as the vendor gave it.
        name: The setting's name, used in error messages.
        length: The required decoded length in bytes, when the vendor documents one.
        vendor: The vendor, for errors.

    Raises:
        ConfigurationError: The value is empty, not base64, or decodes to the wrong length.
    """
    name = label(name, "key")
    given: object = value
    if not isinstance(given, str | bytes | bytearray | Secret):
        raise ConfigurationError(
            f"{name} must be text, not {type(given).__name__}", setting=name, vendor=vendor
        )
    text: str | bytes = value.reveal() if isinstance(value, Secret) else value
    raw = text.encode("utf-8", "replace") if isinstance(text, str) else bytes(text)
    raw = raw.strip()
    if not raw:
        raise ConfigurationError(f"{name} is empty", setting=name, vendor=vendor)
    if not _BASE64_RE.match(raw) or len(raw) % 4:
        raise ConfigurationError(
            f"{name} is not a base64 string: copy it exactly as the vendor shows it",
            setting=name,
            vendor=vendor,
        )
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{name} is not valid base64", setting=name, vendor=vendor) from None
    if length is not None and len(key) != length:
        raise ConfigurationError(
            f"{name} decodes to {len(key)} bytes, expected {length}: check that the whole key was copied",
            setting=name,
            vendor=vendor,
        )
    return Secret(raw.decode("ascii"), key=key, name=name)
