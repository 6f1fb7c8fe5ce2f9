"""Vendor-neutral building blocks of examkit.

Errors, HMAC primitives, clocks, encodings, payload conversion, webhook requests and the HTTP transport.

``examkit.core`` imports nothing else from examkit. This package is core's public face: the names here
are the ones users need (the submodules list no others). Nothing here imports an HTTP library, so
verifying webhooks stays cheap.
"""

from typing import TYPE_CHECKING

from examkit.core._exports import lazy_exports, publish

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_TOLERANCE",
    "ApiError",
    "AuthenticationError",
    "Check",
    "Clock",
    "ConfigurationError",
    "Diagnosis",
    "ExamkitError",
    "FixedClock",
    "Headers",
    "InMemoryReplayGuard",
    "MalformedSignatureError",
    "MissingSignatureError",
    "NotFoundError",
    "Outcome",
    "PayloadError",
    "PayloadTooLargeError",
    "PercentEncoding",
    "RateLimitError",
    "ReplayGuard",
    "ReplayedRequestError",
    "RetryPolicy",
    "Secret",
    "SecretInput",
    "Section",
    "ServerError",
    "SignatureMismatchError",
    "SystemClock",
    "TimestampOutsideToleranceError",
    "Tolerance",
    "TransportError",
    "ValidationError",
    "Verified",
    "WebhookRequest",
    "WebhookVerificationError",
    "WebhookVerifier",
]

if TYPE_CHECKING:
    from examkit.core.clock import DEFAULT_TOLERANCE, Clock, FixedClock, SystemClock, Tolerance
    from examkit.core.diagnosis import Check, Diagnosis, Outcome, Section
    from examkit.core.encoding import PercentEncoding
    from examkit.core.errors import (
        ApiError,
        AuthenticationError,
        ConfigurationError,
        ExamkitError,
        MalformedSignatureError,
        MissingSignatureError,
        NotFoundError,
        PayloadError,
        PayloadTooLargeError,
        RateLimitError,
        ReplayedRequestError,
        ServerError,
        SignatureMismatchError,
        TimestampOutsideToleranceError,
        TransportError,
        ValidationError,
        WebhookVerificationError,
    )
    from examkit.core.http import RetryPolicy
    from examkit.core.signing import Secret, SecretInput
    from examkit.core.webhook import (
        DEFAULT_MAX_BODY_SIZE,
        Headers,
        InMemoryReplayGuard,
        ReplayGuard,
        Verified,
        WebhookRequest,
        WebhookVerifier,
    )

# Every name but the errors loads on first use: a verifier needs some of these modules, and no
# caller needs them all (RetryPolicy's core.http, for one, brings the HTTP call model).
_LAZY = {
    "DEFAULT_TOLERANCE": ".clock",
    "Clock": ".clock",
    "FixedClock": ".clock",
    "SystemClock": ".clock",
    "Tolerance": ".clock",
    "Check": ".diagnosis",
    "Diagnosis": ".diagnosis",
    "Outcome": ".diagnosis",
    "Section": ".diagnosis",
    "PercentEncoding": ".encoding",
    "ApiError": ".errors",
    "AuthenticationError": ".errors",
    "ConfigurationError": ".errors",
    "ExamkitError": ".errors",
    "MalformedSignatureError": ".errors",
    "MissingSignatureError": ".errors",
    "NotFoundError": ".errors",
    "PayloadError": ".errors",
    "PayloadTooLargeError": ".errors",
    "RateLimitError": ".errors",
    "ReplayedRequestError": ".errors",
    "ServerError": ".errors",
    "SignatureMismatchError": ".errors",
    "TimestampOutsideToleranceError": ".errors",
    "TransportError": ".errors",
    "ValidationError": ".errors",
    "WebhookVerificationError": ".errors",
    "Secret": ".signing",
    "SecretInput": ".signing",
    "DEFAULT_MAX_BODY_SIZE": ".webhook",
    "Headers": ".webhook",
    "InMemoryReplayGuard": ".webhook",
    "ReplayGuard": ".webhook",
    "Verified": ".webhook",
    "WebhookRequest": ".webhook",
    "WebhookVerifier": ".webhook",
    "RetryPolicy": ".http",
}

__getattr__, __dir__ = lazy_exports(__name__, __all__, _LAZY)
publish(__name__, globals(), __all__)
