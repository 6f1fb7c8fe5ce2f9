"""Demo section: Assessio (signed link orders against the fake, results webhook verification)."""

from __future__ import annotations

from examkit.assessio import (
    AssessioClient,
    AssessioWebhookVerifier,
    AssessmentSubmittedEvent,
    AssessmentType,
    PersonDetails,
    UnknownEvent,
    signature_header,
)
from examkit.assessio.webhooks import verify_signature_header
from examkit.core.clock import FixedClock
from examkit.core.errors import (
    AuthenticationError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
    ValidationError,
)
from examkit.core.webhook import WebhookRequest
from examkit.demo import DemoOutput
from examkit.testing.assessio import FakeAssessio, assessment_submitted_webhook

__all__: list[str] = []  # run by examkit.demo.run; the demo has no public face of its own

_PROVIDER_KEY = "demo-provider-key"
_SECRET = "demo-integrator-secret"  # noqa: S105 - a demo value, not a credential
_API_KEY = "demo-integrator-api-key"
_NOW = 1_700_000_000


def run(out: DemoOutput) -> None:
    """Order an assessment link from the fake, then verify a results webhook."""
    out.section("assessio: signed assessment-link orders and the results webhook")
    clock = FixedClock(_NOW)
    _signing(out, clock)
    _orders(out, clock)
    _webhooks(out, clock)


def _signing(out: DemoOutput, clock: FixedClock) -> None:

    header = signature_header(secret=_SECRET, body=b"{}", timestamp=_NOW)
    out.step("signed the body '{}' the way the vendor's Java example does (HMAC-SHA256 of 't.body')")
    out.detail(f"Signature: {header}")
    verify_signature_header(secret=_SECRET, body=b"{}", header=header, clock=clock)
    out.step("the Signature header verifies, within the 300 s window")
    clock.advance(301)
    try:
        verify_signature_header(secret=_SECRET, body=b"{}", header=header, clock=clock)
    except TimestampOutsideToleranceError as exc:
        out.step("301 s later the same header is refused")
        out.detail(f"{type(exc).__name__}: {exc}")
    else:
        out.expect(False, "a stale Signature header is refused")
    clock.set(_NOW)


def _orders(out: DemoOutput, clock: FixedClock) -> None:
    fake = FakeAssessio(provider_key=_PROVIDER_KEY, integrator_secret=_SECRET, clock=clock)
    client = AssessioClient(
        provider_key=_PROVIDER_KEY,
        integrator_secret=_SECRET,
        environment="sandbox",
        session=fake.session(),
        clock=clock,
    )
    person = PersonDetails(locale="en-US", email="ada@example.com", first_name="Ada", last_name="Lovelace")
    result = client.order_assessment_link(
        assessment_type=AssessmentType.MAP,
        order_reference_id="demo-order-1",
        webhook_callback_url="https://hr.example.com/assessio/webhook",
        redirect_url="https://hr.example.com/assessment-done",
        person=person,
    )
    sent = fake.requests[-1]
    out.expect(
        result.link is not None and sent.body == result.request_body,
        "ordered a MAP link from the fake sandbox; the signed bytes are exactly the bytes sent",
    )
    out.detail(f"link: {result.link}\nbody: {result.request_body.decode()}")
    out.detail(f"provider-key header sent, Signature: {sent.headers['Signature']}")
    out.expect(len(fake.requests) == 1, "one POST, never retried")

    try:
        client.order_assessment_link(
            assessment_type="MAP",
            order_reference_id="demo-order-2",
            webhook_callback_url="/relative/hook",
            redirect_url="https://hr.example.com/done",
            person=person,
        )
    except ValidationError as exc:
        out.step("a relative webhook URL is refused before anything is sent")
        out.detail(f"{type(exc).__name__}: {exc}")
    else:
        out.expect(False, "a relative webhook URL is refused")
    out.expect(len(fake.requests) == 1, "nothing was sent for the invalid order")

    wrong = AssessioClient(
        provider_key=_PROVIDER_KEY,
        integrator_secret="not-the-secret",  # noqa: S106 - a demo value
        session=fake.session(),
        clock=clock,
    )
    try:
        wrong.order_assessment_link(
            assessment_type="MATCH_V_V2",
            order_reference_id="demo-order-3",
            webhook_callback_url="https://hr.example.com/assessio/webhook",
            redirect_url="https://hr.example.com/done",
            person=person,
        )
    except AuthenticationError as exc:
        out.step("the fake refuses a request signed with the wrong integrator secret (401)")
        out.detail(f"{type(exc).__name__}: {exc}")
    else:
        out.expect(False, "a wrongly signed order is refused")


def _webhooks(out: DemoOutput, clock: FixedClock) -> None:
    verifier = AssessioWebhookVerifier(api_key=[_API_KEY, "previous-api-key"])
    request = assessment_submitted_webhook(api_key=_API_KEY, order_reference_id="demo-order-1")
    event = verifier.verify(request)
    out.expect(
        isinstance(event, AssessmentSubmittedEvent) and event.order_reference_id == "demo-order-1",
        "verified an ASSESSMENT_SUBMITTED webhook (integrator-api-key, two keys during rotation)",
    )
    if isinstance(event, AssessmentSubmittedEvent):
        for score in event.scores:
            subs = ", ".join(f"{s.key}={s.value}" for s in score.sub_scores)
            out.detail(f"{score.type} {score.key} = {score.value} ({subs})")

    forged = assessment_submitted_webhook(api_key="guessed-key", order_reference_id="demo-order-1")
    try:
        verifier.verify(forged)
    except SignatureMismatchError as exc:
        out.step("a webhook with the wrong integrator-api-key is refused")
        out.detail(f"{type(exc).__name__}: {exc}")
    else:
        out.expect(False, "a webhook with the wrong key is refused")

    signed = AssessioWebhookVerifier(api_key=_API_KEY, signature_secret=_SECRET, clock=clock)
    with_signature = assessment_submitted_webhook(
        api_key=_API_KEY, order_reference_id="demo-order-1", signature_secret=_SECRET, clock=clock
    )
    signed.verify(with_signature)
    out.step("optionally, a Signature header on the webhook is checked as well")

    other = WebhookRequest(
        body=b'{"eventType": "ASSESSMENT_EXPIRED", "payload": {"orderReferenceId": "x"}}',
        headers={"integrator-api-key": _API_KEY},
    )
    unknown = verifier.verify(other)
    out.expect(
        isinstance(unknown, UnknownEvent) and unknown.event_type == "ASSESSMENT_EXPIRED",
        "an event type examkit does not know yet parses to UnknownEvent, payload kept",
    )
