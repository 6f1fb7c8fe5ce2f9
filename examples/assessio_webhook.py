"""Verify an Assessio results webhook, as a web view would, and log why a refused one failed.

The request here is built with examkit.testing.assessio, exactly as Assessio sends it; in a real
view, pass the raw body bytes and the headers (``request.body`` / ``request.headers`` in Django,
``request.get_data()`` / ``request.headers`` in Flask).

    python examples/assessio_webhook.py
"""

from __future__ import annotations

import sys

from examkit import WebhookRequest, WebhookVerificationError
from examkit.assessio import AssessioWebhookVerifier, AssessmentSubmittedEvent, explain
from examkit.testing.assessio import assessment_submitted_webhook

# During a rotation both keys are accepted; the log line says which one a request used.
API_KEYS = ["example-old-api-key", "example-integrator-api-key"]
verifier = AssessioWebhookVerifier(api_key=API_KEYS)


def handle(request: WebhookRequest) -> tuple[int, str]:
    """Return the HTTP status and text a view would answer with."""
    try:
        verified = verifier.verify_detailed(request)
    except WebhookVerificationError:
        # A secret-free account of what was wrong, for the log (never for the caller).
        print(explain(request, api_key=API_KEYS).render(), file=sys.stderr)
        return 401, "unauthorised"
    event = verified.event
    if isinstance(event, AssessmentSubmittedEvent):
        lines = [f"order {event.order_reference_id}: {event.assessment_type} ({verified.rotation_note})"]
        for score in event.scores:
            subs = ", ".join(f"{s.key}={s.value}" for s in score.sub_scores)
            lines.append(f"  {score.type} {score.key} = {score.value} [{subs}]")
        return 200, "\n".join(lines)
    # Any other event type: acknowledge it so Assessio does not resend it.
    return 200, f"ignored event {event.event_type}"


def main() -> int:
    good = assessment_submitted_webhook(
        api_key="example-integrator-api-key", order_reference_id="candidate-42"
    )
    print(*handle(good))
    forged = assessment_submitted_webhook(api_key="guess", order_reference_id="candidate-42")
    print(*handle(forged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
