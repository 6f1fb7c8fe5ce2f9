"""A Flask app that receives the webhooks of all four vendors, verified by examkit.

    python examples/flask_app.py           # offline: sends one signed webhook per vendor through the app
    python examples/flask_app.py --serve   # serves http://127.0.0.1:8000/webhooks/<vendor> (demo secrets)

With ``EXAMKIT_EXAMPLE_SECRETS=env`` the verifiers read the real credentials from the environment
(``EXAMKIT_ITEP_WEBHOOK_SECRET`` and ``EXAMKIT_ITEP_SIGNATURE_HEADER``, ``EXAMKIT_IA_APP_ID`` and
``EXAMKIT_IA_API_KEY``, ``EXAMKIT_ASSESSIO_API_KEY`` and ``EXAMKIT_ASSESSIO_INTEGRATOR_SECRET``,
``EXAMKIT_TESTPRESS_PUBLIC_KEY`` and ``EXAMKIT_TESTPRESS_PRIVATE_KEY``). Try a receiver by hand with
``examkit sign <vendor>``, which prints a curl command for these URLs.

Each view runs only for a verified webhook and gets the typed event as its one argument; anything else
is answered 400, 401, 409 or 413 by ``verified_webhook`` before the view is reached. Behind a proxy,
pass ``public_url=`` (or ``trust_forwarded=True``) so Integrity Advocate's URL signature checks out.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from flask import Flask

from examkit.assessio import AssessioWebhookVerifier, AssessmentSubmittedEvent
from examkit.core.webhook import InMemoryReplayGuard, ReplayGuard
from examkit.integrations.flask import verified_webhook
from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier, ReviewCallback
from examkit.itep import ExamResult, HmacBodyAuth, ItepWebhookVerifier
from examkit.testing.assessio import assessment_submitted_webhook
from examkit.testing.integrity_advocate import make_participant, signed_review_callback
from examkit.testing.itep import build_results_webhook
from examkit.testing.testpress import sample_exam_webhook_payload, sign_exam_webhook
from examkit.testpress import ExamWebhookEvent, TestpressWebhookVerifier

# Demo credentials (for the offline run and the tests); a real app reads them from the environment.
DEMO_ITEP_HEADER = "X-Itep-Signature"
DEMO_ITEP_SECRET = "demo-itep-webhook-secret"
DEMO_IA_APP_ID = "00000000-1111-2222-3333-444444444444"
DEMO_IA_API_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
DEMO_ASSESSIO_API_KEY = "demo-assessio-api-key"
DEMO_ASSESSIO_SECRET = "demo-assessio-integrator-secret"
DEMO_TESTPRESS_PUBLIC_KEY = "demo-testpress-public"
DEMO_TESTPRESS_PRIVATE_KEY = "demo-testpress-private"


def demo_verifiers(guard: ReplayGuard | None = None) -> dict[str, Any]:
    """The four verifiers with the demo credentials, sharing one replay guard."""
    guard = guard or InMemoryReplayGuard()
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
            public_key=DEMO_TESTPRESS_PUBLIC_KEY, private_key=DEMO_TESTPRESS_PRIVATE_KEY, replay_guard=guard
        ),
    }


def env_verifiers(guard: ReplayGuard | None = None) -> dict[str, Any]:
    """The four verifiers from the environment (several workers: share a guard, e.g. Redis-backed)."""
    guard = guard or InMemoryReplayGuard()
    return {
        "itep": ItepWebhookVerifier.from_env(
            scheme="hmac", header=os.environ.get("EXAMKIT_ITEP_SIGNATURE_HEADER"), replay_guard=guard
        ),
        "integrity-advocate": IntegrityAdvocateWebhookVerifier.from_env(replay_guard=guard),
        "assessio": AssessioWebhookVerifier.from_env(check_signature=True, replay_guard=guard),
        "testpress": TestpressWebhookVerifier.from_env(replay_guard=guard),
    }


def create_app(verifiers: dict[str, Any] | None = None, *, public_url: str | None = None) -> Flask:
    """Build the app; every verified event is also kept in ``app.extensions["examkit_received"]``."""
    verifiers = verifiers or demo_verifiers()
    app = Flask(__name__)
    received: list[tuple[str, Any]] = []
    app.extensions["examkit_received"] = received

    @app.post("/webhooks/itep")
    @verified_webhook(verifiers["itep"])
    def itep(result: ExamResult) -> dict[str, Any]:
        received.append(("itep", result))
        sections = {name: str(s.level) for name, s in result.sections.items()}
        return {"test_id": result.test_id, "overall_level": str(result.overall_level), "sections": sections}

    @app.post("/webhooks/integrity-advocate")
    @verified_webhook(verifiers["integrity-advocate"], public_url=public_url)
    def integrity_advocate(callback: ReviewCallback) -> dict[str, Any]:
        received.append(("integrity-advocate", callback))
        participant = callback.participant
        status = participant.effective_status
        return {"participant": participant.participant_identifier, "status": getattr(status, "value", status)}

    @app.post("/webhooks/assessio")
    @verified_webhook(verifiers["assessio"])
    def assessio(event: Any) -> dict[str, Any]:
        received.append(("assessio", event))
        if isinstance(event, AssessmentSubmittedEvent):
            return {"order": event.order_reference_id, "scores": len(event.scores)}
        return {"ignored": str(getattr(event.event_type, "value", event.event_type))}

    @app.post("/webhooks/testpress")
    @verified_webhook(verifiers["testpress"])
    def testpress(event: ExamWebhookEvent) -> dict[str, Any]:
        received.append(("testpress", event))
        return {"attempt_id": event.attempt_id, "score": str(event.score)}

    return app


def signed_demo_webhooks(base_url: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    """One correctly signed webhook per vendor for ``base_url`` (built with examkit.testing)."""
    itep = build_results_webhook(hmac=(DEMO_ITEP_HEADER, DEMO_ITEP_SECRET))
    ia = signed_review_callback(
        make_participant("learner-1", "course-1", status="Valid"),
        url=f"{base_url}/webhooks/integrity-advocate",
        app_id=DEMO_IA_APP_ID,
        api_key=DEMO_IA_API_KEY,
    )
    assessio = assessment_submitted_webhook(
        api_key=DEMO_ASSESSIO_API_KEY, order_reference_id="order-42", signature_secret=DEMO_ASSESSIO_SECRET
    )
    testpress = sign_exam_webhook(
        sample_exam_webhook_payload(public_key=DEMO_TESTPRESS_PUBLIC_KEY),
        private_key=DEMO_TESTPRESS_PRIVATE_KEY,
    )
    return {
        "itep": (itep.body, dict(itep.headers.items())),
        "integrity-advocate": (ia.body, dict(ia.headers.items())),
        "assessio": (assessio.body, dict(assessio.headers.items())),
        "testpress": (testpress, {"Content-Type": "application/json"}),
    }


def main(argv: list[str]) -> int:
    verifiers = env_verifiers() if os.environ.get("EXAMKIT_EXAMPLE_SECRETS") == "env" else demo_verifiers()
    app = create_app(verifiers)
    if "--serve" in argv:
        app.run(host="127.0.0.1", port=8000)
        return 0
    client = app.test_client()
    for vendor, (body, headers) in signed_demo_webhooks("http://localhost").items():
        first = client.post(f"/webhooks/{vendor}", data=body, headers=headers)
        again = client.post(f"/webhooks/{vendor}", data=body, headers=headers)
        print(f"{vendor}: {first.status_code} {first.get_json()}; the same again: {again.status_code}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
