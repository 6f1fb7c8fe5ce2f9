"""Vendor-neutral building blocks of examkit.

Errors, HMAC primitives, clocks, encodings, payload conversion, webhook requests and the HTTP transport.

``examkit.core`` imports nothing else from examkit. The submodules are the public API; this package
re-exports the names most integrations need. :mod:`examkit.core.http` (which imports ``requests``) is
not imported here, so verifying webhooks stays cheap.
"""

from examkit.core.clock import DEFAULT_TOLERANCE, Clock, FixedClock, SystemClock
from examkit.core.encoding import PercentEncoding, canonical_json, percent_encode
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
from examkit.core.signing import Secret
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
    "Clock",
    "ConfigurationError",
    "ExamkitError",
    "FixedClock",
    "Headers",
    "InMemoryReplayGuard",
    "MalformedSignatureError",
    "MissingSignatureError",
    "NotFoundError",
    "PayloadError",
    "PayloadTooLargeError",
    "PercentEncoding",
    "RateLimitError",
    "ReplayGuard",
    "ReplayedRequestError",
    "Secret",
    "ServerError",
    "SignatureMismatchError",
    "SystemClock",
    "TimestampOutsideToleranceError",
    "TransportError",
    "ValidationError",
    "Verified",
    "WebhookRequest",
    "WebhookVerificationError",
    "WebhookVerifier",
    "canonical_json",
    "percent_encode",
]
