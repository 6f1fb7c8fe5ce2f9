"""Verify Assessio's results webhook and read it into a typed event.

Assessio calls your webhook URL with the **integrator-api-key**: a token that Assessio generated and
shared with you, or one you gave Assessio. The vendor does not say which header carries it, so the
header name and scheme are settings (default: the raw token in an ``integrator-api-key`` header).
Optionally the verifier also checks a ``Signature`` header signed like Assessio's own requests
(``t.<body>`` under the integrator secret), should Assessio sign its webhooks for you.

>>> from examkit.core.webhook import WebhookRequest
>>> verifier = AssessioWebhookVerifier(api_key="token-1234")
>>> event = verifier.verify(WebhookRequest(
...     body=b'{"eventType": "PING", "payload": {}}',
...     headers={"integrator-api-key": "token-1234"},
... ))
>>> event.event_type
'PING'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

import attrs

from examkit.assessio.models import (
    AssessioEvent,
    AssessmentSubmittedEvent,
    EventType,
    UnknownEvent,
    converter,
)
from examkit.assessio.signing import (
    DEFAULT_HEADER_FORMAT,
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    VENDOR,
    SignatureHeaderFormat,
    SignatureVerifier,
)
from examkit.core._checks import check_clock, check_replay_guard
from examkit.core._copying import deepcopy_sharing
from examkit.core._repr import safe_repr
from examkit.core.clock import Clock, SystemClock, Tolerance, tolerance_seconds
from examkit.core.env import env_setting
from examkit.core.errors import (
    ConfigurationError,
    MalformedSignatureError,
    MissingSignatureError,
    PayloadError,
    SignatureMismatchError,
)
from examkit.core.serde import load_json
from examkit.core.signing import (
    KeyRing,
    SecretInput,
    credential_fingerprint,
    credential_matches,
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

__all__ = [
    "DEFAULT_API_KEY_HEADER",
    "ApiKeyScheme",
    "AssessioWebhookVerifier",
    "parse_event",
]

DEFAULT_API_KEY_HEADER: Final = "integrator-api-key"
"""The header examkit expects the integrator-api-key in, unless told otherwise (unconfirmed)."""

ApiKeyScheme = Literal["raw", "bearer"]
"""How the API key is written in its header: the bare token, or ``Bearer <token>``."""


def parse_event(body: bytes | str) -> AssessioEvent:
    """Read a webhook body into its event, without verifying anything.

    ``ASSESSMENT_SUBMITTED`` becomes an :class:`~examkit.assessio.models.AssessmentSubmittedEvent`;
    any other ``eventType`` an :class:`~examkit.assessio.models.UnknownEvent` that keeps the
    payload.

    Raises:
        PayloadError: The body is not JSON, not an object, has no string ``eventType``, or an
            ``ASSESSMENT_SUBMITTED`` payload does not fit the documented shape.
    """
    data = load_json(body, vendor=VENDOR)
    if not isinstance(data, Mapping):
        raise PayloadError("the webhook body must be a JSON object", reason="not an object", vendor=VENDOR)
    event_type = data.get("eventType")
    if not isinstance(event_type, str) or not event_type:
        raise PayloadError(
            "eventType: is missing or not a string",
            field="eventType",
            reason="missing",
            vendor=VENDOR,
        )
    if event_type == EventType.ASSESSMENT_SUBMITTED.value:
        return converter.structure(data, AssessmentSubmittedEvent)
    return converter.structure(data, UnknownEvent)


class AssessioWebhookVerifier:
    """Verifies Assessio's webhook calls and returns typed events.

    Checks, in order: the body size; the integrator-api-key (constant time, any of several keys);
    when ``signature_secret`` is set, the ``Signature`` header and its timestamp; then the body is
    parsed; only then does the replay guard (only with signatures) remember the delivery.

    Args:
        api_key: The integrator-api-key, or several during a rotation.
        header: The header that carries the key (default ``integrator-api-key``; unconfirmed).
        scheme: ``"raw"`` (the header is the token) or ``"bearer"`` (``Bearer <token>``, the word in
            any case). Use ``header="Authorization", scheme="bearer"`` for a bearer token.
        signature_secret: When set, a ``Signature`` header (``t=<t>,signature=<hex>`` over
            ``t.<body>``) is required too and checked with this secret (or any of several).
        header_format: The labels of the ``Signature`` header.
        tolerance: Allowed clock skew for the signature's ``t``, either way (default 300 s).
        clock: The clock for the freshness check.
        replay_guard: Remembers accepted signatures so each is accepted once (needs
            ``signature_secret``; a bare API key carries nothing unique to remember).
        max_body_size: Bodies above this many bytes are refused before anything else (``None``: no
            limit).

    Raises:
        ConfigurationError: A setting is invalid.
    """

    def __init__(
        self,
        *,
        api_key: SecretInput | Sequence[SecretInput],
        header: str = DEFAULT_API_KEY_HEADER,
        scheme: ApiKeyScheme = "raw",
        signature_secret: SecretInput | Sequence[SecretInput] | None = None,
        header_format: SignatureHeaderFormat = DEFAULT_HEADER_FORMAT,
        tolerance: Tolerance = DEFAULT_TOLERANCE,
        clock: Clock | None = None,
        replay_guard: ReplayGuard | None = None,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        keys = secrets_from(api_key, name="api_key", vendor=VENDOR)
        self._key_prints = KeyRing(credential_fingerprint(k.key) for k in keys)
        header_setting: object = header
        if not isinstance(header_setting, str) or not header_setting.strip() or not header_setting.isascii():
            raise ConfigurationError(
                "header must be a non-empty ASCII header name", setting="header", vendor=VENDOR
            )
        if scheme not in ("raw", "bearer"):
            raise ConfigurationError("scheme must be 'raw' or 'bearer'", setting="scheme", vendor=VENDOR)
        if not isinstance(header_format, SignatureHeaderFormat):
            raise ConfigurationError(
                "header_format must be a SignatureHeaderFormat",
                setting="header_format",
                vendor=VENDOR,
            )
        self.header = header
        self.scheme: ApiKeyScheme = scheme
        self.tolerance = tolerance_seconds(tolerance)
        self.header_format = header_format
        self.max_body_size = body_size_limit(max_body_size, vendor=VENDOR)
        self._clock: Clock = check_clock(clock, vendor=VENDOR) or SystemClock()
        replay_guard = check_replay_guard(replay_guard, vendor=VENDOR)
        self._signature: SignatureVerifier | None = (
            SignatureVerifier(
                secret=secrets_from(signature_secret, name="signature_secret", vendor=VENDOR),
                tolerance=self.tolerance,
                clock=self._clock,
                header_format=header_format,
            )
            if signature_secret is not None
            else None
        )
        if replay_guard is not None and self._signature is None:
            raise ConfigurationError(
                "replay_guard needs signature_secret: without a signature there is nothing unique "
                "to remember",
                setting="replay_guard",
                vendor=VENDOR,
            )
        self._guard = replay_guard

    @classmethod
    def from_env(cls, *, check_signature: bool = False, **settings: Any) -> AssessioWebhookVerifier:
        """Build a verifier from the environment.

        Reads ``EXAMKIT_ASSESSIO_API_KEY`` and, with ``check_signature``,
        ``EXAMKIT_ASSESSIO_INTEGRATOR_SECRET`` (as the signature secret); other settings are
        passed through.

        Raises:
            ConfigurationError: A required variable is missing or empty.
        """
        settings["api_key"] = env_setting("EXAMKIT_ASSESSIO_API_KEY", vendor=VENDOR)
        if check_signature:
            settings["signature_secret"] = env_setting("EXAMKIT_ASSESSIO_INTEGRATOR_SECRET", vendor=VENDOR)
        return cls(**settings)

    @property
    def checks_signature(self) -> bool:
        """Whether a ``Signature`` header is required and checked."""
        return self._signature is not None

    def __deepcopy__(self, memo: dict[int, Any]) -> AssessioWebhookVerifier:
        # A new object with its own settings; what it was given to talk to the world (guard, clock) is shared.
        return deepcopy_sharing(
            self,
            memo,
            self._guard,
            self._clock,
        )

    @safe_repr
    def __repr__(self) -> str:
        return (
            f"AssessioWebhookVerifier(header={self.header!r}, scheme={self.scheme!r}, "
            f"keys={len(self._key_prints)}, checks_signature={self.checks_signature}, "
            f"tolerance={self.tolerance:g})"
        )

    def authenticate(self, request: WebhookRequest) -> None:
        """Check the integrator-api-key header of ``request`` (constant time, any configured key).

        Raises:
            MissingSignatureError: The header is absent or empty.
            MalformedSignatureError: The header is repeated with different values, or is not
                ``Bearer <token>`` in the bearer scheme.
            SignatureMismatchError: The key matches none of the configured keys.
            ValidationError: ``request`` is not a :class:`~examkit.core.webhook.WebhookRequest`.
        """
        request = received(request, limit=None, vendor=VENDOR)
        value = request.headers.get_single(self.header, vendor=VENDOR)
        if value is None or not value.strip():
            raise MissingSignatureError(
                f"the request has no {self.header} header: Assessio sends the integrator-api-key "
                "there (check the header setting if it uses another one)",
                vendor=VENDOR,
                reason="no api key",
                header=self.header,
            )
        token = value.strip()
        if self.scheme == "bearer":
            word, _, rest = token.partition(" ")
            if word.lower() != "bearer" or not rest.strip():
                raise MalformedSignatureError(
                    f"the {self.header} header is not of the form 'Bearer <token>'",
                    vendor=VENDOR,
                    reason="not a bearer token",
                    header=self.header,
                )
            token = rest.strip()
        if not credential_matches(token.encode("utf-8", "surrogatepass"), self._key_prints):
            raise SignatureMismatchError(
                f"the {self.header} header does not match the integrator-api-key",
                vendor=VENDOR,
                reason="api key mismatch",
                header=self.header,
            )

    def verify(self, request: WebhookRequest) -> AssessioEvent:
        """Verify ``request`` and return its event.

        Raises:
            PayloadTooLargeError: The body is over ``max_body_size``.
            MissingSignatureError: The API key (or a required ``Signature`` header) is missing.
            MalformedSignatureError: A header cannot be read.
            SignatureMismatchError: The API key or the signature does not match.
            TimestampOutsideToleranceError: The signature's ``t`` is outside the tolerance.
            ReplayedRequestError: The replay guard has seen this signature before.
            PayloadError: The request is authentic but its body is malformed.
            ValidationError: ``request`` is not a :class:`~examkit.core.webhook.WebhookRequest`.
        """
        body = received(request, limit=self.max_body_size, vendor=VENDOR).body
        self.authenticate(request)
        digest: bytes | None = None
        if self._signature is not None:
            header = request.headers.get_single(SIGNATURE_HEADER, vendor=VENDOR)
            _, digest = self._signature.check(body, header)
        # Parsed before the replay claim: a body that does not parse must not use up its signature.
        event = parse_event(body)
        if digest is not None:
            if self._guard is not None:
                # The digest that matched (not a header value an attacker could vary) is the nonce.
                claim_once(
                    self._guard,
                    f"examkit:{VENDOR}:{digest.hex()}",
                    ttl=2 * self.tolerance + 1,
                    vendor=VENDOR,
                    message="this signed webhook was already accepted once",
                    header=SIGNATURE_HEADER,
                )
            event = attrs.evolve(event, body_authenticated=True)
        return event
