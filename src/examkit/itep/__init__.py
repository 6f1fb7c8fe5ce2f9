"""iTEP: issue test IDs, validate registrations, verify results webhooks, reconcile inventory.

Importing this package (or :class:`ItepWebhookVerifier`) does not import :mod:`requests`; the client,
bulk issuance, the inventory tools and :func:`explain` load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from examkit.core._exports import lazy_exports, publish

if TYPE_CHECKING:
    from examkit.itep._fulfillment import DEFAULT_ENDPOINT, CounterSequence, TimeSequence
    from examkit.itep.bulk import (
        BulkIssueInterrupted,
        BulkOutcome,
        BulkReport,
        Candidate,
        CandidateColumns,
        OutcomeStatus,
        issue_bulk,
        read_candidates_csv,
    )
    from examkit.itep.client import AsyncItepClient, ItepClient
    from examkit.itep.diagnose import explain
    from examkit.itep.inventory import (
        Inventory,
        InventoryColumns,
        InventoryRecord,
        Reconciliation,
        StatusChange,
    )
    from examkit.itep.models import (
        AssignedTo,
        CefrLevel,
        ExamResult,
        ExamStatus,
        FulfillmentRequest,
        FulfillmentResult,
        ProductFamily,
        SectionResult,
    )
    from examkit.itep.registration import (
        Education,
        FieldOfStudy,
        Gender,
        Registration,
        RegistrationError,
        RegistrationProblem,
    )
    from examkit.itep.signing import sign_body
    from examkit.itep.webhooks import (
        BasicAuth,
        HmacBodyAuth,
        ItepWebhookAuth,
        ItepWebhookVerifier,
        NoAuthentication,
        TokenHeaderAuth,
    )

__all__ = [
    "DEFAULT_ENDPOINT",
    "AssignedTo",
    "AsyncItepClient",
    "BasicAuth",
    "BulkIssueInterrupted",
    "BulkOutcome",
    "BulkReport",
    "Candidate",
    "CandidateColumns",
    "CefrLevel",
    "CounterSequence",
    "Education",
    "ExamResult",
    "ExamStatus",
    "FieldOfStudy",
    "FulfillmentRequest",
    "FulfillmentResult",
    "Gender",
    "HmacBodyAuth",
    "Inventory",
    "InventoryColumns",
    "InventoryRecord",
    "ItepClient",
    "ItepWebhookAuth",
    "ItepWebhookVerifier",
    "NoAuthentication",
    "OutcomeStatus",
    "ProductFamily",
    "Reconciliation",
    "Registration",
    "RegistrationError",
    "RegistrationProblem",
    "SectionResult",
    "StatusChange",
    "TimeSequence",
    "TokenHeaderAuth",
    "explain",
    "issue_bulk",
    "read_candidates_csv",
    "sign_body",
]

_LAZY = {
    "DEFAULT_ENDPOINT": "._fulfillment",
    "CounterSequence": "._fulfillment",
    "TimeSequence": "._fulfillment",
    "AssignedTo": ".models",
    "CefrLevel": ".models",
    "ExamResult": ".models",
    "ExamStatus": ".models",
    "FulfillmentRequest": ".models",
    "FulfillmentResult": ".models",
    "ProductFamily": ".models",
    "SectionResult": ".models",
    "Education": ".registration",
    "FieldOfStudy": ".registration",
    "Gender": ".registration",
    "Registration": ".registration",
    "RegistrationError": ".registration",
    "RegistrationProblem": ".registration",
    "sign_body": ".signing",
    "BasicAuth": ".webhooks",
    "HmacBodyAuth": ".webhooks",
    "ItepWebhookAuth": ".webhooks",
    "ItepWebhookVerifier": ".webhooks",
    "NoAuthentication": ".webhooks",
    "TokenHeaderAuth": ".webhooks",
    "AsyncItepClient": ".client",
    "ItepClient": ".client",
    "explain": ".diagnose",
    "BulkIssueInterrupted": ".bulk",
    "BulkOutcome": ".bulk",
    "BulkReport": ".bulk",
    "Candidate": ".bulk",
    "CandidateColumns": ".bulk",
    "OutcomeStatus": ".bulk",
    "issue_bulk": ".bulk",
    "read_candidates_csv": ".bulk",
    "Inventory": ".inventory",
    "InventoryColumns": ".inventory",
    "InventoryRecord": ".inventory",
    "Reconciliation": ".inventory",
    "StatusChange": ".inventory",
}

__getattr__, __dir__ = lazy_exports(__name__, __all__, _LAZY)
publish(__name__, globals(), __all__)
