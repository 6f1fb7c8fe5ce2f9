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

# -- iTEP's errors (issue 14, iTEP slice): importable from here, loaded with examkit.itep on first use.
# The lead folds this block into the package's lazy_exports table (and __all__) at merge.
_LAZY_ITEP = {"RegistrationError": "examkit.itep"}


def __getattr__(name: str) -> object:
    module = _LAZY_ITEP.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib  # noqa: PLC0415 - only when an iTEP error is first asked for

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
