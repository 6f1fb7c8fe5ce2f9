"""An Assessio event says whether its body was covered by a checked Signature header."""

from __future__ import annotations

import hashlib
import hmac
import json

from examkit.assessio import AssessioWebhookVerifier, AssessmentSubmittedEvent, UnknownEvent
from examkit.assessio.webhooks import parse_event
from examkit.core.clock import FixedClock
from examkit.core.webhook import WebhookRequest

NOW = 1_700_000_000
BODY = json.dumps(
    {
        "eventType": "ASSESSMENT_SUBMITTED",
        "body_authenticated": True,
        "payload": {"orderReferenceId": "ord-1", "assessmentType": "MAP", "scores": []},
    }
).encode()


def _signed_headers(body: bytes) -> dict[str, str]:
    mac = hmac.new(b"integrator-secret", f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    return {"integrator-api-key": "api-key-123", "Signature": f"t={NOW},signature={mac}"}


def test_checked_signature_marks_the_event_authenticated() -> None:
    verifier = AssessioWebhookVerifier(
        api_key="api-key-123", signature_secret="integrator-secret", clock=FixedClock(NOW)
    )
    event = verifier.verify(WebhookRequest(body=BODY, headers=_signed_headers(BODY)))
    assert isinstance(event, AssessmentSubmittedEvent)
    assert event.body_authenticated is True
    other = b'{"eventType": "SOMETHING_NEW", "payload": {"a": 1}}'
    unknown = verifier.verify(WebhookRequest(body=other, headers=_signed_headers(other)))
    assert isinstance(unknown, UnknownEvent)
    assert unknown.body_authenticated is True


def test_api_key_alone_does_not_authenticate_the_body() -> None:
    verifier = AssessioWebhookVerifier(api_key="api-key-123")
    event = verifier.verify(WebhookRequest(body=BODY, headers={"integrator-api-key": "api-key-123"}))
    assert event.body_authenticated is False


def test_the_payload_cannot_claim_to_be_authenticated() -> None:
    event = parse_event(BODY)
    assert event.body_authenticated is False
    assert event.extra["body_authenticated"] is True
