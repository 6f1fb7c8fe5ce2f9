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
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs

from examkit.assessio._vendor import VENDOR
from examkit.assessio.signing import (
    DEFAULT_HEADER_FORMAT,
    SIGNATURE_HEADER,
    SignatureHeaderFormat,
    _fast_pattern,
    _mismatch,
    match_signatures,
    read_header,
    signed_prefix,
)
from examkit.core._checks import (
    check_choice,
    check_clock,
    check_instance,
    check_replay_guard,
    check_text,
    config_error,
)
from examkit.core._copying import sharing_deepcopy
from examkit.core._exports import deferred
from examkit.core._repr import safe_repr
from examkit.core.auth import TokenHeaderAuth, TokenMessages
from examkit.core.clock import (
    DEFAULT_TOLERANCE,
    Clock,
    SystemClock,
    Tolerance,
    _At,
    check_freshness,
    tolerance_seconds,
)
from examkit.core.env import env_setting
from examkit.core.errors import (
    ConfigurationError,
    PayloadError,
    ValidationError,
)
from examkit.core.serde import load_json
from examkit.core.signing import KeyRing, SecretInput, secrets_from
from examkit.core.webhook import (
    DEFAULT_MAX_BODY_SIZE,
    ReplayGuard,
    Verified,
    WebhookRequest,
    body_size_limit,
    claim_once,
    received,
    verification_time,
)

if TYPE_CHECKING:
    from examkit.assessio import models as _models
    from examkit.assessio.models import AssessioEvent
else:  # the models, and the converter's cattrs, load with the first typed event
    _models = deferred("examkit.assessio.models", globals(), "_models")

__all__ = [
    "AssessioVerified",
    "AssessioWebhookVerifier",
    "SignatureVerifier",
]

DEFAULT_API_KEY_HEADER: Final = "integrator-api-key"
"""The header examkit expects the integrator-api-key in, unless told otherwise (unconfirmed)."""

ApiKeyScheme = Literal["raw", "bearer"]
"""How the API key is written in its header: the bare token, or ``Bearer <token>``."""


def verify_signature_header(
    *,
    secret: SecretInput | Sequence[SecretInput],
    body: bytes,
    header: str | None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    clock: Clock | None = None,
    header_format: SignatureHeaderFormat = DEFAULT_HEADER_FORMAT,
) -> int:
    """Verify a ``Signature`` header for ``body``; return its timestamp (Unix seconds).

    The signature is checked first, then the timestamp, so a
    :class:`~examkit.TimestampOutsideToleranceError` always concerns an authentic
    request (a useful hint that a clock is off).

    Args:
        secret: The integrator-secret, or several (any one may match, for rotation).
        body: The raw body bytes exactly as received.
        header: The ``Signature`` header value (``None`` when absent).
        tolerance: Allowed skew in seconds (or a timedelta), either way; default 300.
        clock: The clock to compare with (default: the system clock).
        header_format: The labels to look for; separators are always read leniently.

    Raises:
        ConfigurationError: No usable secret, or a bad tolerance.
        ValidationError: ``body`` is not bytes.
        MissingSignatureError: No header.
        MalformedSignatureError: The header cannot be read.
        SignatureMismatchError: The signature matches none of the secrets.
        TimestampOutsideToleranceError: ``t`` is more than ``tolerance`` seconds away from now.
    """
    secret = secrets_from(secret, name="integrator_secret", vendor=VENDOR)  # masked from here on
    return SignatureVerifier(
        secret=secret, tolerance=tolerance, clock=clock, header_format=header_format
    ).verify(body, header)


class SignatureVerifier:
    """A prepared ``Signature`` header check, for verifying many requests with the same settings.

    ``verify_signature_header`` in object form: the secrets, tolerance and header layout are
    checked once, here, so each :meth:`verify` does only the per-request work.

    Args:
        secret: The integrator-secret, or several (any one may match, for rotation).
        tolerance: Allowed skew in seconds (or a timedelta), either way; default 300.
        clock: The clock to compare with (default: the system clock).
        header_format: The labels to look for; separators are always read leniently.

    Raises:
        ConfigurationError: No usable secret, or a bad tolerance.

    Example::

        checker = SignatureVerifier(secret=integrator_secret)   # once, at start-up
        timestamp = checker.verify(request.body, request.headers.get("Signature"))
    """

    __slots__ = ("_clock", "_fast", "_format", "_keys", "_window")

    def __init__(
        self,
        *,
        secret: SecretInput | Sequence[SecretInput],
        tolerance: Tolerance = DEFAULT_TOLERANCE,
        clock: Clock | None = None,
        header_format: SignatureHeaderFormat = DEFAULT_HEADER_FORMAT,
    ) -> None:
        self._keys = KeyRing(s.key for s in secrets_from(secret, name="integrator_secret", vendor=VENDOR))
        self._window = tolerance_seconds(tolerance)
        self._clock: Clock = check_clock(clock, vendor=VENDOR) or SystemClock()
        self._format = check_instance(
            header_format, SignatureHeaderFormat, setting="header_format", vendor=VENDOR
        )
        self._fast = _fast_pattern(header_format)

    @property
    def tolerance(self) -> float:
        """The allowed skew in seconds, either way."""
        return self._window

    def verify(self, body: bytes | bytearray | memoryview, header: str | None) -> int:
        """Verify a ``Signature`` header for ``body``; return its timestamp (Unix seconds).

        Raises:
            ValidationError: ``body`` is not bytes.
            MissingSignatureError: No header.
            MalformedSignatureError: The header cannot be read.
            SignatureMismatchError: The signature matches none of the secrets.
            TimestampOutsideToleranceError: ``t`` is more than the tolerance away from now.
        """
        return self._check(body, header, self._clock)[0]

    def check(self, body: bytes | bytearray | memoryview, header: str | None) -> tuple[int, bytes]:
        """Like :meth:`verify`, and also return the digest that matched (unique per signed request).

        Raises:
            ValidationError: ``body`` is not bytes.
            MissingSignatureError: No header.
            MalformedSignatureError: The header cannot be read.
            SignatureMismatchError: The signature matches none of the secrets.
            TimestampOutsideToleranceError: ``t`` is more than the tolerance away from now.
        """
        timestamp, _, digest = self._check(body, header, self._clock)
        return timestamp, digest

    def _check(
        self, body: bytes | bytearray | memoryview, header: object, clock: Clock
    ) -> tuple[int, int, bytes]:
        """The signature, then its freshness on ``clock``: the timestamp, key position and digest."""
        if type(body) is not bytes:
            if not isinstance(body, bytes | bytearray | memoryview):
                raise ValidationError(
                    "body must be the raw request bytes", field="body", reason="not bytes", vendor=VENDOR
                )
            body = bytes(body)
        match = self._fast.match(header) if type(header) is str else None
        if match is not None:
            # The common layout (one signature of 64 hex digits, canonical seconds), as read_header and
            # match_signatures read it, without their general steps.
            t_text, sig_text = match.groups()
            timestamp = int(t_text)
            digest = bytes.fromhex(sig_text)
            found = self._keys.hmac_index((digest,), body, prefix=signed_prefix(timestamp))
            if found is None:
                raise _mismatch(SIGNATURE_HEADER)
            index = found
        else:
            timestamp, signatures = read_header(header, self._format, self._fast, SIGNATURE_HEADER)
            index, digest = match_signatures(timestamp, signatures, body, self._keys)
        now = clock.time()
        if not abs(timestamp - now) <= self._window:  # check_freshness says how far off, at this same now
            check_freshness(
                timestamp, clock=_At(now), tolerance=self._window, vendor=VENDOR, header=SIGNATURE_HEADER
            )
        return timestamp, index, digest

    @property
    def key_count(self) -> int:
        """How many integrator secrets this verifier holds."""
        return len(self._keys)

    # A new object with its own settings; what it was given to talk to the world (clock) is shared.
    __deepcopy__ = sharing_deepcopy("_clock")

    @safe_repr
    def __repr__(self) -> str:
        return f"SignatureVerifier(secrets={len(self._keys)}, tolerance={self._window:g})"


def _verification_clock(request: WebhookRequest, clock: Clock) -> Clock:
    # Freshness is judged when the request arrived, if it says so (verification in a queue).
    return clock if request.received_at is None else _At(verification_time(request, clock))


def parse_event(body: bytes | str) -> AssessioEvent:
    """Read a webhook body into its event, without verifying anything.

    ``ASSESSMENT_SUBMITTED`` becomes an :class:`~examkit.assessio.AssessmentSubmittedEvent`;
    any other ``eventType`` an :class:`~examkit.assessio.UnknownEvent` that keeps the
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
    if event_type == _models.EventType.ASSESSMENT_SUBMITTED.value:
        return _models.CONVERTER.structure(data, _models.AssessmentSubmittedEvent)
    return _models.CONVERTER.structure(data, _models.UnknownEvent)


@attrs.frozen
class AssessioVerified(Verified["AssessioEvent"]):  # a string: the models load with the first event
    """A verified Assessio event, and which configured secrets proved it (for secret rotation).

    ``key_index`` and ``key_count`` are about the integrator-api-key (``api_key``), which
    every call carries; ``signature_key_index`` and ``signature_key_count`` about the
    ``signature_secret``, when the verifier checks a ``Signature`` header (else ``None`` and ``0``).
    Every configured key is tried in constant time either way. No secret or digest is held.

    >>> from examkit.core.webhook import WebhookRequest
    >>> verifier = AssessioWebhookVerifier(api_key=["old-token", "new-token"])
    >>> verified = verifier.verify_detailed(WebhookRequest(
    ...     body=b'{"eventType": "PING", "payload": {}}',
    ...     headers={"integrator-api-key": "new-token"},
    ... ))
    >>> verified.rotation_note
    'api key 2 of 2 matched'
    """

    signature_key_index: int | None = None
    """The position of the ``signature_secret`` that matched, or ``None`` when none is checked."""
    signature_key_count: int = 0
    """How many signature secrets the verifier holds (``0``: no ``Signature`` header is checked)."""

    @property
    def rotation_note(self) -> str:
        """A short, secret-free line for logs, such as ``"api key 1 of 2 matched"``.

        With a ``Signature`` check it adds ``"; signature secret 2 of 2 matched"``.
        """
        notes: list[str] = []
        if self.key_index is not None:
            notes.append(f"api key {self.key_index + 1} of {self.key_count} matched")
        if self.signature_key_index is not None:
            notes.append(
                f"signature secret {self.signature_key_index + 1} of {self.signature_key_count} matched"
            )
        return "; ".join(notes)


# Resolved here, where each class's annotations are read in its own module (the base's in core).
attrs.resolve_types(AssessioVerified)


# Assessio's wording of the api-key header check (the check itself is core's TokenHeaderAuth).
_API_KEY_MESSAGES: Final = TokenMessages(
    missing=(
        "the request has no {header} header: Assessio sends the integrator-api-key "
        "there (check the header setting if it uses another one)"
    ),
    missing_reason="no api key",
    mismatch="the {header} header does not match the integrator-api-key",
    mismatch_reason="api key mismatch",
    malformed="the {header} header is not of the form 'Bearer <token>'",
    malformed_reason="not a bearer token",
    empty_is_missing=True,
)


class AssessioWebhookVerifier:
    """Verifies Assessio's webhook calls and returns typed events.

    Checks, in order: the body size; the integrator-api-key (constant time, any of several keys);
    when ``signature_secret`` is set, the ``Signature`` header and its timestamp (judged at the
    request's ``received_at`` when it is set); then the body is parsed; only then does the replay
    guard (only with signatures) remember the delivery.

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
        self.header = check_text(header, setting="header", vendor=VENDOR)
        if not self.header.isascii():
            raise config_error("header", "a non-empty ASCII header name", header, vendor=VENDOR)
        self.scheme: ApiKeyScheme = check_choice(scheme, ("raw", "bearer"), setting="scheme", vendor=VENDOR)  # type: ignore[assignment]
        self._api_key = TokenHeaderAuth(
            vendor=VENDOR,
            header=self.header,
            token=keys,
            scheme=self.scheme,
            messages=_API_KEY_MESSAGES,
            example_header=DEFAULT_API_KEY_HEADER,
        )
        self.tolerance = tolerance_seconds(tolerance)
        self.header_format = check_instance(
            header_format, SignatureHeaderFormat, setting="header_format", vendor=VENDOR
        )
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

    # A new object with its own settings; what it was given to talk to the world (guard, clock) is shared.
    __deepcopy__ = sharing_deepcopy("_guard", "_clock")

    @safe_repr
    def __repr__(self) -> str:
        return (
            f"AssessioWebhookVerifier(header={self.header!r}, scheme={self.scheme!r}, "
            f"keys={self._api_key.key_count}, checks_signature={self.checks_signature}, "
            f"tolerance={self.tolerance:g})"
        )

    def authenticate(self, request: WebhookRequest) -> None:
        """Check the integrator-api-key header of ``request`` (constant time, any configured key).

        Raises:
            MissingSignatureError: The header is absent or empty.
            MalformedSignatureError: The header is repeated with different values, or is not
                ``Bearer <token>`` in the bearer scheme.
            SignatureMismatchError: The key matches none of the configured keys.
            ValidationError: ``request`` is not a :class:`~examkit.WebhookRequest`.
        """
        request = received(request, limit=None, vendor=VENDOR)
        self._api_key.match(request)

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
            ValidationError: ``request`` is not a :class:`~examkit.WebhookRequest`.
        """
        return self._verify(request)[0]

    def verify_detailed(self, request: WebhookRequest) -> AssessioVerified:
        """Like :meth:`verify`, and say which configured api key (and signature secret) matched.

        Raises:
            The same errors as :meth:`verify`.
        """
        event, key_index, signature_index = self._verify(request)
        signature = self._signature
        return AssessioVerified(
            event=event,
            key_index=key_index,
            key_count=self._api_key.key_count,
            signature_key_index=signature_index,
            signature_key_count=0 if signature is None else signature.key_count,
        )

    def _verify(self, request: WebhookRequest) -> tuple[AssessioEvent, int, int | None]:
        body = received(request, limit=self.max_body_size, vendor=VENDOR).body
        key_index = self._api_key.match(request)
        digest: bytes | None = None
        signature_index: int | None = None
        signature = self._signature
        if signature is not None:
            header = request.headers.get_single(SIGNATURE_HEADER, vendor=VENDOR)
            _, signature_index, digest = signature._check(
                body, header, _verification_clock(request, self._clock)
            )
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
        return event, key_index, signature_index
