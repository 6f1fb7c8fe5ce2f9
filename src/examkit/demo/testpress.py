"""Demo section: Testpress create-attempt form, completion response and exam webhook, offline."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from examkit.core.clock import FixedClock
from examkit.core.errors import ExamkitError, SignatureMismatchError
from examkit.core.webhook import WebhookRequest
from examkit.demo import DemoOutput
from examkit.testing.testpress import FakeTestpress, sample_exam_webhook_payload, sign_exam_webhook
from examkit.testpress import (
    CompletionHmacScheme,
    TestpressAttempts,
    TestpressCompletionVerifier,
    TestpressWebhookVerifier,
)
from examkit.testpress.webhooks import parse_unverified_attempt_result

__all__: list[str] = []  # run by examkit.demo.run; the demo has no public face of its own

_PUBLIC = "demo-public-key"
_PRIVATE = "demo-private-key"


def run(out: DemoOutput) -> None:
    """Build a redirect form, submit it to the fake exam, read the result, verify a webhook."""
    out.section("testpress: create an attempt by HMAC, completion response, exam webhook")
    clock = FixedClock(1_700_000_000)
    scheme = CompletionHmacScheme(fields=("attempt_id", "institute_attempt_id", "status", "score"))
    fake = FakeTestpress(public_key=_PUBLIC, secret=_PRIVATE, clock=clock, completion_scheme=scheme)
    attempts = TestpressAttempts(public_key=_PUBLIC, secret=_PRIVATE, clock=clock)

    form = attempts.create_attempt(
        exam_url=fake.exam_url,
        email="zoë+exam@example.com",
        first_name="Zoë Anne",
        institute_attempt_id="order/42",
        surl="https://institute.example/testpress/done",
    )
    out.step("signed a create-attempt form (HMAC-SHA256, percent-encoding PYTHON_QUOTE)")
    out.detail(f"hmac:       {form.fields['hmac']}\nexpires_at: {form.expires_at.isoformat()}")
    page = form.to_html()
    out.expect("<form" in page and 'value="Zoë Anne"' in page, "rendered a self-submitting HTML form")

    session = fake.session()
    answer = session.post(form.url, data=dict(form.fields), allow_redirects=False, timeout=5)
    out.expect(answer.status_code == 302, "the fake exam accepted the form and redirected to surl")
    location = answer.headers["Location"]
    out.detail(location[:100] + "...")

    query = urlsplit(location).query
    verified = TestpressCompletionVerifier(scheme=scheme, secret=_PRIVATE).verify(query)
    out.expect(verified.verified, "the completion response verified with an explicit scheme")
    out.detail(f"status={verified.status} score={verified.score} rank={verified.rank}")
    unverified = parse_unverified_attempt_result(query)
    out.expect(
        not unverified.verified,
        "without a scheme, the result is read only on purpose and says unverified",
    )

    clock.advance(31 * 60)
    late = session.post(form.url, data=dict(form.fields), allow_redirects=False, timeout=5)
    out.expect(late.status_code == 403, "the same form 31 minutes later is refused (30-minute validity)")

    verifier = TestpressWebhookVerifier(public_key=_PUBLIC, private_key=_PRIVATE)
    body = sign_exam_webhook(
        sample_exam_webhook_payload(public_key=_PUBLIC, institute_attempt_id="order/42"),
        private_key=_PRIVATE,
    )
    event = verifier.verify(WebhookRequest(body=body))
    out.expect(event.score == event.percentage / 10, "verified an exam webhook (HMAC-SHA512)")
    out.detail(f"attempt {event.attempt_id} {event.attempt_state}: score {event.score}, {event.percentage}%")
    out.detail("hashed fields: " + ", ".join(event.authenticated_fields))

    data = json.loads(body)
    data["score"] = "10.00"
    try:
        verifier.verify(WebhookRequest(body=json.dumps(data).encode()))
    except SignatureMismatchError as exc:
        out.step("a changed score is rejected")
        out.detail(f"{type(exc).__name__}: {exc}")
    else:
        out.expect(False, "a changed score is rejected")

    data = json.loads(body)
    data["email"] = "someone.else@example.com"
    try:
        changed = verifier.verify(WebhookRequest(body=json.dumps(data).encode()))
    except ExamkitError:
        out.expect(False, "a changed e-mail still verifies (it is not hashed)")
    else:
        out.expect(
            not changed.is_authenticated("email"),
            "a changed e-mail still verifies, and the event says e-mail is not authenticated",
        )
