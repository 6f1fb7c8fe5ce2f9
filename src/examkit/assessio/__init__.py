"""Assessio (psychometric assessments): signed assessment-link orders and the results webhook.

* :func:`signature_header`: the ``Signature`` header (HMAC-SHA256 over ``signed_message``,
  ``<t>.<raw body>``, with the integrator secret); :class:`SignatureVerifier` and
  ``verify_signature_header`` check one.
* :class:`AssessioClient`: ``POST /development/v1/assessment-link-order`` in the sandbox or
  production, signed, never retried.
* :class:`AssessioWebhookVerifier`: authenticates Assessio's webhook calls with the
  integrator-api-key (and optionally a ``Signature`` header) and returns typed events;
  :func:`explain` says, without any secret, why a request does not verify.

The client (and with it :mod:`requests`) loads only when first used, so importing the verifier stays
cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from examkit.core._exports import lazy_exports, publish

if TYPE_CHECKING:
    from examkit.assessio.client import AssessioClient, AsyncAssessioClient
    from examkit.assessio.diagnose import explain
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
    from examkit.assessio.signing import SignatureHeaderFormat, signature_header
    from examkit.assessio.webhooks import (
        AssessioVerified,
        AssessioWebhookVerifier,
        SignatureVerifier,
    )

__all__ = [
    "DEFAULT_LINK_PATHS",
    "AssessioClient",
    "AssessioEvent",
    "AssessioVerified",
    "AssessioWebhookVerifier",
    "AssessmentLinkOrder",
    "AssessmentLinkOrderResult",
    "AssessmentScore",
    "AssessmentSubmitted",
    "AssessmentSubmittedEvent",
    "AssessmentType",
    "AsyncAssessioClient",
    "EventType",
    "PersonDetails",
    "SignatureHeaderFormat",
    "SignatureVerifier",
    "SubScore",
    "UnknownEvent",
    "explain",
    "signature_header",
]

_LAZY = {
    "explain": ".diagnose",
    "DEFAULT_LINK_PATHS": ".models",
    "AssessioEvent": ".models",
    "AssessmentLinkOrder": ".models",
    "AssessmentLinkOrderResult": ".models",
    "AssessmentScore": ".models",
    "AssessmentSubmitted": ".models",
    "AssessmentSubmittedEvent": ".models",
    "AssessmentType": ".models",
    "EventType": ".models",
    "PersonDetails": ".models",
    "SubScore": ".models",
    "UnknownEvent": ".models",
    "SignatureHeaderFormat": ".signing",
    "signature_header": ".signing",
    "AssessioVerified": ".webhooks",
    "AssessioWebhookVerifier": ".webhooks",
    "SignatureVerifier": ".webhooks",
    "AssessioClient": ".client",
    "AsyncAssessioClient": ".client",
}

__getattr__, __dir__ = lazy_exports(__name__, __all__, _LAZY)
publish(__name__, globals(), __all__)
