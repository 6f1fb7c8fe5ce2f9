r"""Testpress's signature schemes, as pure functions.

* :func:`attempt_hmac`: HMAC-SHA256 of ``email|first_name|institute_attempt_id|key|time``, each
  value percent-encoded, for the "create attempt by HMAC" redirect.
* :func:`review_hmac`: HMAC-SHA256 of ``id|institute_attempt_id|key|time`` for the review link.
* :func:`webhook_hash`: HMAC-SHA512 keyed with the private key over the percent-encoded values of
  the exam webhook's ``key``, ``attempt_id``, ``correct_answers_count``, the private key itself,
  ``incorrect_answers_count``, ``unanswered_answers_count``, ``percentage``, ``score`` and
  ``user_id``.

Which percent-encoding Testpress means is not documented; every function takes ``encoding``, one of
:class:`~examkit.core.encoding.PercentEncoding` (default :data:`DEFAULT_ENCODING`,
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
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeAlias

from examkit.core._checks import argument_text, check_tuple_of, label
from examkit.core.clock import parse_epoch_seconds
from examkit.core.encoding import PercentEncoding, percent_encode
from examkit.core.errors import ValidationError
from examkit.core.signing import Secret, SecretInput, secrets_from
from examkit.testpress.models import VENDOR

__all__ = [
    "DEFAULT_ENCODING",
    "DEFAULT_WEBHOOK_HASH_FIELDS",
    "DOCUMENTED_WEBHOOK_HASH_NAMES",
    "PRIVATE_KEY",
    "PUBLIC_KEY",
    "WEBHOOK_HASH_NAME_MAPPING",
    "Encoding",
    "JsonLiteralError",
    "attempt_hmac",
    "attempt_message",
    "encode_value",
    "is_text",
    "literal_text",
    "load_json_with_literals",
    "plain_json",
    "review_hmac",
    "review_message",
    "webhook_hash",
    "webhook_message",
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


def is_text(value: object) -> bool:
    """Tell whether ``value`` is a non-empty ``str`` (for checks on settings typed as text)."""
    return isinstance(value, str) and bool(value)


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
    message = review_message(
        attempt_id=attempt_id,
        institute_attempt_id=institute_attempt_id,
        key=key,
        time=time,
        encoding=encoding,
    )
    return _hmac.new(_secret(secret).key, message, "sha256").hexdigest()


# --- JSON with number literals ----------------------------------------------------------------


class JsonLiteralError(ValueError):
    """A body is not JSON examkit accepts (internal; callers turn it into an examkit error)."""


class _LiteralInt(int):
    """An ``int`` that remembers the literal it was parsed from (for example ``-0``)."""

    literal: str

    def __new__(cls, literal: str) -> _LiteralInt:
        obj = super().__new__(cls, literal)
        obj.literal = literal
        return obj


class _LiteralDecimal(Decimal):
    """A :class:`~decimal.Decimal` that remembers its literal (``1e3``, ``0.00``)."""

    literal: str

    def __new__(cls, literal: str) -> _LiteralDecimal:
        obj = super().__new__(cls, literal)
        obj.literal = literal
        return obj


def _reject_constant(name: str) -> Any:
    raise JsonLiteralError(f"{name} is not allowed in JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise JsonLiteralError("a key appears more than once in one object")
    return result


_DECODER: Final = json.JSONDecoder(
    parse_int=_LiteralInt,
    parse_float=_LiteralDecimal,
    parse_constant=_reject_constant,
    object_pairs_hook=_no_duplicates,
)


def load_json_with_literals(body: bytes) -> Any:
    """Decode JSON whose numbers keep their literal text.

    Integers decode to ``int`` and fractions or exponents to :class:`~decimal.Decimal` (as
    :func:`examkit.core.serde.load_json` does), each remembering the exact literal it was written
    as;
    :func:`literal_text` returns that text. ``NaN``, ``Infinity`` and repeated keys are refused.

    Raises:
        JsonLiteralError: The body is not UTF-8 or not acceptable JSON.
    """
    try:
        text = body.decode("utf-8")
        return _DECODER.decode(text)
    except JsonLiteralError:
        raise
    except UnicodeDecodeError:
        raise JsonLiteralError("the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise JsonLiteralError(f"the body is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise JsonLiteralError("the body is nested too deeply") from None
    except (ValueError, InvalidOperation, TypeError, AttributeError) as exc:
        raise JsonLiteralError(f"the body is not acceptable JSON: {type(exc).__name__}") from None


def literal_text(value: object) -> str | None:
    """Return the text a decoded JSON value contributes to the webhook hash, or ``None`` if none.

    Strings give themselves; numbers decoded by :func:`load_json_with_literals` give their literal;
    anything else (``true``, ``null``, objects, arrays) gives ``None``.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, _LiteralInt | _LiteralDecimal):
        return value.literal
    return None


def plain_json(value: Any) -> Any:
    """Return ``value`` with each literal-keeping number made a plain ``int`` or ``Decimal``."""
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    if isinstance(value, _LiteralInt):
        return int(value)
    if isinstance(value, _LiteralDecimal):
        return Decimal(value)
    return value


def webhook_message(
    payload: Mapping[str, Any],
    *,
    private_key: str,
    hash_fields: Sequence[str] = DEFAULT_WEBHOOK_HASH_FIELDS,
    encoding: Encoding = DEFAULT_ENCODING,
) -> bytes:
    """Return the exact bytes the webhook hash signs.

    ``payload`` is decoded by :func:`load_json_with_literals` (plain ``str`` values work too).

    Raises:
        ValidationError: A hashed field is missing, or not a string or number; ``field`` names it.
    """
    if not isinstance(payload, Mapping):
        raise ValidationError(
            "payload must be a mapping", field="payload", reason="wrong type", vendor=VENDOR
        )
    private_key = argument_text(private_key, field="private_key", vendor=VENDOR)
    hash_fields = check_tuple_of(hash_fields, str, setting="hash_fields", vendor=VENDOR)
    parts: list[str] = []
    for field in hash_fields:
        if field == PRIVATE_KEY:
            text: str = private_key
        else:
            if field not in payload:
                raise ValidationError(
                    f"the payload has no {field!r}, which the hash covers",
                    field=field,
                    reason="hashed field missing",
                    vendor=VENDOR,
                )
            literal = literal_text(payload[field])
            if literal is None:
                raise ValidationError(
                    f"{field!r} must be a JSON string or number to be hashed",
                    field=field,
                    reason="hashed field not a string or number",
                    vendor=VENDOR,
                )
            text = literal
        parts.append(encode_value(text, encoding, field=field))
    return "|".join(parts).encode("utf-8")


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
    secret = secrets_from(private_key, name="private_key", vendor=VENDOR)[0]
    if not isinstance(body, bytes | bytearray | memoryview):
        raise ValidationError(
            "body must be the raw JSON bytes", field="body", reason="not bytes", vendor=VENDOR
        )
    try:
        payload = load_json_with_literals(bytes(body))
    except JsonLiteralError as exc:
        raise ValidationError(str(exc), field="body", reason="not JSON", vendor=VENDOR) from None
    if not isinstance(payload, dict):
        raise ValidationError(
            "the body must be a JSON object", field="body", reason="not an object", vendor=VENDOR
        )
    private_text = secret.reveal()
    message = webhook_message(payload, private_key=private_text, hash_fields=hash_fields, encoding=encoding)
    return _hmac.new(secret.key, message, "sha512").hexdigest()
