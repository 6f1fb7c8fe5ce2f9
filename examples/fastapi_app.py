"""A FastAPI app that receives the webhooks of all four vendors, verified by examkit.

    python examples/fastapi_app.py           # offline: one signed webhook per vendor through the app
    python examples/fastapi_app.py --serve   # uvicorn on http://127.0.0.1:8000/webhooks/<vendor>

Each path operation runs only for a verified webhook: ``verified_webhook`` answers anything else with
400, 401, 409, 413 (or 503 when a shared replay guard is down) before the view is reached, and hands
the view the typed event after the request. iTEP's results are routed by processing point with an
``ItepRouter``. With ``REDIS_URL`` set, the replay guard is shared through Redis
(``RedisReplayGuard``), as several uvicorn workers need. Behind a proxy, pass ``public_url=`` or
``forwarded_allow_ips=`` so Integrity Advocate's URL signature checks out.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from fastapi import FastAPI, Request

from examkit.assessio import AssessioWebhookVerifier, AssessmentSubmittedEvent, UnknownEvent
from examkit.core.webhook import InMemoryReplayGuard, ReplayGuard
from examkit.integrations.routing import ItepRouter
from examkit.integrations.starlette import verified_webhook
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


def replay_guard() -> ReplayGuard:
    """Redis when ``REDIS_URL`` is set (shared by every worker), else one process's memory."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return InMemoryReplayGuard()
    import redis  # noqa: PLC0415 - only with the redis extra

    from examkit.integrations.redis import RedisReplayGuard  # noqa: PLC0415

    return RedisReplayGuard(redis.Redis.from_url(url, socket_timeout=2))


def demo_verifiers(guard: ReplayGuard | None = None) -> dict[str, Any]:
    """The four verifiers with the demo credentials, sharing one replay guard."""
    guard = guard or replay_guard()
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


def create_app(verifiers: dict[str, Any] | None = None, *, public_url: str | None = None) -> FastAPI:
    """Build the app; every verified event is also kept in ``app.state.received``."""
    verifiers = verifiers or demo_verifiers()
    app = FastAPI()
    received: list[tuple[str, Any]] = []
    app.state.received = received

    itep_router = ItepRouter()

    @itep_router.on("completed")
    def itep_completed(result: ExamResult) -> dict[str, Any]:
        return {"test_id": result.test_id, "kind": "completed", "level": str(result.overall_level)}

    @itep_router.on("reset", "invalidated", "technical_issue")
    def itep_withdrawn(result: ExamResult) -> dict[str, Any]:
        return {"test_id": result.test_id, "kind": "withdrawn"}

    @app.post("/webhooks/itep")
    @verified_webhook(verifiers["itep"])
    async def itep(request: Request, result: ExamResult) -> dict[str, Any]:
        received.append(("itep", result))
        # Unrouted kinds (finished, unknown) are logged by the router and answered 200 all the same.
        return await itep_router.dispatch_async(result) or {"test_id": result.test_id, "kind": "ignored"}

    @app.post("/webhooks/integrity-advocate")
    @verified_webhook(verifiers["integrity-advocate"], public_url=public_url)
    async def integrity_advocate(request: Request, callback: ReviewCallback) -> dict[str, Any]:
        received.append(("integrity-advocate", callback))
        participant = callback.participant
        status = participant.effective_status
        return {"participant": participant.participant_identifier, "status": getattr(status, "value", status)}

    @app.post("/webhooks/assessio")
    @verified_webhook(verifiers["assessio"])
    async def assessio(request: Request, event: AssessmentSubmittedEvent | UnknownEvent) -> dict[str, Any]:
        received.append(("assessio", event))
        if isinstance(event, AssessmentSubmittedEvent):
            return {"order": event.order_reference_id, "scores": len(event.scores)}
        return {"ignored": str(event.event_type)}

    @app.post("/webhooks/testpress")
    @verified_webhook(verifiers["testpress"])
    async def testpress(request: Request, event: ExamWebhookEvent) -> dict[str, Any]:
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


async def offline_tour() -> dict[str, tuple[int, Any]]:
    """Send one signed webhook per vendor through the app in process (httpx's ASGI transport)."""
    import httpx  # noqa: PLC0415 - the test extra

    app = create_app()
    base = "http://testserver"
    answers: dict[str, tuple[int, Any]] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as client:
        for vendor, (body, headers) in signed_demo_webhooks(base).items():
            response = await client.post(f"/webhooks/{vendor}", content=body, headers=headers)
            answers[vendor] = (response.status_code, response.json())
    return answers


def main(argv: list[str]) -> int:
    if "--serve" in argv:
        import uvicorn  # noqa: PLC0415

        uvicorn.run(create_app(), host="127.0.0.1", port=8000)
        return 0
    for vendor, (status, answer) in asyncio.run(offline_tour()).items():
        print(vendor, status, answer)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
