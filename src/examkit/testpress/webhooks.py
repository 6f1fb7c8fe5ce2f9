"""Every Testpress verifier: the exam webhook's and the completion response's.

:class:`TestpressWebhookVerifier` takes a raw request and returns a verified
:class:`~examkit.testpress.ExamWebhookEvent`; :class:`TestpressCompletionVerifier` checks the
completion response posted back to ``surl`` under an explicit :class:`CompletionHmacScheme` (or
:func:`parse_unverified_attempt_result` reads it deliberately unverified).

Testpress puts its signature (``hash``) inside the JSON body, so the body must be decoded before it
can be checked. It is decoded once, keeping each number's literal text; a body that cannot be
decoded
is reported as :class:`~examkit.MalformedSignatureError` (the signature cannot be read),
never as a :class:`~examkit.PayloadError`. Only after the hash matched is the payload
turned into the typed event; a payload that then does not fit the model is a ``PayloadError``.

The scheme carries no timestamp and no nonce, so there is no freshness window. An optional
:class:`~examkit.core.ReplayGuard` can remember each accepted hash so that one delivery is
processed once.
"""

from __future__ import annotations

import hmac as _hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl

import attrs

from examkit.core._checks import (
    check_choice,
    check_instance,
    check_replay_guard,
    check_seconds,
    check_text,
    check_tuple_of,
)
from examkit.core._copying import sharing_deepcopy
from examkit.core._exports import deferred
from examkit.core._repr import safe_attrs_repr, safe_repr
from examkit.core.encoding import PercentEncoding
from examkit.core.env import env_setting
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    PayloadError,
    SignatureMismatchError,
    ValidationError,
)
from examkit.core.signing import (
    DIGEST_SIZES,
    HashAlgorithm,
    KeyRing,
    Secret,
    SecretInput,
    decode_signature,
    secrets_from,
)
from examkit.core.webhook import (
    DEFAULT_MAX_BODY_SIZE,
    ReplayGuard,
    Verified,
    WebhookRequest,
    body_size_limit,
    claim_once,
    received,
)
from examkit.testpress._literals import decode_with_literals, literal_text, make_plain
from examkit.testpress._vendor import VENDOR
from examkit.testpress.signing import (
    DEFAULT_ENCODING,
    DEFAULT_WEBHOOK_HASH_FIELDS,
    PRIVATE_KEY,
    PUBLIC_KEY,
    Encoding,
    completion_message,
    encoded_private_key,
    join_webhook_message,
    webhook_parts,
)

if TYPE_CHECKING:
    from examkit.testpress import models as _models
    from examkit.testpress.models import AttemptResult, ExamWebhookEvent
else:  # the models, and the converter's cattrs, load with the first typed result
    _models = deferred("examkit.testpress.models", globals(), "_models")

__all__ = [
    "CompletionHmacScheme",
    "TestpressCompletionVerifier",
    "TestpressWebhookVerifier",
    "parse_unverified_attempt_result",
]

DEFAULT_REPLAY_TTL: Final = 7 * 24 * 3600.0
"""How long (seconds) a replay guard remembers an accepted hash unless configured: seven days."""


class TestpressWebhookVerifier:
    """Verifies Testpress exam webhooks.

    Args:
        public_key: Your public institute key; the payload's ``key`` must equal it.
        private_key: The private key from the admin dashboard, or several during a rotation.
        encoding: The percent-encoding of the hashed values (default ``PYTHON_QUOTE``, unconfirmed;
            ``None`` for none).
        hash_fields: The payload keys the hash covers, in order, with
            :data:`~examkit.testpress.PRIVATE_KEY` where the private key goes (default
            :data:`~examkit.testpress.DEFAULT_WEBHOOK_HASH_FIELDS`).
        max_body_size: The largest body accepted, in bytes (default 1 MiB; ``None``: no limit).
        replay_guard: Remembers accepted hashes so a delivery is accepted once (default: none).
        replay_ttl: How long the guard remembers a hash, in seconds (default seven days).

    Raises:
        ConfigurationError: A key is missing or a setting is malformed.
    """

    __test__ = False

    def __init__(
        self,
        *,
        public_key: str,
        private_key: SecretInput | Sequence[SecretInput],
        encoding: Encoding = DEFAULT_ENCODING,
        hash_fields: Sequence[str] = DEFAULT_WEBHOOK_HASH_FIELDS,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        replay_guard: ReplayGuard | None = None,
        replay_ttl: float = DEFAULT_REPLAY_TTL,
    ) -> None:
        check_text(public_key, setting="public_key", vendor=VENDOR)
        _check_encoding(encoding)
        fields = _check_hash_fields(hash_fields)
        check_seconds(replay_ttl, setting="replay_ttl", vendor=VENDOR)
        self._public_key = public_key
        self._public_key_bytes = public_key.encode("utf-8", "surrogatepass")
        self._secrets: tuple[Secret, ...] = secrets_from(private_key, name="private_key", vendor=VENDOR)
        self._private_keys = KeyRing(s.key for s in self._secrets)
        self._encoding = encoding
        self._fields = fields
        self._authenticated = tuple(f for f in fields if f != PRIVATE_KEY)
        # The top-level keys whose literal text is read: the hashed ones and the public key.
        self._exact_fields = frozenset((*self._authenticated, "key"))
        try:
            # The private key's encoded form is part of every hashed string: compute it once.
            self._encoded_private = KeyRing(encoded_private_key(s.reveal(), encoding) for s in self._secrets)
        except ValidationError:
            raise ConfigurationError(
                "private_key cannot be percent-encoded", setting="private_key", vendor=VENDOR
            ) from None
        self._max_body_size = body_size_limit(max_body_size, vendor=VENDOR)
        self._guard = check_replay_guard(replay_guard, vendor=VENDOR)
        self._replay_ttl = float(replay_ttl)

    @classmethod
    def from_env(cls, **settings: Any) -> TestpressWebhookVerifier:
        """Build from ``EXAMKIT_TESTPRESS_PUBLIC_KEY`` and ``EXAMKIT_TESTPRESS_PRIVATE_KEY``.

        Raises:
            ConfigurationError: A variable is not set; the message names it.
        """
        public_key = env_setting("EXAMKIT_TESTPRESS_PUBLIC_KEY", vendor=VENDOR)
        private_key = env_setting("EXAMKIT_TESTPRESS_PRIVATE_KEY", vendor=VENDOR)
        return cls(
            public_key=public_key,
            private_key=Secret(private_key, name="EXAMKIT_TESTPRESS_PRIVATE_KEY"),
            **settings,
        )

    @property
    def authenticated_fields(self) -> tuple[str, ...]:
        """The payload keys the hash covers, in order."""
        return self._authenticated

    @property
    def max_body_size(self) -> int | None:
        """The largest body accepted, in bytes (``None``: no limit); the framework adapters read no more."""
        return self._max_body_size

    def verify(self, request: WebhookRequest) -> ExamWebhookEvent:
        """Verify an exam webhook and return its typed event.

        Raises:
            PayloadTooLargeError: The body is over ``max_body_size``.
            MalformedSignatureError: The body is not a JSON object, the ``hash`` is not 128 hex
                characters, or a hashed field is missing or not a string or number.
            MissingSignatureError: The payload has no ``hash``.
            SignatureMismatchError: The payload's ``key`` is not your public key, or the hash does
                not match any private key.
            ReplayedRequestError: The replay guard saw this delivery before.
            PayloadError: The hash matches but the payload does not fit the event model.
        """
        return self._verify(request)[0]

    def verify_detailed(self, request: WebhookRequest) -> Verified[ExamWebhookEvent]:
        """Verify as :meth:`verify` does; also say which configured private key matched.

        Every private key is tried in constant time; ``key_index`` is the position of the one that
        matched (``0`` for the first), so during a rotation you can see when the old key stops being
        used (``result.rotation_note``).

        Raises:
            WebhookVerificationError: As :meth:`verify`.
            PayloadError: As :meth:`verify`.
        """
        event, index = self._verify(request)
        return Verified(event=event, key_index=index, key_count=len(self._secrets))

    def _verify(self, request: WebhookRequest) -> tuple[ExamWebhookEvent, int]:
        payload, kept_literals, candidate, index = self._authenticate(request)
        # Parsed before the replay claim: a payload that does not fit must not use up its hash.
        # The decoded payload is this call's own: its few literal-keeping numbers are made plain in place.
        event = _models.CONVERTER.structure(
            make_plain(payload) if kept_literals else payload, _models.ExamWebhookEvent
        )
        if self._guard is not None:
            claim_once(
                self._guard,
                f"examkit:{VENDOR}:{candidate.hex()}",
                ttl=self._replay_ttl,
                vendor=VENDOR,
                message="this webhook (same hash) was accepted before",
            )
        return attrs.evolve(event, authenticated_fields=self._authenticated), index

    def _authenticate(self, request: WebhookRequest) -> tuple[dict[str, Any], bool, bytes, int]:
        """Everything up to the typed step: decode, check the key and the hash (no replay claim).

        Returns the decoded payload, whether any number kept its literal, the sent hash and the
        position of the private key that matched.
        """
        body = received(request, limit=self._max_body_size, vendor=VENDOR).body
        try:
            payload, kept_literals = decode_with_literals(body, exact_fields=self._exact_fields)
        except PayloadError as exc:
            reason = "body too deep" if exc.reason == "too deep" else "body not JSON"
            raise MalformedSignatureError(
                f"the hash cannot be read: {exc}", vendor=VENDOR, reason=reason
            ) from None
        if not isinstance(payload, dict):
            raise MalformedSignatureError(
                "the hash cannot be read: the body is not a JSON object",
                vendor=VENDOR,
                reason="not an object",
            )
        sent_hash = payload.get("hash")
        if sent_hash is None or sent_hash == "":
            raise MissingSignatureError("the payload has no hash", vendor=VENDOR, reason="no hash")
        if not isinstance(sent_hash, str):
            raise MalformedSignatureError(
                "the hash must be a string", vendor=VENDOR, reason="hash not a string"
            )
        if len(sent_hash) == 128 and _HEX_SHA512.fullmatch(sent_hash):  # the usual hash: as decode_signature
            candidate = bytes.fromhex(sent_hash)
        else:
            candidate = decode_signature(sent_hash, encoding="hex", algorithm="sha512", vendor=VENDOR)
        key = literal_text(payload.get("key"))
        if key is None or not _hmac.compare_digest(
            key.encode("utf-8", "surrogatepass"), self._public_key_bytes
        ):
            raise SignatureMismatchError(
                "the payload's key is not the configured public key: the webhook is for another "
                "institute, or public_key is wrong",
                vendor=VENDOR,
                reason="public key mismatch",
            )
        index = self._private_keys.hmac_index_per_key(candidate, self._messages(payload), "sha512")
        if index is None:
            raise SignatureMismatchError(
                "the hash does not match: check private_key and the encoding and hash_fields settings",
                vendor=VENDOR,
                reason="signature mismatch",
            )
        return payload, kept_literals, candidate, index

    def _messages(self, payload: dict[str, Any]) -> list[bytes]:
        """The hashed string once per private key (only the private key's part differs)."""
        try:
            parts = webhook_parts(payload, self._fields, self._encoding)
        except ValidationError as exc:
            if exc.reason == "not UTF-8":
                raise MalformedSignatureError(
                    f"{exc.field!r} holds text that cannot be percent-encoded",
                    vendor=VENDOR,
                    reason="hashed field not encodable",
                ) from None
            raise MalformedSignatureError(str(exc), vendor=VENDOR, reason=exc.reason) from None
        return [join_webhook_message(parts, private) for private in self._encoded_private]

    # A new object with its own settings; what it was given to talk to the world (guard) is shared.
    __deepcopy__ = sharing_deepcopy("_guard")

    @safe_repr
    def __repr__(self) -> str:
        return (
            f"TestpressWebhookVerifier(public_key={self._public_key!r}, "
            f"private_keys=<{len(self._secrets)}>, encoding={self._encoding!r})"
        )


_HEX_SHA512: Final = re.compile(r"[0-9a-fA-F]{128}")
"""A hex SHA-512 digest, either case: what :func:`decode_signature` accepts and decodes with ``fromhex``."""


def _check_encoding(encoding: object) -> None:
    if encoding is not None:
        check_instance(encoding, PercentEncoding, setting="encoding", vendor=VENDOR)


def _check_hash_fields(hash_fields: object) -> tuple[str, ...]:
    fields = check_tuple_of(hash_fields, str, setting="hash_fields", vendor=VENDOR)
    if "" in fields or "hash" in fields or all(f == PRIVATE_KEY for f in fields):
        raise ConfigurationError(
            "hash_fields must name at least one payload key (and not 'hash' or ''): a hash over the "
            "private key alone would not cover the payload",
            setting="hash_fields",
            vendor=VENDOR,
        )
    return fields


# --- the completion response ----------------------------------------------------------------------


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return check_tuple_of(value, str, setting="fields", vendor=VENDOR)


def _check_scheme_fields(_instance: object, _attribute: object, fields: tuple[str, ...]) -> None:
    for name in fields:
        check_text(name, setting="fields", vendor=VENDOR)
    if "hmac" in fields:
        raise ConfigurationError(
            "a completion scheme cannot sign 'hmac' itself", setting="fields", vendor=VENDOR
        )


@safe_attrs_repr
@attrs.frozen(kw_only=True)
class CompletionHmacScheme:
    """How the completion response's ``hmac`` is computed: you must say, Testpress does not.

    The signed string is the values of ``fields`` in order, each percent-encoded with ``encoding``,
    joined with ``|``; the ``hmac`` is its hex HMAC under the secret with ``algorithm``. In
    ``fields``, :data:`~examkit.testpress.PUBLIC_KEY` stands for your public key and
    :data:`~examkit.testpress.PRIVATE_KEY` for the secret itself; every other entry is a
    posted field name.

    Attributes:
        fields: The signed values, in order.
        algorithm: ``"sha256"`` or ``"sha512"``.
        encoding: The percent-encoding, or ``None``.

    Raises:
        ConfigurationError: ``fields`` is empty or names ``hmac``, or the algorithm is unknown.
    """

    fields: tuple[str, ...] = attrs.field(converter=_str_tuple, validator=_check_scheme_fields)
    algorithm: HashAlgorithm = attrs.field(
        default="sha256",
        validator=lambda _i, _a, value: check_choice(value, DIGEST_SIZES, setting="algorithm", vendor=VENDOR),
    )
    encoding: Encoding = attrs.field(
        default=DEFAULT_ENCODING, validator=lambda _i, _a, value: _check_encoding(value)
    )


def _form_fields(fields: Mapping[str, str] | bytes | str) -> dict[str, str]:
    if isinstance(fields, bytes | bytearray | str):
        try:
            text = fields.decode("utf-8") if isinstance(fields, bytes | bytearray) else fields
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise PayloadError(
                "the completion response is not UTF-8 form data",
                reason="not form data",
                vendor=VENDOR,
            ) from None
        result: dict[str, str] = {}
        for name, value in pairs:
            if name in result and result[name] != value:
                raise PayloadError(
                    f"the field {name!r} was sent twice with different values",
                    field=name,
                    reason="duplicate field",
                    vendor=VENDOR,
                )
            result[name] = value
        return result
    if not isinstance(fields, Mapping):
        raise PayloadError(
            "the completion response must be a mapping of fields, form bytes or a query string",
            reason="not form data",
            vendor=VENDOR,
        )
    out: dict[str, str] = {}
    items: Iterable[tuple[object, object]] = fields.items()
    for key, val in items:
        if not isinstance(key, str) or not isinstance(val, str):
            raise PayloadError(
                "completion response fields must be text",
                field=str(key),
                reason="not text",
                vendor=VENDOR,
            )
        out[key] = val
    return out


def _structure_result(data: dict[str, str], *, verified: bool) -> AttemptResult:
    result = _models.CONVERTER.structure(data, _models.AttemptResult)
    return attrs.evolve(result, verified=verified) if verified else result


def parse_unverified_attempt_result(fields: Mapping[str, str] | bytes | str) -> AttemptResult:
    """Read a completion response WITHOUT checking its ``hmac``; the result has ``verified=False``.

    Calling this is the explicit opt-in to an unverified result. Anyone can send a browser to your
    ``surl`` with made-up values, so use it for display only, and take the grade from the exam
    webhook
    (:class:`TestpressWebhookVerifier`).

    Args:
        fields: The posted fields (``request.POST``, ``request.form``, a dict), the raw form body
            bytes, or the query string.

    Raises:
        PayloadError: A field is missing or malformed.
    """
    return _structure_result(_form_fields(fields), verified=False)


class TestpressCompletionVerifier:
    """Verifies a completion response's ``hmac`` with an explicit scheme, then parses it.

    Args:
        scheme: How the ``hmac`` is computed (required; see :class:`CompletionHmacScheme`).
        secret: The secret, or several during a rotation.
        public_key: Your public key, needed when the scheme signs
            :data:`~examkit.testpress.PUBLIC_KEY`.

    Raises:
        ConfigurationError: A setting is missing or malformed.
    """

    __test__ = False

    def __init__(
        self,
        *,
        scheme: CompletionHmacScheme,
        secret: SecretInput | Sequence[SecretInput],
        public_key: str | None = None,
    ) -> None:
        # To read a response without verification, call parse_unverified_attempt_result.
        check_instance(scheme, CompletionHmacScheme, setting="scheme", vendor=VENDOR)
        if public_key is not None:
            check_text(public_key, setting="public_key", vendor=VENDOR)
        if PUBLIC_KEY in scheme.fields and not public_key:
            raise ConfigurationError(
                "the scheme signs the public key: pass public_key",
                setting="public_key",
                vendor=VENDOR,
            )
        self._scheme = scheme
        self._secrets = secrets_from(secret, name="secret", vendor=VENDOR)
        self._public_key = public_key

    def _matching(self, candidate: bytes, data: Mapping[str, str]) -> int | None:
        # The expected digests live only in this frame, which has returned before verify() raises.
        found: int | None = None
        for position, secret in enumerate(self._secrets):
            message = completion_message(
                data,
                fields=self._scheme.fields,
                secret=secret,
                public_key=self._public_key,
                encoding=self._scheme.encoding,
            )
            digest = _hmac.digest(secret.key, message, self._scheme.algorithm)
            if _hmac.compare_digest(candidate, digest) and found is None:
                found = position
        return found

    def verify(self, fields: Mapping[str, str] | bytes | str) -> AttemptResult:
        """Check the ``hmac``, then return the parsed result (``verified=True``).

        Args:
            fields: The posted fields, the raw form body bytes, or the query string.

        Raises:
            MissingSignatureError: There is no ``hmac`` field.
            MalformedSignatureError: The form data is unreadable, the ``hmac`` is not hex of the
                right length, or a signed field is missing.
            SignatureMismatchError: The ``hmac`` does not match.
            PayloadError: The ``hmac`` matches but a field is malformed.
        """
        return self._verify(fields)[0]

    def verify_detailed(self, fields: Mapping[str, str] | bytes | str) -> Verified[AttemptResult]:
        """Verify as :meth:`verify` does; also say which configured secret matched (``key_index``).

        Every secret is tried in constant time.

        Raises:
            WebhookVerificationError: As :meth:`verify`.
            PayloadError: As :meth:`verify`.
        """
        result, index = self._verify(fields)
        return Verified(event=result, key_index=index, key_count=len(self._secrets))

    def _verify(self, fields: Mapping[str, str] | bytes | str) -> tuple[AttemptResult, int]:
        """Check the ``hmac``, then parse; return the result and the matching secret's position.

        Args:
            fields: The posted fields, the raw form body bytes, or the query string.

        Raises:
            MissingSignatureError: There is no ``hmac`` field.
            MalformedSignatureError: The form data is unreadable, the ``hmac`` is not hex of the
                right length, or a signed field is missing.
            SignatureMismatchError: The ``hmac`` does not match.
            PayloadError: The ``hmac`` matches but a field is malformed.
        """
        try:
            data = _form_fields(fields)
        except PayloadError as exc:
            raise MalformedSignatureError(
                f"cannot read the signed fields: {exc}",
                vendor=VENDOR,
                reason="unreadable form data",
            ) from None
        received = data.get("hmac")
        if not received:
            raise MissingSignatureError(
                "the completion response has no hmac field", vendor=VENDOR, reason="no hmac"
            )
        candidate = decode_signature(
            received, encoding="hex", algorithm=self._scheme.algorithm, vendor=VENDOR
        )
        missing = [f for f in self._scheme.fields if f not in (PUBLIC_KEY, PRIVATE_KEY) and f not in data]
        if missing:
            raise MalformedSignatureError(
                f"the signed field {missing[0]!r} is missing",
                vendor=VENDOR,
                reason="signed field missing",
            )
        try:
            index = self._matching(candidate, data)
        except ValidationError as exc:
            raise MalformedSignatureError(str(exc), vendor=VENDOR, reason="unencodable field") from None
        if index is None:
            raise SignatureMismatchError(
                "the completion response's hmac does not match: check the scheme and the secret",
                vendor=VENDOR,
                reason="signature mismatch",
            )
        return _structure_result(data, verified=True), index

    @safe_repr
    def __repr__(self) -> str:
        return f"TestpressCompletionVerifier(scheme={self._scheme!r}, secrets=<{len(self._secrets)}>)"
