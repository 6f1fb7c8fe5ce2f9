"""Routing verified events to typed handlers by kind, for every vendor, in plain code and behind the adapters.

The kinds expected for each status come from the vendor documents (iTEP's two status lists and its
five processing points, Testpress's ``attempt_state``, Integrity Advocate's participant statuses,
Assessio's ``eventType``), written out here, not read from examkit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import attrs
import httpx
import pytest
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]
from django.test import RequestFactory  # type: ignore[import-untyped]
from flask import Flask
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from examkit.assessio import AssessmentSubmittedEvent, EventType, UnknownEvent
from examkit.core.clock import FixedClock
from examkit.core.errors import ConfigurationError
from examkit.core.webhook import InMemoryReplayGuard, WebhookRequest
from examkit.integrations.django import verified_webhook as django_webhook
from examkit.integrations.flask import verified_webhook as flask_webhook
from examkit.integrations.routing import (
    AssessioRouter,
    IntegrityAdvocateRouter,
    ItepRouter,
    TestpressRouter,
    WebhookRouter,
)
from examkit.integrations.starlette import verified_webhook as starlette_webhook
from examkit.itep import ExamResult
from tests.integrations.vendors import CASES, NOW

BY_NAME = {case.name: case for case in CASES}


def real_event(name: str) -> Any:
    """The typed event the vendor's real verifier returns for a valid sample webhook."""
    case = BY_NAME[name]
    body, headers = case.valid("http://testserver" + case.path)
    verifier = case.verifier(FixedClock(NOW), InMemoryReplayGuard(clock=FixedClock(NOW)))
    return verifier.verify(WebhookRequest(body=body, headers=headers, url="http://testserver" + case.path))


# iTEP: the results webhook is sent when the status changes to Finished or Completed, on any reset,
# when the exam is invalidated and on a technical issue (both status vocabularies).
ITEP_STATUSES = [
    ("Finished", "finished"),
    ("Completed", "completed"),
    ("Complete", "completed"),
    ("Ready", "reset"),
    ("Started", "reset"),
    ("Incomplete", "reset"),
    ("Invalidated", "invalidated"),
    ("Technical Difficulty", "technical_issue"),
    ("Problem", "technical_issue"),
    ("Review", "unknown"),
    ("Disabled", "unknown"),
    ("Something New", "unknown"),
    (None, "unknown"),
]


@pytest.mark.parametrize(("status", "kind"), ITEP_STATUSES)
def test_itep_kinds_by_processing_point(status: str | None, kind: str) -> None:
    event = attrs.evolve(real_event("itep"), status=status)
    assert ItepRouter().kind_of(event) == kind


def test_the_itep_sample_is_completed_and_reaches_its_handler() -> None:
    router = ItepRouter()
    seen: list[str] = []

    @router.on("completed")
    def completed(result: ExamResult) -> str:
        seen.append(result.test_id)
        return "stored"

    assert router.dispatch(real_event("itep")) == "stored"  # the sample's Status is "Complete"
    assert seen == ["3279B035APR"]


def test_assessio_handlers_receive_their_class() -> None:
    router = AssessioRouter()
    seen: list[Any] = []

    @router.on(EventType.ASSESSMENT_SUBMITTED)
    def submitted(event: AssessmentSubmittedEvent) -> None:
        seen.append(("submitted", event.order_reference_id))

    @router.on("unknown")
    def other(event: UnknownEvent) -> None:
        seen.append(("unknown", event.event_type))

    router.dispatch(real_event("assessio"))
    router.dispatch(UnknownEvent(event_type="ASSESSMENT_REOPENED"))
    assert seen == [("submitted", "order-42"), ("unknown", "ASSESSMENT_REOPENED")]


@pytest.mark.parametrize(
    ("state", "kind"),
    [("completed", "completed"), ("started", "started"), (None, "unknown"), ("x", "unknown")],
)
def test_testpress_kinds_by_attempt_state(state: str | None, kind: str) -> None:
    event = attrs.evolve(real_event("testpress"), attempt_state=state)
    assert TestpressRouter().kind_of(event) == kind


@pytest.mark.parametrize(
    ("status", "override", "kind"),
    [
        ("Valid", None, "Valid"),
        ("In Progress", None, "In Progress"),
        ("Invalid (ID)", None, "Invalid (ID)"),
        ("Invalid (Rules)", None, "Invalid (Rules)"),
        ("Invalid (Rules)", "Valid", "Valid"),  # the override counts
        ("Valid", "Invalid", "Invalid"),
        (None, None, "unknown"),
        ("Reviewed Later", None, "unknown"),
    ],
)
def test_integrity_advocate_kinds_by_participant_status(
    status: str | None, override: str | None, kind: str
) -> None:
    event = real_event("integrity_advocate")
    participant = attrs.evolve(event.participant, status=status, override_status=override)
    assert IntegrityAdvocateRouter().kind_of(attrs.evolve(event, participant=participant)) == kind


def test_an_event_without_a_handler_is_logged_with_its_kind(caplog: pytest.LogCaptureFixture) -> None:
    router = TestpressRouter()
    router.on("started")(lambda event: "never")
    with caplog.at_level(logging.WARNING, logger="examkit.integrations"):
        assert router.dispatch(real_event("testpress")) is None
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.examkit_event_kind == "completed"  # type: ignore[attr-defined]
    assert "'completed'" in record.getMessage()


def test_registration_mistakes_are_refused() -> None:
    router = ItepRouter()
    with pytest.raises(ConfigurationError):
        router.on("graded")  # type: ignore[arg-type]
    router.on("reset")(lambda event: None)
    with pytest.raises(ConfigurationError):
        router.on("reset")(lambda event: None)
    with pytest.raises(ConfigurationError):
        WebhookRouter(kind_of="status", kinds=["a"])  # type: ignore[arg-type]


def test_async_handlers_are_awaited_by_dispatch_async() -> None:
    router = ItepRouter()

    @router.on("completed")
    async def completed(result: ExamResult) -> str:
        return result.test_id

    assert asyncio.run(router.dispatch_async(real_event("itep"))) == "3279B035APR"


# -- behind the three adapters: a raising handler releases the claim; an unhandled kind is 2xx ------


class Handler:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, result: ExamResult) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("database unavailable")


def itep_request() -> tuple[bytes, dict[str, str]]:
    return BY_NAME["itep"].valid("http://testserver/hooks/itep")


def itep_verifier() -> Any:
    return BY_NAME["itep"].verifier(FixedClock(NOW), InMemoryReplayGuard(clock=FixedClock(NOW)))


def test_behind_flask() -> None:
    router, handler = ItepRouter(), Handler()
    router.on("completed")(handler)
    unrouted = ItepRouter()  # no handler at all
    app = Flask("routing")

    @app.post("/hooks/itep")
    @flask_webhook(itep_verifier())
    def hook(event: ExamResult) -> tuple[str, int]:
        router.dispatch(event)
        return "", 204

    @app.post("/hooks/unrouted")
    @flask_webhook(itep_verifier())
    def unrouted_hook(event: ExamResult) -> tuple[str, int]:
        unrouted.dispatch(event)
        return "", 204

    client = app.test_client()
    body, headers = itep_request()
    assert client.post("/hooks/itep", data=body, headers=headers).status_code == 500  # handler raised
    assert client.post("/hooks/itep", data=body, headers=headers).status_code == 204  # retry accepted
    assert client.post("/hooks/itep", data=body, headers=headers).status_code == 409
    assert handler.calls == 2
    assert client.post("/hooks/unrouted", data=body, headers=headers).status_code == 204


def test_behind_django() -> None:
    router, handler = ItepRouter(), Handler()
    router.on("completed")(handler)

    @django_webhook(itep_verifier())
    def hook(request: HttpRequest, event: ExamResult) -> HttpResponse:
        router.dispatch(event)
        return HttpResponse(status=204)

    body, headers = itep_request()

    def deliver() -> int:
        request = RequestFactory().post(
            "/hooks/itep", data=body, content_type="application/json", headers=headers
        )
        try:
            return int(hook(request).status_code)
        except RuntimeError:
            return 500

    assert [deliver(), deliver(), deliver()] == [500, 204, 409]
    assert handler.calls == 2


def test_behind_starlette() -> None:
    router, handler = ItepRouter(), Handler()
    router.on("completed")(handler)

    async def hook(request: Request, event: ExamResult) -> Response:
        await router.dispatch_async(event)
        return PlainTextResponse("", status_code=204)

    app = Starlette(routes=[Route("/hooks/itep", starlette_webhook(itep_verifier())(hook), methods=["POST"])])
    body, headers = itep_request()

    async def go() -> list[int]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return [
                (await client.post("/hooks/itep", content=body, headers=headers)).status_code
                for _ in range(3)
            ]

    assert asyncio.run(go()) == [500, 204, 409]
    assert handler.calls == 2
