"""The four vendors' verifiers, sharing replay protection through Django's cache."""

from __future__ import annotations

import os
from typing import Any

from examkit.assessio import AssessioWebhookVerifier
from examkit.integrations.django import DjangoCacheReplayGuard
from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier
from examkit.itep import HmacBodyAuth, ItepWebhookVerifier
from examkit.testpress import TestpressWebhookVerifier

DEMO_ITEP_HEADER = "X-Itep-Signature"
DEMO_ITEP_SECRET = "demo-itep-webhook-secret"
DEMO_IA_APP_ID = "00000000-1111-2222-3333-444444444444"
DEMO_IA_API_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
DEMO_ASSESSIO_API_KEY = "demo-assessio-api-key"
DEMO_ASSESSIO_SECRET = "demo-assessio-integrator-secret"
DEMO_TESTPRESS_PUBLIC_KEY = "demo-testpress-public"
DEMO_TESTPRESS_PRIVATE_KEY = "demo-testpress-private"


def build(*, demo: bool) -> dict[str, Any]:
    """Return the verifiers by URL name: demo credentials, or the ``EXAMKIT_*`` environment variables."""
    guard = DjangoCacheReplayGuard()  # the "default" cache, shared by every worker using it
    if demo:
        return {
            "itep": ItepWebhookVerifier(
                auth=HmacBodyAuth(header=DEMO_ITEP_HEADER, secret=DEMO_ITEP_SECRET), replay_guard=guard
            ),
            "integrity-advocate": IntegrityAdvocateWebhookVerifier(
                app_id=DEMO_IA_APP_ID, api_key=DEMO_IA_API_KEY, replay_guard=guard
            ),
            "assessio": AssessioWebhookVerifier(
                api_key=DEMO_ASSESSIO_API_KEY, signature_secret=DEMO_ASSESSIO_SECRET, replay_guard=guard
            ),
            "testpress": TestpressWebhookVerifier(
                public_key=DEMO_TESTPRESS_PUBLIC_KEY,
                private_key=DEMO_TESTPRESS_PRIVATE_KEY,
                replay_guard=guard,
            ),
        }
    return {
        "itep": ItepWebhookVerifier.from_env(
            scheme="hmac", header=os.environ.get("EXAMKIT_ITEP_SIGNATURE_HEADER"), replay_guard=guard
        ),
        "integrity-advocate": IntegrityAdvocateWebhookVerifier.from_env(replay_guard=guard),
        "assessio": AssessioWebhookVerifier.from_env(check_signature=True, replay_guard=guard),
        "testpress": TestpressWebhookVerifier.from_env(replay_guard=guard),
    }
