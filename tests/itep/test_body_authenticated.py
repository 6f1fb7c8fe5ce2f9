"""An iTEP result says whether its values were covered by the webhook's authentication."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import quote

from examkit.core.webhook import WebhookRequest
from examkit.itep import (
    BasicAuth,
    HmacBodyAuth,
    ItepWebhookAuth,
    ItepWebhookVerifier,
    NoAuthentication,
    TokenHeaderAuth,
)
from examkit.itep.webhooks import parse_results_body

RESULT = {"TestID": "T-1", "Status": "Complete", "body_authenticated": True}


def _body() -> bytes:
    # Form-encoded as the vendor sends it, written out here rather than through examkit's helpers.
    return ("data=" + quote(json.dumps(RESULT), safe="")).encode()


def test_hmac_of_the_body_marks_the_result_authenticated() -> None:
    body = _body()
    signature = hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
    verifier = ItepWebhookVerifier(auth=HmacBodyAuth(header="X-Itep-Signature", secret="hook-secret"))
    result = verifier.verify(WebhookRequest(body=body, headers={"X-Itep-Signature": signature}))
    assert result.body_authenticated is True
    assert result.test_id == "T-1"


def test_credentials_alone_do_not_authenticate_the_body() -> None:
    body = _body()
    cases: list[tuple[ItepWebhookAuth, dict[str, str]]] = [
        (TokenHeaderAuth(header="X-Token", token="tok-123456"), {"X-Token": "tok-123456"}),
        (BasicAuth(username="itep", password="pw-123456"), {"Authorization": "Basic aXRlcDpwdy0xMjM0NTY="}),
        (NoAuthentication(), {}),
    ]
    for auth, headers in cases:
        result = ItepWebhookVerifier(auth=auth).verify(WebhookRequest(body=body, headers=headers))
        assert result.body_authenticated is False, auth


def test_the_payload_cannot_claim_to_be_authenticated() -> None:
    # The sender's own "body_authenticated": true is an unknown key, kept in extra; it sets nothing.
    result = parse_results_body(_body())
    assert result.body_authenticated is False
    assert result.extra["body_authenticated"] is True
