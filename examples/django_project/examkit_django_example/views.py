"""One view per vendor: each runs only with a verified, typed event (``view(request, event)``).

Failures never reach a view: ``verified_webhook`` answers 400 (missing or malformed), 401 (mismatch,
stale), 409 (replay) or 413 (too large) with a generic body and logs the reason.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from examkit.assessio import AssessmentSubmittedEvent
from examkit.integrations.django import verified_webhook
from examkit.integrity_advocate import ReviewCallback
from examkit.itep import ExamResult
from examkit.testpress import ExamWebhookEvent
from examkit_django_example import verifiers

VERIFIERS = verifiers.build(demo=getattr(settings, "EXAMKIT_DEMO_SECRETS", False))
RECEIVED: list[tuple[str, Any]] = []  # for the example's tests; a real app stores the results


@verified_webhook(VERIFIERS["itep"])
def itep(request: HttpRequest, result: ExamResult) -> JsonResponse:
    RECEIVED.append(("itep", result))
    return JsonResponse({"test_id": result.test_id, "overall_level": str(result.overall_level)})


@verified_webhook(VERIFIERS["integrity-advocate"])
def integrity_advocate(request: HttpRequest, callback: ReviewCallback) -> JsonResponse:
    RECEIVED.append(("integrity-advocate", callback))
    status = callback.participant.effective_status
    return JsonResponse(
        {
            "participant": callback.participant.participant_identifier,
            "status": getattr(status, "value", status),
        }
    )


@verified_webhook(VERIFIERS["assessio"])
def assessio(request: HttpRequest, event: Any) -> JsonResponse:
    RECEIVED.append(("assessio", event))
    if isinstance(event, AssessmentSubmittedEvent):
        return JsonResponse({"order": event.order_reference_id})
    return JsonResponse({"ignored": str(getattr(event.event_type, "value", event.event_type))})


@verified_webhook(VERIFIERS["testpress"])
def testpress(request: HttpRequest, event: ExamWebhookEvent) -> JsonResponse:
    RECEIVED.append(("testpress", event))
    return JsonResponse({"attempt_id": event.attempt_id, "score": str(event.score)})
