"""Integrity Advocate: the proctoring script, the signed REST API, and the review callback.

Importing this package (or its verifier) does not import :mod:`requests`; the client loads on first
use of :class:`IntegrityAdvocateClient`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from examkit.core.webhook import WebhookRequest
from examkit.integrity_advocate.embed import (
    DEFAULT_BASE_URL,
    BrowserEvent,
    build_script_tag,
    build_script_url,
)
from examkit.integrity_advocate.models import (
    ByEmail,
    ByExternalUserId,
    ByName,
    ByParticipant,
    ByStatus,
    DataUri,
    EndSessionResult,
    Flag,
    ModifiedSince,
    Overrider,
    OverrideStatus,
    Participant,
    ParticipantFilter,
    ParticipantPage,
    ParticipantSession,
    ParticipantStatus,
    ParticipantStatusResult,
    ReviewCallback,
    SessionFilter,
    SessionPage,
    decode_data_uri,
)
from examkit.integrity_advocate.signing import (
    DEFAULT_CALLBACK_FORMS,
    DEFAULT_REQUEST_FORM,
    LOWER_THEN_ENCODE_WITH_QUERY,
    AmxAuthorization,
    CanonicalForm,
    CanonicalStyle,
    sign_request,
    verify_authorization,
)
from examkit.integrity_advocate.webhooks import IntegrityAdvocateWebhookVerifier

if TYPE_CHECKING:
    from examkit.integrity_advocate.client import IntegrityAdvocateClient, PageLimitError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CALLBACK_FORMS",
    "DEFAULT_REQUEST_FORM",
    "LOWER_THEN_ENCODE_WITH_QUERY",
    "AmxAuthorization",
    "BrowserEvent",
    "ByEmail",
    "ByExternalUserId",
    "ByName",
    "ByParticipant",
    "ByStatus",
    "CanonicalForm",
    "CanonicalStyle",
    "DataUri",
    "EndSessionResult",
    "Flag",
    "IntegrityAdvocateClient",
    "IntegrityAdvocateWebhookVerifier",
    "ModifiedSince",
    "OverrideStatus",
    "Overrider",
    "PageLimitError",
    "Participant",
    "ParticipantFilter",
    "ParticipantPage",
    "ParticipantSession",
    "ParticipantStatus",
    "ParticipantStatusResult",
    "ReviewCallback",
    "SessionFilter",
    "SessionPage",
    "WebhookRequest",
    "build_script_tag",
    "build_script_url",
    "decode_data_uri",
    "sign_request",
    "verify_authorization",
]

_LAZY = frozenset({"IntegrityAdvocateClient", "PageLimitError"})

# -- the async client (issue 16): lazy, so that httpx loads only when it is used --------------------
if TYPE_CHECKING:
    from examkit.integrity_advocate.client import AsyncIntegrityAdvocateClient
__all__ += ["AsyncIntegrityAdvocateClient"]
_LAZY |= {"AsyncIntegrityAdvocateClient"}


def __getattr__(name: str) -> Any:
    """Load the client (and :mod:`requests`) only when it is first asked for."""
    if name in _LAZY:
        from examkit.integrity_advocate import client  # noqa: PLC0415

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
