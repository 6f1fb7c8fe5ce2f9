"""examkit: a typed SDK for the iTEP, Integrity Advocate, Assessio and Testpress exam APIs.

The vendor subpackages (:mod:`examkit.itep`, :mod:`examkit.integrity_advocate`,
:mod:`examkit.assessio`, :mod:`examkit.testpress`) hold each vendor's signers, models, webhook
verifiers and clients. This package re-exports the version, :class:`WebhookRequest` and the whole error
hierarchy, so ``except examkit.WebhookVerificationError`` works wherever a verifier is used. The
vendors' own errors (:class:`~examkit.itep.RegistrationError`,
:class:`~examkit.itep.BulkIssueInterrupted`, :class:`~examkit.integrity_advocate.PageLimitError`,
:class:`~examkit.integrations.BodyAlreadyReadError`) are importable here too; they load with their
package, on first use.
"""

from typing import TYPE_CHECKING

from examkit._version import __version__
from examkit.core._exports import lazy_exports, publish
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

if TYPE_CHECKING:
    from examkit.integrations import BodyAlreadyReadError
    from examkit.integrity_advocate import PageLimitError
    from examkit.itep import BulkIssueInterrupted, RegistrationError

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BodyAlreadyReadError",
    "BulkIssueInterrupted",
    "ConfigurationError",
    "ExamkitError",
    "MalformedSignatureError",
    "MissingSignatureError",
    "NotFoundError",
    "PageLimitError",
    "PayloadError",
    "PayloadTooLargeError",
    "RateLimitError",
    "RegistrationError",
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

# The vendors' errors load with their packages, on first use (importing examkit stays light).
_LAZY = {
    "BodyAlreadyReadError": ".integrations",
    "BulkIssueInterrupted": ".itep",
    "PageLimitError": ".integrity_advocate",
    "RegistrationError": ".itep",
}

__getattr__, __dir__ = lazy_exports(__name__, __all__, _LAZY)
publish(__name__, globals(), __all__, claim=True)  # examkit.ApiError, examkit.WebhookRequest
