"""One place that builds every vendor verifier (with the canary secret) and a correctly signed request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import attrs

from examkit.assessio import AssessioWebhookVerifier
from examkit.core.clock import FixedClock
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier
from examkit.itep import BasicAuth, HmacBodyAuth, ItepWebhookVerifier, NoAuthentication, TokenHeaderAuth
from examkit.testing.integrity_advocate import DEMO_APP_ID, make_participant, signed_review_callback
from examkit.testing.itep import SAMPLE_RESULT_RAW, build_results_webhook
from examkit.testing.testpress import sample_exam_webhook_payload, sign_exam_webhook
from examkit.testpress import TestpressWebhookVerifier
from tests.hardening.strategies import CANARY

NOW = 1_700_000_000
# Integrity Advocate keys are base64 of 32 bytes; this one decodes to bytes that spell the canary.
IA_KEY_BYTES = (CANARY.encode("ascii") * 2)[:32]
IA_API_KEY = base64.b64encode(IA_KEY_BYTES).decode("ascii")
IA_URL = "https://lms.example.org/ia/callback"
TP_PUBLIC = "public-institute-key"


@attrs.frozen
class Case:
    """A verifier under test and a function that builds a valid request for it."""

    name: str
    make: Callable[..., Any]
    valid: Callable[[], WebhookRequest]
    covers_body: bool


def _itep_body() -> bytes:
    return build_results_webhook().body


def _itep_hmac_request(encoding: str) -> WebhookRequest:
    body = _itep_body()
    digest = hmac.new(CANARY.encode(), body, hashlib.sha256).digest()
    value = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    return WebhookRequest(body=body, headers={"X-Itep-Signature": value})


def _ia_request() -> WebhookRequest:
    return signed_review_callback(
        make_participant("p-1", "course-1", status="Valid"),
        url=IA_URL,
        app_id=DEMO_APP_ID,
        api_key=IA_API_KEY,
        timestamp=NOW,
        nonce="n0nce-1234",
    )


def _assessio_body() -> bytes:
    envelope = {
        "eventType": "ASSESSMENT_SUBMITTED",
        "payload": {
            "orderReferenceId": "order-1",
            "assessmentType": "MAP",
            "assessmentScores": [{"type": "MAP_SCORE", "key": "EX", "value": 10, "subScores": []}],
        },
    }
    return json.dumps(envelope).encode()


def _assessio_request(*, signed: bool) -> WebhookRequest:
    body = _assessio_body()
    headers = {"integrator-api-key": CANARY}
    if signed:
        # Independent computation of the documented recipe: hex HMAC-SHA256 over "<t>.<body>".
        mac = hmac.new(CANARY.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
        headers["Signature"] = f"t={NOW},signature={mac}"
    return WebhookRequest(body=body, headers=headers)


def _testpress_request() -> WebhookRequest:
    payload = sample_exam_webhook_payload(public_key=TP_PUBLIC)
    return WebhookRequest(body=sign_exam_webhook(payload, private_key=CANARY))


def _ia_verifier(**settings: Any) -> IntegrityAdvocateWebhookVerifier:
    return IntegrityAdvocateWebhookVerifier(
        app_id=DEMO_APP_ID,
        api_key=IA_API_KEY,
        clock=FixedClock(NOW),
        replay_guard=InMemoryReplayGuard(clock=FixedClock(NOW)),
        **settings,
    )


def _assessio_verifier(*, signed: bool, **settings: Any) -> AssessioWebhookVerifier:
    extra: dict[str, Any] = {"signature_secret": CANARY, "clock": FixedClock(NOW)} if signed else {}
    return AssessioWebhookVerifier(api_key=CANARY, **extra, **settings)


CASES: tuple[Case, ...] = (
    Case(
        "itep-token",
        lambda **s: ItepWebhookVerifier(auth=TokenHeaderAuth(header="X-Itep-Token", token=CANARY), **s),
        lambda: build_results_webhook(token=("X-Itep-Token", CANARY)),
        covers_body=False,
    ),
    Case(
        "itep-basic",
        lambda **s: ItepWebhookVerifier(auth=BasicAuth(username="itep", password=CANARY), **s),
        lambda: build_results_webhook(basic=("itep", CANARY)),
        covers_body=False,
    ),
    Case(
        "itep-hmac-hex",
        lambda **s: ItepWebhookVerifier(auth=HmacBodyAuth(header="X-Itep-Signature", secret=CANARY), **s),
        lambda: _itep_hmac_request("hex"),
        covers_body=True,
    ),
    Case(
        "itep-hmac-base64",
        lambda **s: ItepWebhookVerifier(
            auth=HmacBodyAuth(header="X-Itep-Signature", secret=CANARY, encoding="base64"), **s
        ),
        lambda: _itep_hmac_request("base64"),
        covers_body=True,
    ),
    Case("integrity-advocate", _ia_verifier, _ia_request, covers_body=False),
    Case(
        "assessio-key",
        lambda **s: _assessio_verifier(signed=False, **s),
        lambda: _assessio_request(signed=False),
        covers_body=False,
    ),
    Case(
        "assessio-signed",
        lambda **s: _assessio_verifier(signed=True, **s),
        lambda: _assessio_request(signed=True),
        covers_body=True,
    ),
    Case(
        "testpress",
        lambda **s: TestpressWebhookVerifier(public_key=TP_PUBLIC, private_key=CANARY, **s),
        _testpress_request,
        covers_body=True,  # partly: see the Testpress mutation property
    ),
)
"""Every verifier configuration that authenticates something (NoAuthentication is tested apart)."""

CASE_IDS = [c.name for c in CASES]


def ITEP_NO_AUTH() -> ItepWebhookVerifier:  # noqa: N802 - reads as a constant factory
    """Return an iTEP verifier that accepts unauthenticated requests on purpose."""
    return ItepWebhookVerifier(auth=NoAuthentication())


SAMPLE_ITEP_JSON = SAMPLE_RESULT_RAW
