"""Testpress in plain functions: send a user to the exam, show the result, accept the webhook.

Framework-free on purpose: each "view" takes plain values and returns ``(status, headers, body)``,
so it drops into Django, Flask or anything else (framework adapters come later). Run it as a script
to try the whole flow offline against examkit's fake Testpress.
"""

from __future__ import annotations

from examkit.core.clock import FixedClock
from examkit.core.errors import PayloadError, WebhookVerificationError
from examkit.core.webhook import WebhookRequest
from examkit.testing.testpress import FakeTestpress, sample_exam_webhook_payload, sign_exam_webhook
from examkit.testpress import TestpressAttempts, TestpressWebhookVerifier
from examkit.testpress.webhooks import parse_unverified_attempt_result

PUBLIC_KEY = "example-public-key"
PRIVATE_KEY = "example-private-key"
CLOCK = FixedClock(1_700_000_000)

# In an application: TestpressAttempts.from_env() and TestpressWebhookVerifier.from_env().
ATTEMPTS = TestpressAttempts(public_key=PUBLIC_KEY, secret=PRIVATE_KEY, clock=CLOCK)
VERIFIER = TestpressWebhookVerifier(public_key=PUBLIC_KEY, private_key=PRIVATE_KEY)


def start_exam_view(
    exam_url: str, email: str, first_name: str, order_id: str
) -> tuple[int, dict[str, str], str]:
    """Answer with a page that posts the user to the exam (one line of examkit)."""
    form = ATTEMPTS.create_attempt(
        exam_url=exam_url,
        email=email,
        first_name=first_name,
        institute_attempt_id=order_id,
        surl="https://institute.example/testpress/done",
    )
    return (
        200,
        {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
        form.to_html(),
    )


def exam_done_view(query_string: str) -> tuple[int, dict[str, str], str]:
    """Show the user their result (unverified: display only; the webhook is authoritative)."""
    result = parse_unverified_attempt_result(query_string)
    return (
        200,
        {"Content-Type": "text/plain"},
        f"Thanks {result.first_name}: {result.status} (pending confirmation)",
    )


def exam_webhook_view(body: bytes) -> tuple[int, dict[str, str], str]:
    """Verify the exam webhook from the raw body and record the authenticated score."""
    try:
        event = VERIFIER.verify(WebhookRequest(body=body))
    except WebhookVerificationError:
        return 400, {}, "rejected"
    except PayloadError:
        return 422, {}, "malformed"
    # Only event.authenticated_fields are covered by the hash: attempt_id, counts, score, ...
    return 200, {}, f"attempt {event.attempt_id}: score {event.score} ({event.percentage}%)"


def main() -> None:
    fake = FakeTestpress(public_key=PUBLIC_KEY, secret=PRIVATE_KEY, clock=CLOCK)
    status, _, page = start_exam_view(fake.exam_url, "ana+1@example.com", "Ana María", "order/7")
    print("start view:", status, f"{len(page)} bytes of HTML")
    form = ATTEMPTS.create_attempt(
        exam_url=fake.exam_url,
        email="ana+1@example.com",
        first_name="Ana María",
        institute_attempt_id="order/7",
        surl="https://institute.example/testpress/done",
    )
    answer = fake.session().post(form.url, data=dict(form.fields), allow_redirects=False, timeout=5)
    print("fake exam answered:", answer.status_code)
    query = answer.headers["Location"].split("?", 1)[1]
    print("done view:", exam_done_view(query)[2])
    body = sign_exam_webhook(sample_exam_webhook_payload(public_key=PUBLIC_KEY), private_key=PRIVATE_KEY)
    print("webhook view:", exam_webhook_view(body))
    print("forged webhook:", exam_webhook_view(body.replace(b'"score":"7.00"', b'"score":"9.00"')))


if __name__ == "__main__":
    main()
