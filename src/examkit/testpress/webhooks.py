"""The exam webhook verifier: raw request in, verified :class:`ExamWebhookEvent` out.

Testpress puts its signature (``hash``) inside the JSON body, so the body must be decoded before it
can be checked. It is decoded once, keeping each number's literal text; a body that cannot be
decoded
is reported as :class:`~examkit.core.errors.MalformedSignatureError` (the signature cannot be read),
never as a :class:`~examkit.core.errors.PayloadError`. Only after the hash matched is the payload
turned into the typed event; a payload that then does not fit the model is a ``PayloadError``.

The scheme carries no timestamp and no nonce, so there is no freshness window. An optional
:class:`~examkit.core.webhook.ReplayGuard` can remember each accepted hash so that one delivery is
processed once.
"""

from __future__ import annotations

import hmac as _hmac
from collections.abc import Sequence
from typing import Any, Final

import attrs

from examkit.core._checks import check_replay_guard, check_seconds, check_text, check_tuple_of
from examkit.core._copying import deepcopy_sharing
from examkit.core._repr import safe_repr
from examkit.core.encoding import PercentEncoding
from examkit.core.env import env_setting
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    SignatureMismatchError,
    ValidationError,
)
from examkit.core.signing import (
    KeyRing,
    Secret,
    SecretInput,
    decode_signature,
    matches_any,
    secrets_from,
)
from examkit.core.webhook import (
    DEFAULT_MAX_BODY_SIZE,
    ReplayGuard,
    WebhookRequest,
    body_size_limit,
    claim_once,
    received,
)
from examkit.testpress.models import CONVERTER, VENDOR, ExamWebhookEvent
from examkit.testpress.signing import (
    DEFAULT_ENCODING,
    DEFAULT_WEBHOOK_HASH_FIELDS,
    PRIVATE_KEY,
    Encoding,
    JsonLiteralError,
    _decode_with_literals,
    _make_plain,
    encode_value,
    is_text,
    literal_text,
    webhook_hash,
)

__all__ = ["DEFAULT_REPLAY_TTL", "TestpressWebhookVerifier", "webhook_hash"]

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
            :data:`~examkit.testpress.signing.PRIVATE_KEY` where the private key goes (default
            :data:`~examkit.testpress.signing.DEFAULT_WEBHOOK_HASH_FIELDS`).
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
        if encoding is not None and not isinstance(encoding, PercentEncoding):
            raise ConfigurationError(
                "encoding must be a PercentEncoding variant or None",
                setting="encoding",
                vendor=VENDOR,
            )
        fields = check_tuple_of(hash_fields, str, setting="hash_fields", vendor=VENDOR)
        if (
            not all(is_text(f) for f in fields)
            or "hash" in fields
            or not any(f != PRIVATE_KEY for f in fields)
        ):
            raise ConfigurationError(
                "hash_fields must name at least one payload key (and not 'hash'): a hash over the "
                "private key alone would not cover the payload",
                setting="hash_fields",
                vendor=VENDOR,
            )
        check_seconds(replay_ttl, setting="replay_ttl", vendor=VENDOR)
        self._public_key = public_key
        self._public_key_bytes = public_key.encode("utf-8", "surrogatepass")
        self._secrets: tuple[Secret, ...] = secrets_from(private_key, name="private_key", vendor=VENDOR)
        self._encoding = encoding
        self._fields = fields
        self._authenticated = tuple(f for f in fields if f != PRIVATE_KEY)
        try:
            # The private key's encoded form is part of every hashed string: compute it once.
            self._encoded_private = KeyRing(
                encode_value(s.reveal(), encoding, field="private_key").encode("utf-8") for s in self._secrets
            )
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
        body = received(request, limit=self._max_body_size, vendor=VENDOR).body
        try:
            payload, kept_literals = _decode_with_literals(body)
        except JsonLiteralError as exc:
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
        # The expected digests are never bound to a local: none is left in view when this raises.
        if not matches_any(
            candidate,
            (
                _hmac.new(secret.key, message, "sha512").digest()
                for secret, message in zip(self._secrets, self._messages(payload), strict=True)
            ),
        ):
            raise SignatureMismatchError(
                "the hash does not match: check private_key and the encoding and hash_fields settings",
                vendor=VENDOR,
                reason="signature mismatch",
            )
        # Parsed before the replay claim: a payload that does not fit must not use up its hash.
        # The decoded payload is this call's own: its few literal-keeping numbers are made plain in place.
        event = CONVERTER.structure(_make_plain(payload) if kept_literals else payload, ExamWebhookEvent)
        if self._guard is not None:
            claim_once(
                self._guard,
                f"examkit:{VENDOR}:{candidate.hex()}",
                ttl=self._replay_ttl,
                vendor=VENDOR,
                message="this webhook (same hash) was accepted before",
            )
        return attrs.evolve(event, authenticated_fields=self._authenticated)

    def _messages(self, payload: dict[str, Any]) -> list[bytes]:
        """Build the hashed string once per private key (only the private key's part differs)."""
        parts: list[str | None] = []
        for field in self._fields:
            if field == PRIVATE_KEY:
                parts.append(None)
                continue
            if field not in payload:
                raise MalformedSignatureError(
                    f"the payload has no {field!r}, which the hash covers",
                    vendor=VENDOR,
                    reason="hashed field missing",
                )
            text = literal_text(payload[field])
            if text is None:
                raise MalformedSignatureError(
                    f"{field!r} must be a JSON string or number to be hashed",
                    vendor=VENDOR,
                    reason="hashed field not a string or number",
                )
            try:
                parts.append(encode_value(text, self._encoding, field=field))
            except ValidationError:
                raise MalformedSignatureError(
                    f"{field!r} holds text that cannot be percent-encoded",
                    vendor=VENDOR,
                    reason="hashed field not encodable",
                ) from None
        encoded = [None if p is None else p.encode("utf-8") for p in parts]
        return [b"|".join(private if p is None else p for p in encoded) for private in self._encoded_private]

    def __deepcopy__(self, memo: dict[int, Any]) -> TestpressWebhookVerifier:
        # A new object with its own settings; what it was given to talk to the world (guard) is shared.
        return deepcopy_sharing(
            self,
            memo,
            self._guard,
        )

    @safe_repr
    def __repr__(self) -> str:
        return (
            f"TestpressWebhookVerifier(public_key={self._public_key!r}, "
            f"private_keys=<{len(self._secrets)}>, encoding={self._encoding!r})"
        )
