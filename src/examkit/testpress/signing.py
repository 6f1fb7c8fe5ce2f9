r"""Testpress's signature schemes, as pure functions.

* :func:`attempt_hmac`: HMAC-SHA256 of ``email|first_name|institute_attempt_id|key|time``, each
  value percent-encoded, for the "create attempt by HMAC" redirect.
* :func:`review_hmac`: HMAC-SHA256 of ``id|institute_attempt_id|key|time`` for the review link.
* :func:`webhook_hash`: HMAC-SHA512 keyed with the private key over the percent-encoded values of
  the exam webhook's ``key``, ``attempt_id``, ``correct_answers_count``, the private key itself,
  ``incorrect_answers_count``, ``unanswered_answers_count``, ``percentage``, ``score`` and
  ``user_id``.

Which percent-encoding Testpress means is not documented; every function takes ``encoding``, one of
:class:`~examkit.core.PercentEncoding` (default :data:`DEFAULT_ENCODING`,
``PYTHON_QUOTE``, unconfirmed) or ``None`` for no encoding at all.

**The literal rule.** The webhook hash takes each value exactly as it appears in the JSON text:
a string contributes its text (escapes such as ``\u00e9`` resolved), a number contributes its
literal as written. So ``"0.00"`` and ``0.00`` both contribute ``0.00``, ``3`` contributes
``3``, ``-0`` contributes ``-0``, ``1e3`` contributes ``1e3`` and ``1.50`` contributes ``1.50``:
nothing is re-formatted through ``int``, ``float`` or ``Decimal``. Booleans, ``null``, objects
and arrays cannot be hashed and make the request fail verification.
"""

from __future__ import annotations

import hmac as _hmac
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeAlias

from examkit.core._checks import argument_text, check_tuple_of, label
from examkit.core.clock import parse_epoch_seconds
from examkit.core.encoding import PercentEncoding, percent_encode
from examkit.core.errors import PayloadError, ValidationError
from examkit.core.signing import Secret, SecretInput, secrets_from
from examkit.testpress._literals import literal_text, load_json_with_literals
from examkit.testpress._vendor import VENDOR

__all__ = [
    "PRIVATE_KEY",
    "PUBLIC_KEY",
    "attempt_hmac",
    "review_hmac",
    "webhook_hash",
]

Encoding: TypeAlias = "PercentEncoding | None"
"""A percent-encoding variant, or ``None`` to use the values as they are."""

DEFAULT_ENCODING: Final = PercentEncoding.PYTHON_QUOTE
"""The percent-encoding used unless configured: Python's ``quote(value, safe="/")``.

**Unconfirmed**: Testpress says "percentage encode the values" without naming a function. Its
documentation examples are in Python, so Python's ``quote`` is the best guess; ``/`` is kept as
``quote`` does by default.
"""

PRIVATE_KEY: Final = "<private_key>"
"""In a list of hashed fields: the private key itself (it is part of the webhook's hashed
string)."""

PUBLIC_KEY: Final = "<public_key>"
"""In a list of signed fields: the configured public key (for completion schemes)."""

DOCUMENTED_WEBHOOK_HASH_NAMES: Final[tuple[str, ...]] = (
    "public_key",
    "attempt_id",
    "correct_answers_count",
    "private_key",
    "incorrct_answers_count",
    "unanswered_count",
    "percentage",
    "score",
    "user_id",
)
"""The webhook hash's field list exactly as Testpress's documentation spells it, in order."""

WEBHOOK_HASH_NAME_MAPPING: Final[Mapping[str, str]] = {
    "public_key": "key",
    "attempt_id": "attempt_id",
    "correct_answers_count": "correct_answers_count",
    "private_key": PRIVATE_KEY,
    "incorrct_answers_count": "incorrect_answers_count",
    "unanswered_count": "unanswered_answers_count",
    "percentage": "percentage",
    "score": "score",
    "user_id": "user_id",
}
"""How examkit reads each documented name: the payload key that holds it (or :data:`PRIVATE_KEY`).

The documentation misspells ``incorrect_answers_count`` and names ``unanswered_count``,
``public_key`` and ``private_key``, none of which is a payload key. Both payload samples of 2019 and
2023 carry ``incorrect_answers_count``, ``unanswered_answers_count`` and ``key``.
"""

DEFAULT_WEBHOOK_HASH_FIELDS: Final[tuple[str, ...]] = tuple(
    WEBHOOK_HASH_NAME_MAPPING[name] for name in DOCUMENTED_WEBHOOK_HASH_NAMES
)
"""The payload keys the webhook hash covers, in order, with :data:`PRIVATE_KEY` where the private
key goes: ``key, attempt_id, correct_answers_count, <private_key>, incorrect_answers_count,
unanswered_answers_count, percentage, score, user_id``. The ``hash_fields`` setting overrides it."""


def encode_value(value: str, encoding: Encoding, *, field: str | None = None) -> str:
    """Percent-encode one value with ``encoding`` (``None``: unchanged).

    Raises:
        ValidationError: The value holds a lone surrogate, which has no UTF-8 form.
    """
    value = argument_text(value, field=label(field, "value"), vendor=VENDOR)
    try:
        if encoding is None:
            value.encode("utf-8")
            return value
        return percent_encode(value, encoding)
    except (ValidationError, UnicodeEncodeError):
        raise ValidationError(
            f"{field or 'a value'} contains characters that cannot be encoded as UTF-8",
            field=field,
            reason="not UTF-8",
            vendor=VENDOR,
        ) from None


def _check_encoding(encoding: object) -> None:
    if encoding is not None and not isinstance(encoding, PercentEncoding):
        raise ValidationError(
            "encoding must be a PercentEncoding variant or None",
            field="encoding",
            reason="not an encoding",
            vendor=VENDOR,
        )


def _text(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(
            f"{field} must be text, not {type(value).__name__}",
            field=field,
            reason="not text",
            vendor=VENDOR,
        )
    if not value:
        raise ValidationError(f"{field} is empty", field=field, reason="empty", vendor=VENDOR)
    return value


def _epoch_text(time: object) -> str:
    seconds = parse_epoch_seconds(
        time,
        what="time",
        error=lambda msg: ValidationError(msg, field="time", reason="not epoch seconds", vendor=VENDOR),
    )
    return str(seconds)


def _secret(secret: SecretInput) -> Secret:
    return secrets_from(secret, name="secret", vendor=VENDOR)[0]


def attempt_message(
    *,
    email: str,
    first_name: str,
    institute_attempt_id: str,
    key: str,
    time: int | str,
    encoding: Encoding = DEFAULT_ENCODING,
) -> bytes:
    """Return the exact bytes :func:`attempt_hmac` signs.

    Raises:
        ValidationError: A value is missing, empty, not text, or ``time`` is not whole epoch
            seconds.
    """
    _check_encoding(encoding)
    values = (
        ("email", _text(email, "email")),
        ("first_name", _text(first_name, "first_name")),
        ("institute_attempt_id", _text(institute_attempt_id, "institute_attempt_id")),
        ("key", _text(key, "key")),
        ("time", _epoch_text(time)),
    )
    return "|".join(encode_value(v, encoding, field=f) for f, v in values).encode("utf-8")


def attempt_hmac(
    *,
    secret: SecretInput,
    email: str,
    first_name: str,
    institute_attempt_id: str,
    key: str,
    time: int | str,
    encoding: Encoding = DEFAULT_ENCODING,
) -> str:
    """Return the ``hmac`` of a create-attempt form: lower-case hex HMAC-SHA256.

    The message is ``email|first_name|institute_attempt_id|key|time`` (alphabetical key order), each
    value percent-encoded with ``encoding``.

    Args:
        secret: The secret from the Testpress admin dashboard.
        email: The user's e-mail address.
        first_name: The user's first name.
        institute_attempt_id: Your unique reference for this attempt.
        key: Your public institute key.
        time: Unix seconds (an ``int`` or a digit string).
        encoding: The percent-encoding (default :data:`DEFAULT_ENCODING`, unconfirmed).

    Raises:
        ValidationError: A value is missing, empty or not text, or ``time`` is not whole seconds.
        ConfigurationError: The secret is empty or not text or bytes.
    """
    secret = _secret(secret)  # masked from here on: no raw key in this frame's locals
    message = attempt_message(
        email=email,
        first_name=first_name,
        institute_attempt_id=institute_attempt_id,
        key=key,
        time=time,
        encoding=encoding,
    )
    return _hmac.new(_secret(secret).key, message, "sha256").hexdigest()


def review_message(
    *,
    attempt_id: str | int,
    institute_attempt_id: str,
    key: str,
    time: int | str,
    encoding: Encoding = DEFAULT_ENCODING,
) -> bytes:
    """Return the exact bytes :func:`review_hmac` signs: ``id|institute_attempt_id|key|time``.

    Raises:
        ValidationError: A value is missing, empty or of the wrong type.
    """
    _check_encoding(encoding)
    if isinstance(attempt_id, int) and not isinstance(attempt_id, bool):
        if not 0 <= attempt_id < 10**30:
            raise ValidationError(
                "id must be an attempt number", field="id", reason="out of range", vendor=VENDOR
            )
        attempt_id = str(attempt_id)
    values = (
        ("id", _text(attempt_id, "id")),
        ("institute_attempt_id", _text(institute_attempt_id, "institute_attempt_id")),
        ("key", _text(key, "key")),
        ("time", _epoch_text(time)),
    )
    return "|".join(encode_value(v, encoding, field=f) for f, v in values).encode("utf-8")


def review_hmac(
    *,
    secret: SecretInput,
    attempt_id: str | int,
    institute_attempt_id: str,
    key: str,
    time: int | str,
    encoding: Encoding = DEFAULT_ENCODING,
) -> str:
    """Return the ``hmac`` of a review-attempt link: lower-case hex HMAC-SHA256.

    The message is ``id|institute_attempt_id|key|time``. Whether Testpress percent-encodes these
    values is not documented; the same ``encoding`` setting as for :func:`attempt_hmac` applies
    (for the usual digit and letter ids every variant gives the same string).

    Raises:
        ValidationError: A value is missing, empty or of the wrong type.
        ConfigurationError: The secret is empty or not text or bytes.
    """
    secret = _secret(secret)  # masked from here on
    message = review_message(
        attempt_id=attempt_id,
        institute_attempt_id=institute_attempt_id,
        key=key,
        time=time,
        encoding=encoding,
    )
    return _hmac.new(_secret(secret).key, message, "sha256").hexdigest()


def webhook_message(
    payload: Mapping[str, Any],
    *,
    private_key: str,
    hash_fields: Sequence[str] = DEFAULT_WEBHOOK_HASH_FIELDS,
    encoding: Encoding = DEFAULT_ENCODING,
) -> bytes:
    """Return the exact bytes the webhook hash signs.

    ``payload`` is decoded by the literal-keeping decoder (plain ``str`` values work too).

    Raises:
        ValidationError: A hashed field is missing, or not a string or number; ``field`` names it.
    """
    if not isinstance(payload, Mapping):
        raise ValidationError(
            "payload must be a mapping", field="payload", reason="wrong type", vendor=VENDOR
        )
    private_key = argument_text(private_key, field="private_key", vendor=VENDOR)
    hash_fields = check_tuple_of(hash_fields, str, setting="hash_fields", vendor=VENDOR)
    parts = webhook_parts(payload, hash_fields, encoding)
    private = encoded_private_key(private_key, encoding) if None in parts else b""
    return join_webhook_message(parts, private)


def encoded_private_key(private_key: str, encoding: Encoding) -> bytes:
    """The private key's part of the hashed string: percent-encoded with ``encoding``, as UTF-8.

    Raises:
        ValidationError: The key cannot be encoded (it holds a lone surrogate).
    """
    return encode_value(private_key, encoding, field=PRIVATE_KEY).encode("utf-8")


def join_webhook_message(parts: Sequence[bytes | None], private: bytes) -> bytes:
    """The hashed string: ``parts`` joined with ``|``, the private key's part where ``None`` stands.

    The one place the webhook's signed string is assembled: :func:`webhook_message`,
    :func:`webhook_hash` and the verifier (once per configured key) all end here.
    """
    return b"|".join([private if p is None else p for p in parts])


def webhook_parts(
    payload: Mapping[str, Any], hash_fields: Sequence[str], encoding: Encoding
) -> list[bytes | None]:
    """Encode every hashed payload field (UTF-8 bytes), ``None`` where the private key goes.

    Every problem with the payload is found here, before the private key is touched, so no error
    about a payload leaves the key among the locals of a frame on its traceback.

    Raises:
        ValidationError: A hashed field is missing (``reason="hashed field missing"``), not a string
            or number (``"hashed field not a string or number"``), or not encodable (``"not UTF-8"``).
    """
    parts: list[bytes | None] = []
    for field in hash_fields:
        if field == PRIVATE_KEY:
            parts.append(None)
            continue
        value = payload.get(field, _MISSING)
        kind = type(value)
        if kind is int and -_BIG_INT < value < _BIG_INT:  # digits and a sign: no encoding changes them
            parts.append(b"%d" % value)
            continue
        if kind is str and _UNRESERVED_RE.fullmatch(value) is not None:  # the usual value, as it is
            parts.append(value.encode("ascii"))
            continue
        if value is _MISSING:
            raise ValidationError(
                f"the payload has no {field!r}, which the hash covers",
                field=field,
                reason="hashed field missing",
                vendor=VENDOR,
            )
        literal = literal_text(value)
        if literal is None:
            raise ValidationError(
                f"{field!r} must be a JSON string or number to be hashed",
                field=field,
                reason="hashed field not a string or number",
                vendor=VENDOR,
            )
        if _UNRESERVED_RE.fullmatch(literal) is not None:  # every encoding leaves it as it is
            parts.append(literal.encode("ascii"))
        else:
            parts.append(encode_value(literal, encoding, field=field).encode("utf-8"))
    return parts


_UNRESERVED_RE: Final = re.compile(r"[A-Za-z0-9._-]*", re.ASCII)
_MISSING: Final = object()
_BIG_INT: Final = 10**100
"""Integers smaller than this take the fast path (``str()`` refuses some past 4300 digits)."""
"""Text that every percent-encoding variant (and ``None``) leaves unchanged: the usual hashed value."""


def _keyed_message(parts: list[bytes | None], secret: Secret, encoding: Encoding) -> bytes:
    # The only frame that holds the private key as text; it raises only if the key itself cannot
    # be encoded (a setting problem), never because of a payload.
    private = encoded_private_key(secret.reveal(), encoding) if None in parts else b""
    return join_webhook_message(parts, private)


def webhook_hash(
    *,
    private_key: SecretInput,
    body: bytes,
    hash_fields: Sequence[str] = DEFAULT_WEBHOOK_HASH_FIELDS,
    encoding: Encoding = DEFAULT_ENCODING,
) -> str:
    """Return the exam webhook ``hash`` for a raw JSON body: lower-case hex HMAC-SHA512.

    The payload's own ``hash`` (if any) is ignored, so this also recomputes the hash of a received
    body. Values are taken by the literal rule (see the module documentation).

    Args:
        private_key: The private key from the Testpress admin dashboard.
        body: The raw JSON bytes.
        hash_fields: The payload keys hashed, in order (default
            :data:`DEFAULT_WEBHOOK_HASH_FIELDS`).
        encoding: The percent-encoding (default :data:`DEFAULT_ENCODING`, unconfirmed).

    Raises:
        ValidationError: The body is not a JSON object, or a hashed field is missing or unhashable.
        ConfigurationError: The private key is empty or not text or bytes.
    """
    _check_encoding(encoding)
    hash_fields = check_tuple_of(hash_fields, str, setting="hash_fields", vendor=VENDOR)
    secret = secrets_from(private_key, name="private_key", vendor=VENDOR)[0]
    del private_key  # only the masked form stays among this frame's locals
    if not isinstance(body, bytes | bytearray | memoryview):
        raise ValidationError(
            "body must be the raw JSON bytes", field="body", reason="not bytes", vendor=VENDOR
        )
    try:
        payload = load_json_with_literals(bytes(body))
    except PayloadError as exc:
        raise ValidationError(str(exc), field="body", reason="not JSON", vendor=VENDOR) from None
    if not isinstance(payload, dict):
        raise ValidationError(
            "the body must be a JSON object", field="body", reason="not an object", vendor=VENDOR
        )
    message = _keyed_message(webhook_parts(payload, hash_fields, encoding), secret, encoding)
    return _hmac.new(secret.key, message, "sha512").hexdigest()


def completion_message(
    data: Mapping[str, str],
    *,
    fields: Sequence[str],
    secret: Secret,
    public_key: str | None,
    encoding: Encoding,
) -> bytes:
    """Return the bytes a completion response's ``hmac`` signs under an explicit scheme.

    The values of ``fields`` in order (:data:`PUBLIC_KEY` is ``public_key``, :data:`PRIVATE_KEY` the
    secret itself, any other name a posted field of ``data``), each percent-encoded with
    ``encoding``, joined with ``|``.

    Raises:
        KeyError: A signed field is not in ``data`` (the verifier checks that first).
        ValidationError: A value cannot be encoded.
    """
    parts = []
    for name in fields:
        if name == PUBLIC_KEY:
            value = public_key or ""
        elif name == PRIVATE_KEY:
            value = secret.reveal()
        else:
            value = data[name]
        parts.append(encode_value(value, encoding, field=name))
    return "|".join(parts).encode("utf-8")
