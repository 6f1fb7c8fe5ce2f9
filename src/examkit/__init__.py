"""examkit: a typed SDK for the iTEP, Integrity Advocate, Assessio and Testpress exam APIs.

The vendor subpackages (:mod:`examkit.itep`, :mod:`examkit.integrity_advocate`,
:mod:`examkit.assessio`, :mod:`examkit.testpress`) hold each vendor's signers, models, webhook
verifiers and clients. This package re-exports the version, :class:`WebhookRequest` and the whole error
hierarchy, so ``except examkit.WebhookVerificationError`` works wherever a verifier is used.
"""

from examkit._version import __version__
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
from examkit.core.webhook import WebhookRequest

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConfigurationError",
    "ExamkitError",
    "MalformedSignatureError",
    "MissingSignatureError",
    "NotFoundError",
    "PayloadError",
    "PayloadTooLargeError",
    "RateLimitError",
    "ReplayedRequestError",
    "ServerError",
    "SignatureMismatchError",
    "TimestampOutsideToleranceError",
    "TransportError",
    "ValidationError",
    "WebhookRequest",
    "WebhookVerificationError",
    "__version__",
]

# -- Integrity Advocate's errors, loaded on first use (the client, and requests, load with them) -----
from examkit.core._exports import lazy_exports as _lazy_exports

_IA_ERRORS = {"PageLimitError": ".integrity_advocate"}
__getattr__, _ = _lazy_exports(__name__, (), _IA_ERRORS)
