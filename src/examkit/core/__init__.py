"""Vendor-neutral building blocks of examkit.

Errors, HMAC primitives, clocks, encodings, payload conversion, webhook requests and the HTTP transport.

``examkit.core`` imports nothing else from examkit. This package is core's public face: the names here
are the ones users need (the submodules list no others). Nothing here imports an HTTP library, so
verifying webhooks stays cheap.
"""

from typing import TYPE_CHECKING

from examkit.core._exports import lazy_exports, publish
from examkit.core.clock import DEFAULT_TOLERANCE, Clock, FixedClock, SystemClock, Tolerance
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
    from examkit.core.diagnosis import Check, Diagnosis, Outcome, Section
    from examkit.core.encoding import PercentEncoding
    from examkit.core.http import RetryPolicy

# What every verifier needs loads with the package (errors, clocks, secrets, the request); the rest on
# first use: the diagnosis model, the encodings, and RetryPolicy's core.http (the HTTP call model).
_LAZY = {
    "Check": ".diagnosis",
    "Diagnosis": ".diagnosis",
    "Outcome": ".diagnosis",
    "Section": ".diagnosis",
    "PercentEncoding": ".encoding",
    "RetryPolicy": ".http",
}

__getattr__, __dir__ = lazy_exports(__name__, __all__, _LAZY)
publish(__name__, globals(), __all__)
