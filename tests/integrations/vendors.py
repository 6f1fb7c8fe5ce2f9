"""The four vendors' REAL verifiers and webhooks built with examkit.testing, for the framework tests.

Each :class:`VendorCase` makes its verifier (with a fixed clock and a replay guard) and valid, tampered,
stale (when the scheme has a timestamp) and unsigned requests for a given absolute URL. The expected
event values come from the vendor samples the helpers send (iTEP's "Webhook Output Sample" test ID
3279B035APR, ...), not from examkit's output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from examkit.assessio import AssessioWebhookVerifier, AssessmentSubmittedEvent
from examkit.core.clock import Clock
from examkit.core.webhook import ReplayGuard, WebhookRequest
from examkit.integrity_advocate import IntegrityAdvocateWebhookVerifier, ReviewCallback
from examkit.itep import ExamResult, HmacBodyAuth, ItepWebhookVerifier
from examkit.testing.assessio import assessment_submitted_webhook
from examkit.testing.integrity_advocate import (
    DEMO_API_KEY,
    DEMO_APP_ID,
    make_participant,
    signed_review_callback,
)
from examkit.testing.itep import build_results_webhook
from examkit.testing.testpress import sample_exam_webhook_payload, sign_exam_webhook
from examkit.testpress import ExamWebhookEvent, TestpressWebhookVerifier

NOW = 1_700_000_000
ITEP_HEADER = "X-Itep-Signature"
ITEP_SECRET = "itep-shared-secret"
ASSESSIO_API_KEY = "assessio-api-key"
ASSESSIO_SECRET = "assessio-integrator-secret"
TESTPRESS_PUBLIC = "testpress-public"
TESTPRESS_PRIVATE = "testpress-private"

Signed = tuple[bytes, dict[str, str]]


@dataclass(frozen=True)
class VendorCase:
    """One vendor: how to verify, how to build requests, and what the view must receive."""

    name: str
    path: str
    verifier: Callable[[Clock, ReplayGuard], Any]
    valid: Callable[[str], Signed]
    tampered: Callable[[str], Signed]
    unsigned: Callable[[str], Signed]
    stale: Callable[[str], Signed] | None
    describe: Callable[[Any], str]
    expected: str


def _pair(request: WebhookRequest) -> Signed:
    return request.body, dict(request.headers.items())


# -- iTEP: HMAC of the raw body in a header; no timestamp; the replay guard keys on the body --------


def _itep_valid(url: str) -> Signed:
    return _pair(build_results_webhook(hmac=(ITEP_HEADER, ITEP_SECRET)))


def _itep_tampered(url: str) -> Signed:
    body, headers = _itep_valid(url)
    return body.replace(b"3279B035APR", b"3279B035APS"), headers


def _itep_unsigned(url: str) -> Signed:
    return _pair(build_results_webhook())


def _itep_describe(event: Any) -> str:
    assert isinstance(event, ExamResult)
    return f"{event.test_id} {getattr(event.overall_cefr, 'value', event.overall_cefr)}"


# -- Integrity Advocate: amx header over app id, method, URL, timestamp, nonce -------------------


def _ia_valid(url: str, *, timestamp: int = NOW) -> Signed:
    participant = make_participant("learner-1", "course-1", status="Valid")
    return _pair(signed_review_callback(participant, url=url, timestamp=timestamp))


def _ia_tampered(url: str) -> Signed:
    # The body is not signed (documented); a changed nonce is a tampered signed part.
    body, headers = _ia_valid(url)
    app_id, signature, nonce, timestamp = headers["Authorization"].split(" ", 1)[1].split(":")
    headers["Authorization"] = f"amx {app_id}:{signature}:{nonce}x:{timestamp}"
    return body, headers


def _ia_unsigned(url: str) -> Signed:
    body, headers = _ia_valid(url)
    del headers["Authorization"]
    return body, headers


def _ia_describe(event: Any) -> str:
    assert isinstance(event, ReviewCallback)
    return f"{event.participant.participant_identifier} {getattr(event.participant.status, 'value', '')}"


# -- Assessio: integrator-api-key header plus a t.<body> Signature ---------------------------------


def _assessio_valid(url: str, *, timestamp: int = NOW) -> Signed:
    return _pair(
        assessment_submitted_webhook(
            api_key=ASSESSIO_API_KEY,
            order_reference_id="order-42",
            signature_secret=ASSESSIO_SECRET,
            timestamp=timestamp,
        )
    )


def _assessio_tampered(url: str) -> Signed:
    body, headers = _assessio_valid(url)
    return body.replace(b"order-42", b"order-43"), headers


def _assessio_unsigned(url: str) -> Signed:
    body, _ = _assessio_valid(url)
    return body, {"Content-Type": "application/json"}


def _assessio_describe(event: Any) -> str:
    assert isinstance(event, AssessmentSubmittedEvent)
    return f"{event.order_reference_id} {getattr(event.assessment_type, 'value', event.assessment_type)}"


# -- Testpress: the hash inside the JSON body; no timestamp; the replay guard keys on the hash -----


def _testpress_valid(url: str) -> Signed:
    payload = sample_exam_webhook_payload(public_key=TESTPRESS_PUBLIC, attempt_id=4711, score="8.50")
    return sign_exam_webhook(payload, private_key=TESTPRESS_PRIVATE), {"Content-Type": "application/json"}


def _testpress_tampered(url: str) -> Signed:
    body, headers = _testpress_valid(url)
    return body.replace(b'"score":"8.50"', b'"score":"9.50"'), headers


def _testpress_unsigned(url: str) -> Signed:
    body, headers = _testpress_valid(url)
    start = body.index(b',"hash":"')
    return body[:start] + b"}", headers


def _testpress_describe(event: Any) -> str:
    assert isinstance(event, ExamWebhookEvent)
    return f"{event.attempt_id} {event.score}"


CASES: tuple[VendorCase, ...] = (
    VendorCase(
        name="itep",
        path="/hooks/itep",
        verifier=lambda clock, guard: ItepWebhookVerifier(
            auth=HmacBodyAuth(header=ITEP_HEADER, secret=ITEP_SECRET), replay_guard=guard
        ),
        valid=_itep_valid,
        tampered=_itep_tampered,
        unsigned=_itep_unsigned,
        stale=None,
        describe=_itep_describe,
        expected="3279B035APR C1",
    ),
    VendorCase(
        name="integrity_advocate",
        path="/hooks/integrity-advocate",
        verifier=lambda clock, guard: IntegrityAdvocateWebhookVerifier(
            app_id=DEMO_APP_ID, api_key=DEMO_API_KEY, clock=clock, replay_guard=guard
        ),
        valid=_ia_valid,
        tampered=_ia_tampered,
        unsigned=_ia_unsigned,
        stale=lambda url: _ia_valid(url, timestamp=NOW - 301),
        describe=_ia_describe,
        expected="learner-1 Valid",
    ),
    VendorCase(
        name="assessio",
        path="/hooks/assessio",
        verifier=lambda clock, guard: AssessioWebhookVerifier(
            api_key=ASSESSIO_API_KEY, signature_secret=ASSESSIO_SECRET, clock=clock, replay_guard=guard
        ),
        valid=_assessio_valid,
        tampered=_assessio_tampered,
        unsigned=_assessio_unsigned,
        stale=lambda url: _assessio_valid(url, timestamp=NOW - 301),
        describe=_assessio_describe,
        expected="order-42 MAP",
    ),
    VendorCase(
        name="testpress",
        path="/hooks/testpress",
        verifier=lambda clock, guard: TestpressWebhookVerifier(
            public_key=TESTPRESS_PUBLIC, private_key=TESTPRESS_PRIVATE, replay_guard=guard
        ),
        valid=_testpress_valid,
        tampered=_testpress_tampered,
        unsigned=_testpress_unsigned,
        stale=None,
        describe=_testpress_describe,
        expected="4711 8.50",
    ),
)
"""Every vendor, in a fixed order."""

STALE_CASES = tuple(case for case in CASES if case.stale is not None)
"""The vendors whose scheme carries a timestamp."""
