"""Verify an Assessio results webhook, as a web view would.

The request here is built with examkit.testing.assessio, exactly as Assessio sends it; in a real
view, pass the raw body bytes and the headers (``request.body`` / ``request.headers`` in Django,
``request.get_data()`` / ``request.headers`` in Flask).

    python examples/assessio_webhook.py
"""

from __future__ import annotations

import sys

from examkit import WebhookRequest, WebhookVerificationError
from examkit.assessio import AssessioWebhookVerifier, AssessmentSubmittedEvent
from examkit.testing.assessio import assessment_submitted_webhook

verifier = AssessioWebhookVerifier(api_key="example-integrator-api-key")


def handle(request: WebhookRequest) -> tuple[int, str]:
    """Return the HTTP status and text a view would answer with."""
    try:
        event = verifier.verify(request)
    except WebhookVerificationError:
        return 401, "unauthorised"
    if isinstance(event, AssessmentSubmittedEvent):
        lines = [f"order {event.order_reference_id}: {event.assessment_type}"]
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
