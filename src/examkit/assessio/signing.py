"""Assessio's request signature: HMAC-SHA256 over ``<t>.<raw body>`` in a ``Signature`` header.

The vendor's recipe (its Java example): take the current Unix time in seconds ``t``, join it to the
raw JSON body with a literal ``.``, and compute HMAC-SHA256 keyed with the UTF-8 bytes of the
integrator-secret; the digest is written as hex. The ``Signature`` header carries ``t`` and the
signature. How the two are joined inside the header is not documented: examkit writes
``t=<t>,signature=<hex>`` by default (see :class:`SignatureHeaderFormat`) and, when reading, accepts
``,`` or ``;`` between the parts and spaces around them.

>>> header = signature_header(secret="s3cret", body=b"{}", timestamp=1700000000)
>>> header.split(",")[0]
't=1700000000'
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from typing import Final

import attrs

from examkit.assessio._vendor import VENDOR
from examkit.core._checks import argument_text, check_bool, check_choice, check_instance, label
from examkit.core._repr import safe_attrs_repr
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    SignatureMismatchError,
    ValidationError,
)
from examkit.core.signing import KeyRing, Secret, SecretInput, secrets_from

__all__ = [
    "SignatureHeaderFormat",
    "signature_header",
]

SIGNATURE_HEADER: Final = "Signature"
"""The name of the header that carries ``t`` and the signature."""

_SEPARATORS: Final = (",", ";", ", ", "; ")

_LABEL_RE: Final = re.compile(r"\A[A-Za-z0-9_-]+\Z", re.ASCII)
_SPLIT_RE: Final = re.compile(r"[,;]")
_MAX_HEADER_CHARS: Final = 4096
_DIGEST_SIZE: Final = 32


def _check_label(value: object, setting: str) -> str:
    if not isinstance(value, str) or not _LABEL_RE.match(value):
        raise ConfigurationError(
            f"{setting} must be a non-empty label of letters, digits, '_' or '-'",
            setting=setting,
            vendor=VENDOR,
        )
    return value


def _timestamp_label(value: object) -> str:
    return _check_label(value, "timestamp_label")


def _signature_label(value: object) -> str:
    return _check_label(value, "signature_label")


def _check_separator(value: object) -> str:
    return check_choice(value, _SEPARATORS, setting="separator", vendor=VENDOR)


def _timestamp_first(value: object) -> bool:
    return check_bool(value, setting="timestamp_first", vendor=VENDOR)


def _uppercase_hex(value: object) -> bool:
    return check_bool(value, setting="uppercase_hex", vendor=VENDOR)


@safe_attrs_repr
@attrs.frozen
class SignatureHeaderFormat:
    """How the ``Signature`` header is written (unconfirmed: the vendor page does not spell it out).

    The default writes ``t=<t>,signature=<hex>``. Reading is lenient whatever the format: parts may
    be separated by ``,`` or ``;`` with spaces around them, in any order; only labels must match.

    Attributes:
        timestamp_label: The label of the timestamp part.
        signature_label: The label of the signature part (``"v1"`` for a Stripe-like layout).
        separator: What joins the parts when writing: ``","`` (default), ``";"``, ``", "`` or
            ``"; "``.
        timestamp_first: Write the timestamp part before the signature part.
        uppercase_hex: Write the signature in upper-case hex (reading accepts either case).
    """

    timestamp_label: str = attrs.field(default="t", converter=_timestamp_label)
    signature_label: str = attrs.field(default="signature", converter=_signature_label)
    separator: str = attrs.field(default=",", converter=_check_separator)
    timestamp_first: bool = attrs.field(default=True, converter=_timestamp_first)
    uppercase_hex: bool = attrs.field(default=False, converter=_uppercase_hex)

    def __attrs_post_init__(self) -> None:
        if self.timestamp_label == self.signature_label:
            raise ConfigurationError(
                "timestamp_label and signature_label must differ",
                setting="signature_label",
                vendor=VENDOR,
            )

    def format(self, timestamp: int, signature: str) -> str:
        """Return the header value for ``timestamp`` and a hex ``signature``.

        Raises:
            ValidationError: ``timestamp`` is not whole Unix seconds or ``signature`` not text.
        """
        timestamp = _timestamp(timestamp)
        signature = argument_text(signature, field="signature", vendor=VENDOR)
        sig = signature.upper() if self.uppercase_hex else signature
        parts = (f"{self.timestamp_label}={timestamp}", f"{self.signature_label}={sig}")
        return self.separator.join(parts if self.timestamp_first else parts[::-1])


DEFAULT_HEADER_FORMAT: Final = SignatureHeaderFormat()
"""``t=<t>,signature=<hex>``: the layout examkit writes unless told otherwise."""


@attrs.frozen
class ParsedSignatureHeader:
    """A ``Signature`` header read into its parts (not yet verified).

    Attributes:
        timestamp: The ``t`` part, whole Unix seconds.
        signatures: Every signature part, as sent (a sender may list several during a rotation).
    """

    timestamp: int
    signatures: tuple[str, ...]


def _timestamp(value: object) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError(
                "timestamp must be timezone-aware", field="timestamp", reason="naive", vendor=VENDOR
            )
        return int(value.timestamp())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return value
    raise ValidationError(
        "timestamp must be whole, non-negative Unix seconds (an int) or an aware datetime",
        field="timestamp",
        reason="not epoch seconds",
        vendor=VENDOR,
    )


def _body(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:
            pass
    raise ValidationError(
        "body must be the raw body bytes (or text, signed as UTF-8)",
        field="body",
        reason="not bytes",
        vendor=VENDOR,
    )


def signed_message(timestamp: int | datetime, body: bytes | str) -> bytes:
    """Return the exact bytes that are signed: ``<t>.<body>`` (``t`` in decimal ASCII).

    The one builder of Assessio's signed message: the signer, the verifiers, the client and
    :func:`~examkit.assessio.explain` all go through it.

    >>> signed_message(1700000000, b'{"a":1}')
    b'1700000000.{"a":1}'

    Raises:
        ValidationError: ``timestamp`` is not whole Unix seconds or ``body`` is not bytes or text.
    """
    return signed_prefix(timestamp) + _body(body)


def signed_prefix(timestamp: int | datetime) -> bytes:
    """Return the bytes signed before the body: ``<t>.`` (``t`` in decimal ASCII).

    :func:`signed_message` is this followed by the body; verifiers hash the two one after the other,
    so that the body is never copied.

    >>> signed_prefix(1700000000)
    b'1700000000.'

    Raises:
        ValidationError: ``timestamp`` is not whole Unix seconds.
    """
    if type(timestamp) is not int or not 0 <= timestamp < 10**12:
        timestamp = _timestamp(timestamp)
    return b"%d." % timestamp


def compute_signature(*, secret: SecretInput, body: bytes | str, timestamp: int | datetime) -> str:
    """Return the lower-case hex HMAC-SHA256 of ``<t>.<body>`` under the integrator secret.

    Args:
        secret: The integrator-secret; its UTF-8 bytes are the key.
        body: The raw body bytes exactly as sent (text is signed as its UTF-8 bytes).
        timestamp: Unix seconds (or an aware datetime, truncated to whole seconds).

    Raises:
        ConfigurationError: The secret is empty or of the wrong type.
        ValidationError: The body or timestamp is unusable.
    """
    secret = _one_secret(secret)  # masked from here on: no raw key in this frame's locals
    message = signed_message(timestamp, body)
    return hmac.new(secret.key, message, hashlib.sha256).hexdigest()


def _one_secret(secret: SecretInput) -> Secret:
    if isinstance(secret, Secret):
        return secret
    return secrets_from(secret, name="integrator_secret", vendor=VENDOR)[0]


def signature_header(
    *,
    secret: SecretInput,
    body: bytes | str,
    timestamp: int | datetime,
    header_format: SignatureHeaderFormat = DEFAULT_HEADER_FORMAT,
) -> str:
    """Return the ``Signature`` header value for ``body`` signed at ``timestamp``.

    Send exactly the ``body`` bytes you signed.

    Args:
        secret: The integrator-secret (text; its UTF-8 bytes are the HMAC key).
        body: The raw body bytes that will be sent.
        timestamp: Unix seconds (or an aware datetime).
        header_format: The header layout; the default gives ``t=<t>,signature=<hex>``.

    Raises:
        ConfigurationError: The secret is empty or of the wrong type.
        ValidationError: The body or timestamp is unusable.

    >>> signature_header(secret="k", body=b"{}", timestamp=1).startswith("t=1,signature=")
    True
    """
    secret = _one_secret(secret)  # masked from here on
    ts = _timestamp(timestamp)
    header_format = check_instance(
        header_format, SignatureHeaderFormat, setting="header_format", vendor=VENDOR
    )
    return header_format.format(ts, compute_signature(secret=secret, body=body, timestamp=ts))


def _malformed(reason: str, header: str) -> MalformedSignatureError:
    return MalformedSignatureError(
        f"the {header} header cannot be read: {reason}; expected e.g. 't=<unix seconds>,signature=<hex>'",
        vendor=VENDOR,
        reason=reason,
        header=header,
    )


def parse_signature_header(
    header: str | None,
    *,
    header_format: SignatureHeaderFormat = DEFAULT_HEADER_FORMAT,
    header_name: str = SIGNATURE_HEADER,
) -> ParsedSignatureHeader:
    """Read a ``Signature`` header into its timestamp and signatures, without verifying anything.

    Parts are ``label=value`` pairs separated by ``,`` or ``;``, with optional spaces, in any order.
    Unknown labels are ignored; the timestamp label must appear exactly once and the signature label
    at least once.

    Raises:
        MissingSignatureError: The header is absent or blank.
        MalformedSignatureError: The header cannot be read.
    """
    header_format = check_instance(
        header_format, SignatureHeaderFormat, setting="header_format", vendor=VENDOR
    )
    timestamp, signatures = read_header(
        header, header_format, _fast_pattern(header_format), label(header_name, SIGNATURE_HEADER)
    )
    return ParsedSignatureHeader(timestamp=timestamp, signatures=signatures)


_FAST_PATTERNS: dict[tuple[str, str], re.Pattern[str]] = {}


def _fast_pattern(header_format: SignatureHeaderFormat) -> re.Pattern[str]:
    labels = (header_format.timestamp_label, header_format.signature_label)
    pattern = _FAST_PATTERNS.get(labels)
    if pattern is None:
        # The common layout, in one match; anything else takes the general path below. It accepts
        # nothing the general path would refuse (ASCII spaces only, 64 hex digits, 1-12 digits).
        t, sig = (re.escape(label) for label in labels)
        pattern = re.compile(
            rf"\A *{t} *= *(0|[1-9][0-9]{{0,11}}) *[,;] *{sig} *= *([0-9A-Fa-f]{{64}}) *\Z", re.ASCII
        )
        _FAST_PATTERNS[labels] = pattern
    return pattern


def _read_fast(header: object, fast: re.Pattern[str]) -> tuple[int, tuple[str, ...]] | None:
    """The common layout in one precompiled match, or ``None`` to take the general path."""
    match = fast.match(header) if isinstance(header, str) else None
    if match is None:
        return None
    t_text, sig_text = match.groups()
    return int(t_text), (sig_text,)


def read_header(
    header: object, header_format: SignatureHeaderFormat, fast: re.Pattern[str], header_name: str
) -> tuple[int, tuple[str, ...]]:
    """Read a ``Signature`` header into its timestamp and signatures: the fast path, else the general.

    Raises:
        MissingSignatureError: The header is absent or blank.
        MalformedSignatureError: The header cannot be read.
    """
    return _read_fast(header, fast) or _parse(header, header_format, header_name)


def _parse(
    header: object, header_format: SignatureHeaderFormat, header_name: str
) -> tuple[int, tuple[str, ...]]:
    if header is None or (isinstance(header, str) and not header.strip()):
        raise MissingSignatureError(
            f"the request has no {header_name} header: Assessio signs with "
            "'t=<unix seconds>,signature=<hex>'",
            vendor=VENDOR,
            reason="no signature header",
            header=header_name,
        )
    if not isinstance(header, str):
        raise _malformed("it is not text", header_name)
    if len(header) > _MAX_HEADER_CHARS:
        raise _malformed("it is too long", header_name)
    ts_label = header_format.timestamp_label
    sig_label = header_format.signature_label
    timestamp: str | None = None
    signatures: list[str] = []
    for part in _SPLIT_RE.split(header):
        label, eq, value = part.partition("=")
        if not eq:
            if part.strip():
                raise _malformed("a part is not of the form label=value", header_name)
            continue
        label = label.strip()
        value = value.strip()
        if label == sig_label:
            signatures.append(value)
        elif label == ts_label:
            if timestamp is not None:
                raise _malformed(f"'{ts_label}' appears more than once", header_name)
            timestamp = value
    if timestamp is None:
        raise _malformed(f"it has no '{ts_label}=' part", header_name)
    if not signatures:
        raise _malformed(f"it has no '{sig_label}=' part", header_name)
    # Both paths sign str(int(t)): a leading zero would make the signed text differ from it.
    canonical = timestamp == "0" or not timestamp.startswith("0")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12 and canonical):
        raise _malformed(f"'{ts_label}' is not whole Unix seconds (digits, no leading zero)", header_name)
    return int(timestamp), tuple(signatures)


def _decode_hex(signature: str, header_name: str) -> bytes:
    # bytes.fromhex also skips inner whitespace; the length check below catches that.
    try:
        raw = bytes.fromhex(signature)
    except ValueError:
        raise _malformed("the signature is not hex", header_name) from None
    if len(raw) != _DIGEST_SIZE or len(signature) != 2 * _DIGEST_SIZE:
        raise _malformed(f"the signature is not {2 * _DIGEST_SIZE} hex characters", header_name)
    return raw


def _mismatch(header_name: str) -> SignatureMismatchError:
    return SignatureMismatchError(
        "the Assessio signature does not match: check the integrator secret and that the body "
        "is passed exactly as received",
        vendor=VENDOR,
        reason="signature mismatch",
        header=header_name,
    )


def match_signatures(
    timestamp: int,
    signatures: tuple[str, ...],
    body: bytes,
    keys: KeyRing,
    *,
    header_name: str = SIGNATURE_HEADER,
) -> tuple[int, bytes]:
    """Check the signatures against ``signed_message`` of ``timestamp`` and ``body``.

    Every key and signature is compared in constant time (no early exit). Returns the position of
    the key that matched and the digest that matched (unique per signed request: a replay nonce).

    Raises:
        MalformedSignatureError: A signature part is not 64 hex characters.
        SignatureMismatchError: No signature matches any key.
    """
    candidates = [_decode_hex(s, header_name) for s in signatures]
    prefix = signed_prefix(timestamp)  # then the body: hashed in two steps, the body is not copied
    body = _body(body)
    index = keys.hmac_index(candidates, body, prefix=prefix)
    if index is None:
        raise _mismatch(header_name)
    if len(candidates) == 1:
        return index, candidates[0]
    # Several signatures (a sender mid-rotation): the one the matching key produced.
    return index, KeyRing(keys[index : index + 1]).hmac_matching(candidates, body, prefix=prefix)
