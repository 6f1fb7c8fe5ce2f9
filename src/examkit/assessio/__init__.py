"""Assessio (psychometric assessments): signed assessment-link orders and the results webhook.

* :func:`signature_header` / :func:`verify_signature_header`: the ``Signature`` header
  (HMAC-SHA256 over ``<t>.<raw body>`` with the integrator secret).
* :class:`AssessioClient`: ``POST /development/v1/assessment-link-order`` in the sandbox or
  production, signed, never retried.
* :class:`AssessioWebhookVerifier`: authenticates Assessio's webhook calls with the
  integrator-api-key (and optionally a ``Signature`` header) and returns typed events.

The client (and with it :mod:`requests`) loads only when first used, so importing the verifier stays
cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from examkit.assessio.models import (
    DEFAULT_LINK_PATHS,
    AssessioEvent,
    AssessmentLinkOrder,
    AssessmentLinkOrderResult,
    AssessmentScore,
    AssessmentSubmitted,
    AssessmentSubmittedEvent,
    AssessmentType,
    EventType,
    PersonDetails,
    SubScore,
    UnknownEvent,
)
from examkit.assessio.signing import (
    DEFAULT_HEADER_FORMAT,
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    ParsedSignatureHeader,
    SignatureHeaderFormat,
    SignatureVerifier,
    compute_signature,
    parse_signature_header,
    signature_header,
    signed_message,
    verify_signature_header,
)
from examkit.assessio.webhooks import (
    DEFAULT_API_KEY_HEADER,
    AssessioWebhookVerifier,
    parse_event,
)

if TYPE_CHECKING:
    from examkit.assessio.client import (
        ASSESSMENT_LINK_ORDER_PATH,
        PRODUCTION_URL,
        PROVIDER_KEY_HEADER,
        SANDBOX_URL,
        AssessioClient,
    )

__all__ = [
    "ASSESSMENT_LINK_ORDER_PATH",
    "DEFAULT_API_KEY_HEADER",
    "DEFAULT_HEADER_FORMAT",
    "DEFAULT_LINK_PATHS",
    "DEFAULT_TOLERANCE",
    "PRODUCTION_URL",
    "PROVIDER_KEY_HEADER",
    "SANDBOX_URL",
    "SIGNATURE_HEADER",
    "AssessioClient",
    "AssessioEvent",
    "AssessioWebhookVerifier",
    "AssessmentLinkOrder",
    "AssessmentLinkOrderResult",
    "AssessmentScore",
    "AssessmentSubmitted",
    "AssessmentSubmittedEvent",
    "AssessmentType",
    "EventType",
    "ParsedSignatureHeader",
    "PersonDetails",
    "SignatureHeaderFormat",
    "SignatureVerifier",
    "SubScore",
    "UnknownEvent",
    "compute_signature",
    "parse_event",
    "parse_signature_header",
    "signature_header",
    "signed_message",
    "verify_signature_header",
]

_LAZY = frozenset(
    {
        "ASSESSMENT_LINK_ORDER_PATH",
        "PRODUCTION_URL",
        "PROVIDER_KEY_HEADER",
        "SANDBOX_URL",
        "AssessioClient",
    }
)

# -- the async client (issue 16): lazy, so that httpx loads only when it is used --------------------
if TYPE_CHECKING:
    from examkit.assessio.client import AsyncAssessioClient
__all__ += ["AsyncAssessioClient"]
_LAZY |= {"AsyncAssessioClient"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from examkit.assessio import client  # noqa: PLC0415 - lazy: keeps requests out of verifiers

        return getattr(client, name)
    raise AttributeError(f"module 'examkit.assessio' has no attribute {name!r}")
