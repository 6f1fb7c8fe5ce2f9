"""Integrity Advocate: the proctoring script, the signed REST API, and the review callback.

Importing this package (or its verifier) does not import :mod:`requests`; the client loads on first
use of :class:`IntegrityAdvocateClient`, and :func:`explain` on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from examkit.core._exports import lazy_exports, publish

if TYPE_CHECKING:
    from examkit.integrity_advocate._signer import AmxSigner
    from examkit.integrity_advocate.client import (
        AsyncIntegrityAdvocateClient,
        IntegrityAdvocateClient,
        PageLimitError,
    )
    from examkit.integrity_advocate.diagnose import explain
    from examkit.integrity_advocate.embed import (
        DEFAULT_BASE_URL,
        BrowserEvent,
        build_end_session_script,
        build_script_tag,
        build_script_url,
    )
    from examkit.integrity_advocate.models import (
        AmxAuthorization,
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
        LOWER_THEN_ENCODE_WITH_QUERY,
        CanonicalForm,
        CanonicalStyle,
        sign_request,
    )
    from examkit.integrity_advocate.webhooks import (
        AmxVerifier,
        IntegrityAdvocateWebhookVerifier,
    )

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_CALLBACK_FORMS",
    "LOWER_THEN_ENCODE_WITH_QUERY",
    "AmxAuthorization",
    "AmxSigner",
    "AmxVerifier",
    "AsyncIntegrityAdvocateClient",
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
    "build_end_session_script",
    "build_script_tag",
    "build_script_url",
    "decode_data_uri",
    "explain",
    "sign_request",
]

_LAZY = {
    "AmxSigner": "._signer",
    "DEFAULT_BASE_URL": ".embed",
    "BrowserEvent": ".embed",
    "build_end_session_script": ".embed",
    "build_script_tag": ".embed",
    "build_script_url": ".embed",
    "AmxAuthorization": ".models",
    "ByEmail": ".models",
    "ByExternalUserId": ".models",
    "ByName": ".models",
    "ByParticipant": ".models",
    "ByStatus": ".models",
    "DataUri": ".models",
    "EndSessionResult": ".models",
    "Flag": ".models",
    "ModifiedSince": ".models",
    "Overrider": ".models",
    "OverrideStatus": ".models",
    "Participant": ".models",
    "ParticipantFilter": ".models",
    "ParticipantPage": ".models",
    "ParticipantSession": ".models",
    "ParticipantStatus": ".models",
    "ParticipantStatusResult": ".models",
    "ReviewCallback": ".models",
    "SessionFilter": ".models",
    "SessionPage": ".models",
    "decode_data_uri": ".models",
    "DEFAULT_CALLBACK_FORMS": ".signing",
    "LOWER_THEN_ENCODE_WITH_QUERY": ".signing",
    "CanonicalForm": ".signing",
    "CanonicalStyle": ".signing",
    "sign_request": ".signing",
    "AmxVerifier": ".webhooks",
    "IntegrityAdvocateWebhookVerifier": ".webhooks",
    "AsyncIntegrityAdvocateClient": ".client",
    "IntegrityAdvocateClient": ".client",
    "PageLimitError": ".client",
    "explain": ".diagnose",
}

__getattr__, __dir__ = lazy_exports(__name__, __all__, _LAZY)
publish(__name__, globals(), __all__)
