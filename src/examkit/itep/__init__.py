"""iTEP: issue test IDs, validate registrations, verify results webhooks, reconcile inventory.

Importing this package (or :class:`ItepWebhookVerifier`) does not import :mod:`requests`; the client,
bulk issuance and the inventory tools load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from examkit.itep.models import (
    AssignedTo,
    CefrLevel,
    ExamResult,
    ExamStatus,
    FulfillmentRequest,
    FulfillmentResult,
    ProductFamily,
    SectionResult,
    product_family,
)
from examkit.itep.registration import (
    Education,
    FieldOfStudy,
    Gender,
    Registration,
    RegistrationError,
    RegistrationProblem,
    check_registration,
    parse_birthday,
)
from examkit.itep.signing import (
    DEFAULT_ENDPOINT,
    CounterSequence,
    FulfillmentSigner,
    TimeSequence,
    sign_body,
    verify_body,
)
from examkit.itep.webhooks import (
    BasicAuth,
    HmacBodyAuth,
    ItepWebhookAuth,
    ItepWebhookVerifier,
    NoAuthentication,
    TokenHeaderAuth,
    parse_results_body,
    parse_results_json,
)

if TYPE_CHECKING:
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
    from examkit.itep.client import ItepClient
    from examkit.itep.inventory import (
        Inventory,
        InventoryColumns,
        InventoryRecord,
        Reconciliation,
        StatusChange,
        read_inventory_csv,
    )

__all__ = [
    "DEFAULT_ENDPOINT",
    "AssignedTo",
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
    "FulfillmentSigner",
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
    "check_registration",
    "issue_bulk",
    "parse_birthday",
    "parse_results_body",
    "parse_results_json",
    "product_family",
    "read_candidates_csv",
    "read_inventory_csv",
    "sign_body",
    "verify_body",
]

_LAZY = {
    "ItepClient": "examkit.itep.client",
    "BulkIssueInterrupted": "examkit.itep.bulk",
    "BulkOutcome": "examkit.itep.bulk",
    "BulkReport": "examkit.itep.bulk",
    "Candidate": "examkit.itep.bulk",
    "CandidateColumns": "examkit.itep.bulk",
    "OutcomeStatus": "examkit.itep.bulk",
    "issue_bulk": "examkit.itep.bulk",
    "read_candidates_csv": "examkit.itep.bulk",
    "Inventory": "examkit.itep.inventory",
    "InventoryColumns": "examkit.itep.inventory",
    "InventoryRecord": "examkit.itep.inventory",
    "Reconciliation": "examkit.itep.inventory",
    "StatusChange": "examkit.itep.inventory",
    "read_inventory_csv": "examkit.itep.inventory",
}

# -- the async client (issue 16): lazy, so that httpx loads only when it is used --------------------
if TYPE_CHECKING:
    from examkit.itep.client import AsyncItepClient
__all__ += ["AsyncItepClient"]
_LAZY["AsyncItepClient"] = "examkit.itep.client"


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib  # noqa: PLC0415 - loaded on first use so the verifier stays light

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
